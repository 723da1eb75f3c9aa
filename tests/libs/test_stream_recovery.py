"""Fast recovery and fairness of the stream consumer: a dead consumer's entries are taken over
within its lease, never while it lives; one key's backlog does not hold the others; Redis
restarted empty is carried through with one warning."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from libs.errors import RetryLater
from libs.messages import Envelope, Keys
from libs.streams import Entry, StreamConsumer, StreamGroup, lease_key
from tests.libs.consumers import envelope, eventually, make_consumer, true

A, B = "whatsapp:+15550000001", "whatsapp:+15550000002"


async def running(*consumers: StreamConsumer) -> list[asyncio.Task[None]]:
    return [asyncio.create_task(c.run()) for c in consumers]


async def consume_until(
    consumer: StreamConsumer, done: Callable[[], bool], *, linger_s: float = 0.0, timeout_s: float = 10
) -> None:
    """Run `consumer` until `done()`, then `linger_s` more (room for a second handling to show),
    then stop it."""
    tasks = await running(consumer)
    try:
        await eventually(lambda: true(done()), timeout_s=timeout_s)
        await asyncio.sleep(linger_s)
    finally:
        await stopped([consumer], tasks)


async def stopped(consumers: list[StreamConsumer], tasks: list[asyncio.Task[None]]) -> None:
    for c in consumers:
        c.stop()
    await asyncio.wait_for(asyncio.gather(*tasks), 15)


async def test_a_dead_consumers_entries_are_taken_over_within_its_lease(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    """A consumer read two entries and died (kill -9): no lease, so another takes them at once,
    long before the 60 s visibility timeout."""
    keys = Keys(key_prefix)
    dead = StreamGroup(redis_client, keys.inbound, "orders", "orders-dead")
    await dead.ensure_group()
    await redis_client.xadd(keys.inbound, envelope(1))
    await redis_client.xadd(keys.inbound, envelope(2, B))
    assert len(await dead.read(count=10, block_ms=100)) == 2
    await redis_client.set(lease_key(keys.inbound, "orders", "orders-dead"), "x", px=400)  # expires
    handled: list[tuple[str, int]] = []

    async def handler(entry: Entry, envelope: Envelope) -> None:
        handled.append((envelope.fields["MessageSid"][-1], entry.deliveries))

    c = make_consumer(redis_client, keys, handler, "orders-new", lease_ttl_ms=600)
    await consume_until(c, lambda: len(handled) == 2, linger_s=0.3)
    assert sorted(handled) == [("1", 2), ("2", 2)]  # the takeover counts as a delivery
    assert (await redis_client.xpending(keys.inbound, "orders"))["pending"] == 0


async def test_entries_of_a_live_consumer_are_never_taken_even_past_the_visibility_timeout(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    """A handler running four times the visibility timeout and three times the lease: the owner
    beats, so the other consumer takes nothing and the entry is handled once."""
    keys = Keys(key_prefix)
    await StreamGroup(redis_client, keys.inbound, "orders", "slow").ensure_group()
    await redis_client.xadd(keys.inbound, envelope(1))
    handled: list[str] = []

    async def slow(entry: Entry, envelope: Envelope) -> None:
        await asyncio.sleep(1.2)
        handled.append("slow")

    async def other(entry: Entry, envelope: Envelope) -> None:
        handled.append("other")

    first = make_consumer(redis_client, keys, slow, "slow", visibility_timeout_ms=300, lease_ttl_ms=400)
    tasks = await running(first)
    await eventually(lambda: true(first.in_hand == 1))
    second = make_consumer(redis_client, keys, other, "other", visibility_timeout_ms=300, lease_ttl_ms=400)
    tasks += await running(second)
    try:
        await eventually(lambda: true(bool(handled)))
        await asyncio.sleep(0.5)
    finally:
        await stopped([first, second], tasks)
    assert handled == ["slow"]


async def test_a_stopped_consumer_hands_over_what_it_had_not_started_at_once(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    await StreamGroup(redis_client, keys.inbound, "orders", "leaving").ensure_group()
    for n in range(4):
        await redis_client.xadd(keys.inbound, envelope(n))
    handled: list[tuple[str, str]] = []

    def handler_of(name: str) -> Callable[[Entry, Envelope], Awaitable[None]]:
        async def handler(entry: Entry, envelope: Envelope) -> None:
            await asyncio.sleep(0.2 if name == "leaving" else 0)
            handled.append((name, envelope.fields["MessageSid"][-1]))

        return handler

    # A lease of a minute: only the release at stop lets the other consumer in this soon.
    leaving = make_consumer(redis_client, keys, handler_of("leaving"), "leaving", lease_ttl_ms=60_000)
    staying = make_consumer(redis_client, keys, handler_of("staying"), "staying", lease_ttl_ms=60_000)
    [leaving_task] = await running(leaving)
    await eventually(lambda: true(leaving.in_hand == 4))
    tasks = await running(staying)
    leaving.stop()
    await asyncio.wait_for(leaving_task, 10)
    try:
        await eventually(lambda: true(len(handled) == 4), timeout_s=5)
    finally:
        await stopped([staying], tasks)
    assert [sid for _, sid in handled] == ["0", "1", "2", "3"]
    assert handled[0] == ("leaving", "0") and handled[-1][0] == "staying"


async def test_one_customers_backlog_does_not_hold_the_others(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    """300 entries of one customer, then one of another: the other's is handled long before the
    backlog is through (a consumer that waited for whole batches handled it after ~256)."""
    keys = Keys(key_prefix)
    for n in range(300):
        await redis_client.xadd(keys.inbound, envelope(n, A))
    await redis_client.xadd(keys.inbound, envelope(999, B))
    order: list[str] = []

    async def handler(entry: Entry, envelope: Envelope) -> None:
        sender = envelope.fields["From"]
        if sender == A:
            await asyncio.sleep(0.005)
        order.append(sender)

    c = make_consumer(redis_client, keys, handler, "c1")
    await consume_until(c, lambda: len(order) == 301, timeout_s=30)
    assert order.index(B) < 60
    assert (await redis_client.xpending(keys.inbound, "orders"))["pending"] == 0


async def test_retry_later_waits_in_its_lane_only_and_counts_no_delivery(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    await redis_client.xadd(keys.inbound, envelope(1, A))
    await redis_client.xadd(keys.inbound, envelope(2, A))
    await redis_client.xadd(keys.inbound, envelope(3, B))
    tries: dict[str, list[int]] = {}
    order: list[str] = []

    async def handler(entry: Entry, envelope: Envelope) -> None:
        sid = envelope.fields["MessageSid"][-1]
        tries.setdefault(sid, []).append(entry.deliveries)
        if sid == "1" and len(tries[sid]) < 3:
            raise RetryLater("its turn has not come", delay_s=0.2)
        order.append(sid)

    c = make_consumer(redis_client, keys, handler, "c1")
    await consume_until(c, lambda: len(order) == 3)
    assert order == ["3", "1", "2"]  # B went on; A's second entry waited behind its first
    assert tries == {"1": [1, 1, 1], "2": [1], "3": [1]}


async def test_redis_restarted_empty_is_carried_through_with_one_warning(
    redis_client: aioredis.Redis, key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    keys = Keys(key_prefix)
    handled: list[str] = []

    async def handler(entry: Entry, envelope: Envelope) -> None:
        handled.append(envelope.fields["MessageSid"][-1])

    c = make_consumer(redis_client, keys, handler, "c1")
    tasks = await running(c)
    try:
        await redis_client.xadd(keys.inbound, envelope(1))
        await eventually(lambda: true(handled == ["1"]))
        caplog.clear()
        caplog.set_level(logging.INFO, logger="libs.streams")
        # Everything under the prefix is gone at once: stream, group, lease, epoch.
        await redis_client.delete(*[k async for k in redis_client.scan_iter(match=f"{key_prefix}:*")])
        await asyncio.sleep(0.5)
        await redis_client.xadd(keys.inbound, envelope(2))
        await eventually(lambda: true(handled == ["1", "2"]))
        await asyncio.sleep(0.3)
    finally:
        await stopped([c], tasks)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "Redis lost its data (restarted empty?): the consumer group, pending entries and the "
        "notifier's send states and customer cursors are gone; carrying on from a new start"
    ]


async def test_an_older_entry_taken_over_goes_before_the_lane_head_waiting_for_it(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    """A customer's second entry waits for the first (RetryLater), which a dead consumer held:
    once taken over it joins the lane in stream order, ahead of the waiting one."""
    keys = Keys(key_prefix)
    dead = StreamGroup(redis_client, keys.inbound, "orders", "orders-dead")
    await dead.ensure_group()
    await redis_client.xadd(keys.inbound, envelope(1))
    assert len(await dead.read(count=10, block_ms=100)) == 1
    await redis_client.set(lease_key(keys.inbound, "orders", "orders-dead"), "x", px=700)
    await redis_client.xadd(keys.inbound, envelope(2))
    order: list[str] = []

    async def handler(entry: Entry, envelope: Envelope) -> None:
        sid = envelope.fields["MessageSid"][-1]
        if sid == "2" and "1" not in order:
            raise RetryLater("waits for 1", delay_s=0.05)
        order.append(sid)

    c = make_consumer(redis_client, keys, handler, "orders-new", lease_ttl_ms=600)
    await consume_until(c, lambda: len(order) == 2)
    assert order == ["1", "2"]


async def test_take_over_and_hand_over_on_both_redis_versions(both_redis: tuple[aioredis.Redis, str]) -> None:
    """XCLAIM's replies differ for an entry deleted while pending (6.2 claims it with no fields,
    7+ drops it); a taken-over consumer's deleted entry is acked, the others handled once."""
    redis, prefix = both_redis
    keys = Keys(prefix)
    dead = StreamGroup(redis, keys.inbound, "orders", "orders-dead")
    await dead.ensure_group()
    ids = [
        (await redis.xadd(keys.inbound, envelope(n, f"whatsapp:+1555000000{n}"))).decode() for n in range(3)
    ]
    assert len(await dead.read(count=10, block_ms=100)) == 3
    await redis.xdel(keys.inbound, ids[1])
    # What a stopping consumer does for what it had not started: idle at once, no delivery counted.
    assert await dead.hand_over(idle_ms=60_000) == 3
    handled: list[tuple[str, int]] = []

    async def handler(entry: Entry, envelope: Envelope) -> None:
        handled.append((entry.id, entry.deliveries))

    c = make_consumer(redis, keys, handler, "orders-new", lease_ttl_ms=60_000)
    await consume_until(c, lambda: len(handled) == 2, linger_s=0.3)
    assert sorted(handled) == [(ids[0], 2), (ids[2], 2)]
    assert (await redis.xpending(keys.inbound, "orders"))["pending"] == 0
