"""The stream consumer against a real Redis: groups, acks, reclaim, dead letters, trimming."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from libs.errors import DependencyUnavailable, PermanentError
from libs.messages import ENTRY_FIELD, Envelope, Keys
from libs.streams import Entry, StreamConsumer, StreamGroup, parse_autoclaim
from tests.libs.consumers import envelope, make_consumer


async def run_until(consumer: StreamConsumer, predicate: object, limit_s: float = 10) -> None:
    task = asyncio.create_task(consumer.run())
    try:
        deadline = asyncio.get_running_loop().time() + limit_s
        while not predicate():  # type: ignore[operator]
            if task.done():
                task.result()
            assert asyncio.get_running_loop().time() < deadline, "timed out"
            await asyncio.sleep(0.02)
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 10)


async def test_group_created_idempotently_and_entries_before_it_delivered(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    await redis_client.xadd(keys.inbound, envelope(1))  # written before any group exists
    group = StreamGroup(redis_client, keys.inbound, "orders", "c1")
    await group.ensure_group()
    await group.ensure_group()  # BUSYGROUP ignored
    got = await group.read(count=10, block_ms=100)
    assert [e.envelope().fields["MessageSid"] for e in got] == [f"SM{1:032d}"]


async def test_handled_entries_are_acked_in_order_per_customer(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    for n in range(20):
        await redis_client.xadd(keys.inbound, envelope(n, sender=f"whatsapp:+1555000000{n % 3}"))
    seen: list[tuple[str, str]] = []

    async def handler(entry: Entry, envelope: Envelope) -> None:
        f = entry.envelope().fields
        await asyncio.sleep(0.001)
        seen.append((f["From"], f["MessageSid"]))

    consumer = make_consumer(redis_client, keys, handler)
    await run_until(consumer, lambda: len(seen) == 20)
    for sender in {s for s, _ in seen}:
        sids = [sid for s, sid in seen if s == sender]
        assert sids == sorted(sids)
    pending = await redis_client.xpending(keys.inbound, "orders")
    assert pending["pending"] == 0


async def test_entry_of_dead_consumer_is_reclaimed_and_handled_once(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    group = StreamGroup(redis_client, keys.inbound, "orders", "dead-consumer")
    await group.ensure_group()
    await redis_client.xadd(keys.inbound, envelope(7))
    assert len(await group.read(count=10, block_ms=100)) == 1  # read, never acked: it "died"
    handled: list[str] = []

    async def handler(entry: Entry, envelope: Envelope) -> None:
        handled.append(entry.id)

    consumer = make_consumer(redis_client, keys, handler, name="c2", visibility_timeout_ms=200)
    await run_until(consumer, lambda: len(handled) == 1)
    await asyncio.sleep(0.3)
    assert len(handled) == 1
    assert (await redis_client.xpending(keys.inbound, "orders"))["pending"] == 0


async def test_poison_entry_is_dead_lettered_and_does_not_block_the_rest(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    await redis_client.xadd(keys.inbound, {ENTRY_FIELD: b"{not json"})
    await redis_client.xadd(keys.inbound, envelope(2))
    crashed = await redis_client.xadd(keys.inbound, envelope(3, sender="whatsapp:+15550000009"))
    handled: list[str] = []

    async def handler(entry: Entry, envelope: Envelope) -> None:
        if entry.id == crashed.decode():
            raise RuntimeError("boom")
        handled.append(entry.envelope().fields["MessageSid"])

    consumer = make_consumer(redis_client, keys, handler, visibility_timeout_ms=50, max_deliveries=3)
    dead = keys.dead_letters(keys.inbound)
    letters: list[object] = []

    async def watch() -> None:
        while len(letters) < 2:
            letters[:] = await redis_client.xrange(dead)
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    await run_until(consumer, watcher.done, limit_s=20)
    assert handled == [f"SM{2:032d}"]
    letters = await redis_client.xrange(dead)
    errors = sorted(fields[b"error"].decode().split(":")[0] for _, fields in letters)
    assert errors == ["EnvelopeError", "RuntimeError"]
    assert {fields[b"original_id"].decode() for _, fields in letters} >= {crashed.decode()}
    assert (await redis_client.xpending(keys.inbound, "orders"))["pending"] == 0


async def test_permanent_error_dead_letters_at_once(redis_client: aioredis.Redis, key_prefix: str) -> None:
    keys = Keys(key_prefix)
    await redis_client.xadd(keys.inbound, envelope(1))
    calls = 0

    async def handler(entry: Entry, envelope: Envelope) -> None:
        nonlocal calls
        calls += 1
        raise PermanentError("cannot ever work")

    consumer = make_consumer(redis_client, keys, handler)
    dead = keys.dead_letters(keys.inbound)
    await run_until(consumer, lambda: calls == 1)
    assert await redis_client.xlen(dead) == 1
    assert calls == 1


async def test_dependency_outage_pauses_then_retries_own_pending(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    await redis_client.xadd(keys.inbound, envelope(1))
    attempts = 0

    async def handler(entry: Entry, envelope: Envelope) -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise DependencyUnavailable("database down")

    consumer = make_consumer(redis_client, keys, handler)
    await run_until(consumer, lambda: attempts == 3, limit_s=15)
    await asyncio.sleep(0.2)
    assert (await redis_client.xpending(keys.inbound, "orders"))["pending"] == 0


async def test_trim_never_removes_unacked_entries(redis_client: aioredis.Redis, key_prefix: str) -> None:
    keys = Keys(key_prefix)
    group = StreamGroup(redis_client, keys.inbound, "orders", "c1")
    await group.ensure_group()
    ids = [(await redis_client.xadd(keys.inbound, envelope(n))).decode() for n in range(6)]
    got = await group.read(count=3, block_ms=100)  # 0,1,2 delivered
    await group.ack([got[0].id, got[2].id])  # 1 stays pending; 3..5 never delivered
    await group.trim()
    left = [i.decode() for i, _ in await redis_client.xrange(keys.inbound)]
    assert left == ids[1:]
    await group.ack([got[1].id])
    await group.trim()
    assert [i.decode() for i, _ in await redis_client.xrange(keys.inbound)] == ids[3:]


def test_autoclaim_reply_shapes() -> None:
    fields = {b"e": b"x"}
    six = [b"0-0", [(b"1-0", fields), (None, None)]]
    seven = [b"0-0", [(b"1-0", fields)], [b"2-0"]]
    start, entries, deleted, unnamed = parse_autoclaim(six)
    assert (start, [e.id for e in entries], deleted, unnamed) == ("0-0", ["1-0"], [], True)
    start, entries, deleted, unnamed = parse_autoclaim(seven)
    assert (start, [e.id for e in entries], deleted, unnamed) == ("0-0", ["1-0"], ["2-0"], False)


async def test_reclaim_skips_entries_deleted_while_pending(both_redis: tuple[aioredis.Redis, str]) -> None:
    redis62, prefix = both_redis
    keys = Keys(prefix)
    group = StreamGroup(redis62, keys.inbound, "orders", "dead")
    await group.ensure_group()
    keep = (await redis62.xadd(keys.inbound, envelope(1))).decode()
    gone = (await redis62.xadd(keys.inbound, envelope(2))).decode()
    await group.read(count=10, block_ms=100)
    await redis62.xdel(keys.inbound, gone)
    await asyncio.sleep(0.05)
    claimer = StreamGroup(redis62, keys.inbound, "orders", "alive")
    _, entries = await claimer.autoclaim(min_idle_ms=10, count=10)
    assert [e.id for e in entries] == [keep]
    pending = await redis62.xpending_range(keys.inbound, "orders", min="-", max="+", count=10)
    assert [p["message_id"].decode() for p in pending] == [keep]
