"""The stream consumer through dependency outages: held entries keep their delivery count."""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis

from libs.errors import DependencyUnavailable
from libs.messages import ENTRY_FIELD, Envelope, Keys
from libs.streams import Entry, StreamGroup
from tests.libs.consumers import envelope, eventually, make_consumer, true


async def times_delivered(redis: aioredis.Redis, keys: Keys) -> dict[str, tuple[str, int]]:
    rows: Any = await redis.xpending_range(keys.inbound, "orders", min="-", max="+", count=100)
    return {r["message_id"].decode(): (r["consumer"].decode(), int(r["times_delivered"])) for r in rows}


async def test_an_outage_longer_than_max_deliveries_dead_letters_nothing(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    """Eight failed tries with max_deliveries=3: the entries are held, never counted, then handled."""
    keys = Keys(key_prefix)
    for n in range(3):
        await redis_client.xadd(keys.inbound, envelope(n, sender=f"whatsapp:+1555000000{n}"))
    tries = 0
    handled: list[str] = []
    counts: list[int] = []

    async def handler(entry: Entry, envelope: Envelope) -> None:
        nonlocal tries
        counts.append(entry.deliveries)
        if tries < 8 * 3:
            tries += 1
            raise DependencyUnavailable("database down")
        handled.append(entry.id)

    c = make_consumer(redis_client, keys, handler, "c1", max_deliveries=3, pause_cap_s=0.05)
    task = asyncio.create_task(c.run())
    try:
        await eventually(lambda: true(len(handled) == 3), 20)
    finally:
        c.stop()
        await asyncio.wait_for(task, 10)
    assert set(counts) == {1}
    assert await redis_client.xlen(keys.dead_letters(keys.inbound)) == 0
    assert (await redis_client.xpending(keys.inbound, "orders"))["pending"] == 0


async def test_held_entries_are_not_reclaimed_during_a_pause_longer_than_the_visibility_timeout(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    """A 1.5 s pause (Retry-After) with a 300 ms visibility timeout: no other consumer takes them."""
    keys = Keys(key_prefix)
    await StreamGroup(redis_client, keys.inbound, "orders", "c1").ensure_group()
    await redis_client.xadd(keys.inbound, envelope(1))
    seen: list[tuple[str, int]] = []

    async def first(entry: Entry, envelope: Envelope) -> None:
        seen.append(("c1", entry.deliveries))
        if len(seen) == 1:
            raise DependencyUnavailable("Twilio asked us to wait", retry_after=1.5)

    async def second(entry: Entry, envelope: Envelope) -> None:
        seen.append(("c2", entry.deliveries))

    c1 = make_consumer(redis_client, keys, first, "c1", visibility_timeout_ms=300)
    c2 = make_consumer(redis_client, keys, second, "c2", visibility_timeout_ms=300)
    t1 = asyncio.create_task(c1.run())
    await eventually(lambda: true(bool(seen)), 5)
    t2 = asyncio.create_task(c2.run())
    try:
        await eventually(lambda: true(len(seen) >= 2), 10)
        await asyncio.sleep(0.5)
    finally:
        c1.stop()
        c2.stop()
        await asyncio.wait_for(asyncio.gather(t1, t2), 10)
    assert seen == [("c1", 1), ("c1", 1)]
    assert await times_delivered(redis_client, keys) == {}


async def test_a_lane_still_running_is_awaited_before_a_failure_is_raised(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    """A dead-letter write failing in one lane does not leave another lane handling in the background."""
    keys = Keys(key_prefix)
    await redis_client.xadd(keys.inbound, {ENTRY_FIELD: b"{not json"})
    slow_id: str = (await redis_client.xadd(keys.inbound, envelope(2, "whatsapp:+15550000002"))).decode()  # type: ignore[union-attr]
    running = 0
    overlaps = 0
    handled: list[str] = []

    async def handler(entry: Entry, envelope: Envelope) -> None:
        nonlocal running, overlaps
        running += 1
        overlaps += running > 1
        await asyncio.sleep(0.3)
        running -= 1
        handled.append(entry.id)

    c = make_consumer(redis_client, keys, handler, "c1")
    real_dead_letter = c.group_client.dead_letter
    failures = 0

    async def flaky_dead_letter(entry: Entry, error: str, dead_stream: str) -> None:
        nonlocal failures
        if failures == 0:
            failures += 1
            raise ConnectionError("connection lost while dead-lettering")
        await real_dead_letter(entry, error, dead_stream)

    c.group_client.dead_letter = flaky_dead_letter  # type: ignore[method-assign]
    task = asyncio.create_task(c.run())
    try:

        async def settled() -> bool:
            return bool(handled) and int(await redis_client.xlen(keys.dead_letters(keys.inbound))) == 1

        await eventually(settled, 15)
        await asyncio.sleep(0.5)
    finally:
        c.stop()
        await asyncio.wait_for(task, 10)
    assert overlaps == 0
    assert slow_id in handled
    assert (await redis_client.xpending(keys.inbound, "orders"))["pending"] == 0
