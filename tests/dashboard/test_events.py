"""The live path without a browser, on real PostgreSQL and Redis: changes reach the events stream
only after commit, one reader fans out to every subscriber, and a subscriber resuming from a
`Last-Event-ID` gets every event it missed, in order, then the live ones, with no duplicates."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from libs.messages import Keys
from services.orders.ordering import lifecycle
from services.orders.storage.pool import Conn
from services.orders.web.dashboard.events import EventHub, EventRelay, Outgoing, StreamEvent, follow
from tests.orders.chat import DirectChat, direct_chat


async def place_order(chat: DirectChat, customer: str) -> int:
    """Order two margherita for pickup through the real conversation; returns the order number."""
    for line in ("2 margherita", "checkout", "pickup", "confirm"):
        await chat.say(line, customer=customer)
    rows = await chat.sql(
        "SELECT o.number FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.address = %s",
        customer,
    )
    return int(rows[-1]["number"])


async def stream_kinds(redis: aioredis.Redis, keys: Keys) -> list[tuple[str, str]]:
    entries = await redis.xrange(keys.events())
    return [(f[b"kind"].decode(), f.get(b"order_id", b"").decode()) for _, f in entries]


async def test_order_changes_reach_the_stream_only_after_commit(
    database_url: str, redis_client: aioredis.Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    async with direct_chat(database_url) as chat:
        relay = EventRelay(chat.pool, redis_client, keys, database_url=database_url, slow_s=5)
        number = await place_order(chat, "whatsapp:+15550001001")
        assert await relay.publish_once() >= 1
        (order_id,) = [r["id"] for r in await chat.sql("SELECT id FROM orders WHERE number = %s", number)]
        assert ("order", str(order_id)) in await stream_kinds(redis_client, keys)
        before = len(await redis_client.xrange(keys.events()))

        store = await chat.sql("SELECT id, name FROM stores")
        conn: Conn
        async with chat.pool.connection() as conn, conn.transaction():
            await lifecycle.transition(
                conn,
                store_id=store[0]["id"],
                store_name=store[0]["name"],
                templates={},
                number=number,
                to="confirmed",
                actor="staff:test",
                reason="",
                now=dt.datetime.now(dt.UTC),
            )
            # Inside the transaction: the event row exists for this transaction only.
            assert await relay.publish_once() == 0
        assert await relay.publish_once() == 1
        entries = await redis_client.xrange(keys.events())
        assert len(entries) == before + 1
        assert entries[-1][1] == {
            b"kind": b"order",
            b"order_id": str(order_id).encode(),
            b"customer_id": entries[-1][1][b"customer_id"],
        }
        # Published rows are gone from the table: nothing is published twice.
        assert await relay.publish_once() == 0
        assert await chat.sql("SELECT count(*) AS n FROM staff_events") == [{"n": 0}]


async def test_the_relay_wakes_on_commit_without_being_told(
    database_url: str, redis_client: aioredis.Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    async with direct_chat(database_url) as chat:
        relay = EventRelay(chat.pool, redis_client, keys, database_url=database_url, slow_s=5)
        task = asyncio.create_task(relay.run())
        try:
            await asyncio.sleep(0.5)  # listening
            await chat.sql("UPDATE items SET available = false WHERE code = 'tiramisu'")
            started = asyncio.get_running_loop().time()
            while ("menu", "") not in await stream_kinds(redis_client, keys):
                assert asyncio.get_running_loop().time() - started < 0.9, "not woken by NOTIFY"
                await asyncio.sleep(0.02)
        finally:
            relay.stop()
            await asyncio.wait_for(task, 5)


def fake_render(event: StreamEvent) -> Outgoing:
    return Outgoing(event.id, event.kind, {"order_id": event.order_id})


@pytest.fixture
async def hub(redis_client: aioredis.Redis, key_prefix: str) -> AsyncIterator[EventHub]:
    async def render(event: StreamEvent) -> Outgoing:
        return fake_render(event)

    h = EventHub(redis_client, Keys(key_prefix), render)
    task = asyncio.create_task(h.run())
    await asyncio.sleep(0.1)
    yield h
    h.stop()
    await asyncio.wait_for(task, 5)


async def add(redis: aioredis.Redis, hub: EventHub, order_id: int, kind: str = "order") -> str:
    eid = await redis.xadd(hub.stream, {"kind": kind, "order_id": str(order_id)})
    return eid.decode() if isinstance(eid, bytes) else str(eid)


async def take(gen: AsyncIterator[Outgoing], n: int) -> list[Outgoing]:
    return [await asyncio.wait_for(gen.__anext__(), 5) for _ in range(n)]


async def test_one_reader_fans_every_event_out_to_every_subscriber(
    hub: EventHub, redis_client: aioredis.Redis
) -> None:
    followers = [follow(hub, None) for _ in range(5)]
    # Start each generator so it subscribes before anything is added.
    firsts = [asyncio.ensure_future(f.__anext__()) for f in followers]
    await asyncio.sleep(0.05)
    assert len(hub.subscribers) == 5
    ids = [await add(redis_client, hub, n) for n in (1, 2, 3)]
    for f, first in zip(followers, firsts, strict=True):
        got = [await asyncio.wait_for(first, 5), *await take(f, 2)]
        assert [o.id for o in got] == ids
        assert [o.data["order_id"] for o in got] == [1, 2, 3]
    reads_with_five = hub.reads
    await asyncio.sleep(2.5)  # one blocking XREAD more at most, however many browsers listen
    assert hub.reads - reads_with_five <= 2
    for f in followers:
        await f.aclose()
    assert hub.subscribers == set()


async def test_resume_replays_what_was_missed_in_order_then_goes_live(
    hub: EventHub, redis_client: aioredis.Redis
) -> None:
    ids = [await add(redis_client, hub, n) for n in range(1, 6)]
    gen = follow(hub, ids[1])  # the browser saw the first two events
    replayed = await take(gen, 3)
    assert [o.id for o in replayed] == ids[2:]
    assert [o.data["order_id"] for o in replayed] == [3, 4, 5]
    live = await add(redis_client, hub, 6)
    (next_one,) = await take(gen, 1)
    assert next_one.id == live  # no duplicate of 3..5 from the live feed, no gap before 6
    await gen.aclose()


async def test_an_event_added_while_replaying_is_delivered_once(
    hub: EventHub, redis_client: aioredis.Redis
) -> None:
    first = await add(redis_client, hub, 1)
    ids = [await add(redis_client, hub, n) for n in range(2, 40)]
    gen = follow(hub, first)
    got = await take(gen, 5)
    extra = await add(redis_client, hub, 99)  # lands in the live queue and maybe in the replay
    got += await take(gen, len(ids) - 5 + 1)
    assert [o.id for o in got] == [*ids, extra]
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(gen.__anext__(), 0.5)
    await gen.aclose()


async def test_only_the_last_event_of_an_order_is_rendered_on_replay(
    hub: EventHub, redis_client: aioredis.Redis
) -> None:
    start = await add(redis_client, hub, 0, kind="menu")
    ids = [await add(redis_client, hub, order) for order in (7, 8, 7)]
    got = await take(follow(hub, start), 3)
    assert [(o.id, o.event) for o in got] == [(ids[0], "skip"), (ids[1], "order"), (ids[2], "order")]


async def test_resume_after_the_missed_entries_were_trimmed_resets_the_board(
    hub: EventHub, redis_client: aioredis.Redis
) -> None:
    old = await add(redis_client, hub, 1)
    for n in range(2, 6):
        await add(redis_client, hub, n)
    await redis_client.xtrim(hub.stream, maxlen=2, approximate=False)
    (reset,) = await take(follow(hub, old), 1)
    assert reset.event == "reset"
    assert reset.id == await hub.latest_id()


async def test_a_subscriber_that_falls_behind_is_dropped_and_can_resume(
    hub: EventHub, redis_client: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    gen = follow(hub, None)
    pending = asyncio.ensure_future(gen.__anext__())
    await asyncio.sleep(0.05)
    (sub,) = hub.subscribers
    for n in range(sub.queue.maxsize + 1):
        hub.broadcast(Outgoing(f"{n + 1}-0", "order", {}))
    assert sub.dropped.is_set() and sub not in hub.subscribers
    first = await asyncio.wait_for(pending, 5)
    assert first.id == "1-0"  # what was queued is still delivered ...
    rest = [o async for o in gen]  # ... then the stream ends and the browser reconnects
    assert len(rest) == sub.queue.maxsize - 1


@pytest.mark.parametrize(
    "garbage",
    [
        "garbage",
        "\u0661\u0662-\u0660",  # Arabic-Indic digits: isdigit() and int() take them, Redis does not
        f"{2**64}-0",  # past what a stream id can hold
        "1-0 extra",
        "99999999999999-0",  # a well-formed id from the future: nothing newer would ever be sent
        "",
    ],
)
async def test_a_last_event_id_that_is_no_id_of_ours_resets_the_board(
    hub: EventHub, redis_client: aioredis.Redis, garbage: str
) -> None:
    await add(redis_client, hub, 1)
    gen = follow(hub, garbage)
    (reset,) = await take(gen, 1)
    assert reset.event == "reset" and reset.id == await hub.latest_id()
    live = await add(redis_client, hub, 2)
    (next_one,) = await take(gen, 1)
    assert next_one.id == live
    await gen.aclose()


async def test_a_resume_while_redis_is_unreachable_ends_the_stream_quietly(key_prefix: str) -> None:
    from libs.connections import redis_client
    from tests.conftest import free_port

    unreachable = redis_client(f"redis://127.0.0.1:{free_port()}/0")
    hub = EventHub(unreachable, Keys(key_prefix), lambda e: asyncio.sleep(0, fake_render(e)))
    try:
        # The browser reconnects (the stream says `retry: 1000`) and resumes from the same id.
        got = [out async for out in follow(hub, "1-0", max_s=5)]
        assert got == []
        assert hub.subscribers == set()
    finally:
        await unreachable.aclose()
