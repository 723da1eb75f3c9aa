"""Building stream consumers and entries for the stream tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from libs.messages import ENTRY_FIELD, INBOUND_MESSAGE, Envelope, Keys
from libs.streams import ConsumerConfig, Entry, StreamConsumer


def envelope(n: int, sender: str = "whatsapp:+15550000001") -> dict[Any, Any]:
    """The fields of an inbound-message entry from `sender` with MessageSid number `n`."""
    env = Envelope(kind=INBOUND_MESSAGE, fields={"MessageSid": f"SM{n:032d}", "From": sender})
    return {ENTRY_FIELD: env.encode()}


def make_consumer(
    redis: aioredis.Redis,
    keys: Keys,
    handler: Callable[[Entry, Envelope], Awaitable[None]],
    name: str = "c1",
    **config: Any,
) -> StreamConsumer:
    """A consumer of the inbound stream in group `orders`, one lane per `From`, with short
    blocking reads and frequent maintenance and takeover checks (overridable in `config`)."""
    tuning: dict[str, Any] = {"block_ms": 100, "maintenance_interval_s": 0.1, "takeover_interval_s": 0.1}
    return StreamConsumer(
        redis=redis,
        stream=keys.inbound,
        group="orders",
        consumer=name,
        handler=handler,
        dead_letter_stream=keys.dead_letters(keys.inbound),
        config=ConsumerConfig(**{**tuning, **config}),
        key_of=lambda _entry, envelope: envelope.fields["From"],
    )


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout_s: float = 10, poll_s: float = 0.02
) -> None:
    """Poll `check()` until it is true; fail after `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        while True:
            if await check():
                return
            await asyncio.sleep(poll_s)


async def true(value: bool) -> bool:
    """`value`, awaitable (for `eventually(lambda: true(...))`)."""
    return value
