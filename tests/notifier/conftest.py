"""Fixtures for notifier tests: the sandbox as Twilio, real Redis, notifier runtimes in-process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import redis.asyncio as aioredis

from libs import metrics
from libs.messages import ENTRY_FIELD, NOTIFIER_GROUP, REPLY, SEND_RESULT, Envelope, Keys
from services.notifier.app import Runtime
from services.notifier.settings import NotifierSettings
from tests.sandbox.harness import ACCOUNT_SID, AUTH_TOKEN, SandboxHandle, running_sandbox

BOT = "whatsapp:+15557650000"


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxHandle]:
    async with running_sandbox() as handle:
        yield handle


@pytest.fixture
def keys(key_prefix: str) -> Keys:
    return Keys(key_prefix)


@pytest.fixture
def make_settings(redis_url: str, key_prefix: str, sandbox: SandboxHandle) -> Callable[..., NotifierSettings]:
    """Notifier settings pointing at the sandbox and this test's key prefix, with fast knobs."""

    def make(**env: str) -> NotifierSettings:
        base = {
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": key_prefix,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_WHATSAPP_FROM": BOT,
            "TWILIO_API_BASE_URL": sandbox.url,
            "TWILIO_SEND_RATE_PER_SECOND": "1000",
            "TWILIO_RETRY_BASE_SECONDS": "0.02",
            "TWILIO_RETRY_CAP_SECONDS": "0.2",
            "TWILIO_CONNECT_TIMEOUT_SECONDS": "1",
            "TWILIO_READ_TIMEOUT_SECONDS": "2",
            "TWILIO_RECONCILE_SETTLE_SECONDS": "0.3",
            "STREAM_VISIBILITY_TIMEOUT_MS": "20000",
            "NOTIFIER_HANDLER_BUDGET_SECONDS": "10",
            "STREAM_BLOCK_MS": "100",
            "SHUTDOWN_GRACE_SECONDS": "5",
        }
        base.update(env)
        return NotifierSettings.from_env(base)

    return make


@pytest.fixture
async def start_notifier() -> AsyncIterator[Callable[[NotifierSettings], Awaitable[Runtime]]]:
    """Start notifier runtimes (each its own consumer); all are stopped at teardown."""
    started: list[Runtime] = []

    async def start(settings: NotifierSettings) -> Runtime:
        runtime = Runtime.build(settings)
        runtime.start()
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        await runtime.stop()


async def publish_reply(
    redis: aioredis.Redis,
    keys: Keys,
    reply_id: str,
    to: str,
    seq: int,
    body: str | None = None,
    **fields: str,
) -> None:
    """XADD a `reply` envelope to the outbound stream, as orders' relay does."""
    data = {"reply_id": reply_id, "To": to, "seq": str(seq), **fields}
    if body is not None:
        data["Body"] = body
    envelope = Envelope(kind=REPLY, fields=data, id=f"reply-{reply_id}")
    await redis.xadd(keys.outbound, {ENTRY_FIELD: envelope.encode()})


async def send_results(redis: aioredis.Redis, keys: Keys) -> list[dict[str, str]]:
    """The send_result envelopes' fields on the inbound stream, oldest first."""
    found = []
    for _id, fields in await redis.xrange(keys.inbound):
        envelope = Envelope.decode(fields[ENTRY_FIELD])
        assert envelope.kind == SEND_RESULT
        found.append(envelope.fields)
    return found


async def wait_for(check: Callable[[], Awaitable[Any]], within_s: float = 10.0, what: str = "") -> Any:
    """Poll `check()` until it returns a truthy value; fail after `within_s` seconds."""
    deadline = time.monotonic() + within_s
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what or check}"
        await asyncio.sleep(0.05)


async def pending(redis: aioredis.Redis, keys: Keys) -> int:
    """Entries delivered to the notifier group and not acked."""
    summary = await redis.xpending(keys.outbound, NOTIFIER_GROUP)
    return int(summary["pending"])


def sends(outcome: str, code: str = "") -> float:
    """wa_twilio_sends_total{outcome, error_code} in this process so far."""
    value = metrics.REGISTRY.get_sample_value(
        "wa_twilio_sends_total", {"outcome": outcome, "error_code": code}
    )
    return value or 0.0


def reconciliations(outcome: str) -> float:
    """wa_twilio_reconciliations_total{outcome} in this process so far."""
    value = metrics.REGISTRY.get_sample_value("wa_twilio_reconciliations_total", {"outcome": outcome})
    return value or 0.0


async def results_for(redis: aioredis.Redis, keys: Keys, n: int = 1) -> list[dict[str, str]]:
    """Wait for at least `n` send results on the inbound stream; returns them all."""

    async def enough() -> list[dict[str, str]] | None:
        found = await send_results(redis, keys)
        return found if len(found) >= n else None

    found: list[dict[str, str]] = await wait_for(enough, what=f"{n} send results")
    return found


@dataclass
class Bench:
    """One notifier test's world: the sandbox as Twilio, Redis under the test's prefix, and
    notifier runtimes started on demand (stopped at teardown)."""

    sandbox: SandboxHandle
    redis: aioredis.Redis
    keys: Keys
    settings: Callable[..., NotifierSettings]
    start_runtime: Callable[[NotifierSettings], Awaitable[Runtime]]

    async def start(self, **env: str) -> Runtime:
        """A notifier with the test settings, `env` overriding them."""
        return await self.start_runtime(self.settings(**env))

    async def publish(self, reply_id: str, to: str, seq: int, body: str | None = None, **fields: str) -> None:
        """A reply on the outbound stream, as orders' relay writes it."""
        await publish_reply(self.redis, self.keys, reply_id, to, seq, body, **fields)

    async def results(self, n: int = 1) -> list[dict[str, str]]:
        """The first `n` (or more) send results, once there are that many."""
        return await results_for(self.redis, self.keys, n)


@pytest.fixture
def bench(
    sandbox: SandboxHandle,
    redis_client: aioredis.Redis,
    keys: Keys,
    make_settings: Callable[..., NotifierSettings],
    start_notifier: Callable[[NotifierSettings], Awaitable[Runtime]],
) -> Bench:
    return Bench(sandbox, redis_client, keys, make_settings, start_notifier)
