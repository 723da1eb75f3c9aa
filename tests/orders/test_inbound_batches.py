"""Inbound entries handled in batches: one transaction per batch, a savepoint per message, the
replies published by the consumer right after the commit, the ack only after it."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
import redis.asyncio as aioredis
from psycopg import pq
from psycopg.rows import dict_row

from libs.errors import DependencyUnavailable
from libs.messages import ENTRY_FIELD, INBOUND_MESSAGE, ORDERS_GROUP, Envelope, Keys
from libs.streams import ConsumerConfig, Entry, StreamConsumer, StreamGroup
from services.orders.conversation import engine
from services.orders.inbound import InboundHandler, customer_key
from services.orders.menu.catalog import demo_menu_path
from services.orders.menu.files import read_menu_document
from services.orders.settings import OrdersSettings
from services.orders.storage.pool import make_pool
from services.orders.storage.relay import publish_replies
from services.orders.storage.stores import StoreCache, load_menu_into_db
from tests.libs.consumers import eventually

ALICE = "whatsapp:+15551230001"
BOB = "whatsapp:+15551230002"
CAROL = "whatsapp:+15551230003"


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Any]:
    settings = OrdersSettings.from_env({"DATABASE_URL": database_url})
    p = make_pool(settings)
    await p.open(wait=True, timeout=10)
    async with p.connection() as conn, conn.transaction():
        await load_menu_into_db(conn, read_menu_document(demo_menu_path().read_text()))
    yield p
    await p.close()


@contextlib.asynccontextmanager
async def one_connection_pool(database_url: str, **env: str) -> AsyncIterator[Any]:
    """A pool of one connection (so the handler's connection is the test's) holding the demo store."""
    settings = OrdersSettings.from_env(
        {"DATABASE_URL": database_url, "DB_POOL_MIN_SIZE": "1", "DB_POOL_MAX_SIZE": "1", **env}
    )
    p = make_pool(settings)
    await p.open(wait=True, timeout=10)
    try:
        async with p.connection() as conn, conn.transaction():
            await load_menu_into_db(conn, read_menu_document(demo_menu_path().read_text()))
        yield p
    finally:
        await p.close()


def message(sid: str, sender: str, body: str, entry_id: str = "1-0") -> tuple[Entry, Envelope]:
    env = Envelope(kind=INBOUND_MESSAGE, fields={"MessageSid": sid, "From": sender, "Body": body})
    return Entry(entry_id, {ENTRY_FIELD: env.encode()}), env


def rows(database_url: str, query: str, *args: object) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        return conn.execute(query, args).fetchall()


def poison(database_url: str, message_sid: str) -> None:
    """Make recording `message_sid` fail inside PostgreSQL (a CHECK the row violates)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            f"ALTER TABLE inbox ADD CONSTRAINT poisoned CHECK (message_sid <> '{message_sid}') NOT VALID"
        )


def handler(pool: Any, **kwargs: Any) -> InboundHandler:
    return InboundHandler(
        pool, StoreCache(None), cart_ttl_s=3600, slow_s=5.0, on_commit=lambda: None, **kwargs
    )


async def test_a_poisoned_message_fails_alone_and_the_rest_of_its_batch_commits(
    pool: Any, database_url: str
) -> None:
    poison(database_url, "SM2")
    h = handler(pool)
    errors = await h.handle_batch(
        [message("SM1", ALICE, "2 margherita"), message("SM2", BOB, "1 coke"), message("SM3", CAROL, "menu")]
    )
    assert errors[0] is None and errors[2] is None
    assert isinstance(errors[1], psycopg.errors.CheckViolation)
    assert [r["message_sid"] for r in rows(database_url, "SELECT message_sid FROM inbox ORDER BY 1")] == [
        "SM1",
        "SM3",
    ]
    # Nothing of the poisoned message is left: no customer, no cart, no reply.
    assert rows(database_url, "SELECT count(*)::int AS n FROM customers WHERE address = %s", BOB) == [
        {"n": 0}
    ]
    assert [r["to_address"] for r in rows(database_url, "SELECT to_address FROM outbox ORDER BY id")] == [
        ALICE,
        CAROL,
    ]


async def test_a_failing_statement_whose_result_is_not_read_fails_its_message_alone(
    pool: Any, database_url: str
) -> None:
    """In the batch's straight run (pipeline mode) a statement's error surfaces only at the next
    read or at the commit: the last message's language write failing still fails it alone."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE customers ADD CONSTRAINT no_es CHECK (language <> 'es') NOT VALID")
    h = handler(pool)
    errors = await h.handle_batch(
        [message("SM1", ALICE, "2 margherita"), message("SM2", BOB, "menu"), message("SM3", CAROL, "hola")]
    )
    assert errors[:2] == [None, None]
    assert [r["to_address"] for r in rows(database_url, "SELECT to_address FROM outbox ORDER BY id")][:2] == [
        ALICE,
        BOB,
    ]
    assert rows(database_url, "SELECT count(*)::int AS n FROM customers WHERE language = 'es'") == [{"n": 0}]
    assert [r["message_sid"] for r in rows(database_url, "SELECT message_sid FROM inbox ORDER BY 1")][:2] == [
        "SM1",
        "SM2",
    ]


async def test_two_messages_of_one_customer_in_one_batch_apply_in_order(pool: Any, database_url: str) -> None:
    h = handler(pool)
    errors = await h.handle_batch(
        [
            message("SM1", BOB, "2 margherita"),
            message("SM2", ALICE, "1 coke"),
            message("SM3", BOB, "make it 3"),
            message("SM4", BOB, "cart"),
        ]
    )
    assert errors == [None] * 4
    (line,) = rows(
        database_url,
        "SELECT l.item_code, l.quantity FROM cart_lines l JOIN customers c ON c.id = l.customer_id"
        " WHERE c.address = %s",
        BOB,
    )
    assert line == {"item_code": "margherita", "quantity": 3}
    replies = rows(database_url, "SELECT seq, body FROM outbox WHERE to_address = %s ORDER BY seq", BOB)
    assert [r["seq"] for r in replies] == [1, 2, 3]
    assert "19.00" in replies[0]["body"]  # 2 x 9.50, before the change
    assert "28.50" in replies[2]["body"]  # the cart as the second message left it


def _round_trips(trace: str) -> tuple[int, list[str]]:
    """Round trips in a libpq trace (each Sync, Flush or simple Query the client sent: in
    pipeline mode a Flush is where the client waits for a result it reads), and the simple
    queries' texts."""
    sent = [line.split("\t") for line in trace.splitlines() if line.startswith("F\t")]
    queries = [fields[3].strip() for fields in sent if fields[2] == "Query"]
    return sum(1 for fields in sent if fields[2] in ("Sync", "Query", "Flush")), queries


@pytest.mark.parametrize(
    ("body", "per_message", "cart_change"),
    [("menu", 2, None), ("2 margherita and a coke", 9, "started")],
)
async def test_a_batch_costs_few_round_trips_per_message_and_no_savepoint(
    database_url: str, tmp_path: Any, body: str, per_message: int, cart_change: str | None
) -> None:
    """The hot path's statements, counted on the wire (libpq's trace). A new customer's `menu`
    is the message recorded with its customer (one statement), the language remembered, and
    the replies queued with the inbox row's outcome (one statement): no cart statement for a
    turn that does not touch the cart. Two lines added cost three reads of the cart (each
    kept while the cart is unchanged), two statements each (sizes, then the write with the
    idle timer) and the conversation's state; no mark of the cart in SQL. No SAVEPOINT when
    nothing fails. In pipeline mode only the statements whose results are read are waited
    for: BEGIN, the language, the cart's idle timer and the state go with the next one."""
    async with one_connection_pool(database_url) as p:
        h = handler(p)
        assert await h.handle_batch([message("SM0", ALICE, "menu")]) == [None]  # the store is cached
        trace = tmp_path / "trace.txt"
        with trace.open("w") as out:
            async with p.connection() as conn:  # the pool's only connection: the handler's too
                conn.pgconn.trace(out.fileno())
                conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
            batch = [message(f"SM{i}", f"whatsapp:+1555000{i:04d}", body) for i in range(1, 11)]
            assert await h.handle_batch(batch) == [None] * 10
            async with p.connection() as conn:
                conn.pgconn.untrace()
        trips, queries = _round_trips(trace.read_text())
        assert not [q for q in queries if "SAVEPOINT" in q], queries
        # The rest is the batch's own: BEGIN, the store's version, COMMIT, the pool's checks on
        # the three checkouts of this test, and psycopg preparing each statement once (a Parse
        # of its own on its fifth use: `prepare_threshold`).
        assert trips <= per_message * 10 + 16, trips
        assert len(rows(database_url, "SELECT 1 FROM outbox")) == 11
        assert rows(
            database_url, "SELECT DISTINCT outcome, cart_change FROM inbox WHERE message_sid <> 'SM0'"
        ) == [{"outcome": "handled", "cart_change": cart_change}]


async def test_a_conversation_bug_in_a_batch_is_undone_alone_and_answered_with_an_apology(
    pool: Any, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch runs without savepoints first; a bug in one message's conversation (here: after
    it changed the cart) rolls the batch back and runs it again with savepoints, where the bug
    is undone alone and answered with the apology, and the other messages commit once."""
    real = engine.converse

    async def buggy(turn: Any, command: Any) -> str:
        body = await real(turn, command)
        if turn.inbound.sender == BOB:
            raise ZeroDivisionError("a bug")
        return body

    monkeypatch.setattr(engine, "converse", buggy)
    h = handler(pool)
    errors = await h.handle_batch(
        [
            message("SM1", ALICE, "2 margherita"),
            message("SM2", BOB, "1 coke"),
            message("SM3", CAROL, "1 water"),
        ]
    )
    assert errors == [None, None, None]
    lines = rows(
        database_url,
        "SELECT c.address, l.item_code, l.quantity FROM cart_lines l JOIN customers c ON c.id = l.customer_id"
        " ORDER BY c.address",
    )
    assert lines == [
        {"address": ALICE, "item_code": "margherita", "quantity": 2},
        {"address": CAROL, "item_code": "water", "quantity": 1},
    ]
    replies = rows(database_url, "SELECT to_address, body FROM outbox ORDER BY id")
    assert [r["to_address"] for r in replies] == [ALICE, BOB, CAROL]
    assert replies[1]["body"] == engine.SORRY
    assert rows(database_url, "SELECT message_sid, outcome FROM inbox ORDER BY 1") == [
        {"message_sid": "SM1", "outcome": "handled"},
        {"message_sid": "SM2", "outcome": "handled"},
        {"message_sid": "SM3", "outcome": "handled"},
    ]


async def test_a_batch_that_raises_fails_its_entries_and_the_next_batch_runs(pool: Any) -> None:
    """A bug in the batch itself reaches each entry's lane as that error (the entry stays
    pending), never as a cancellation, and the next entries get a batch of their own."""
    h = handler(pool)
    real = h.handle_batch
    calls: list[int] = []

    async def first_one_fails(items: list[Any]) -> list[Exception | None]:
        calls.append(len(items))
        if len(calls) == 1:
            raise RuntimeError("a bug")
        return await real(items)

    h.handle_batch = first_one_fails  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="a bug"):
        await h(*message("SM1", ALICE, "menu"))
    await h(*message("SM2", ALICE, "menu"))
    assert calls == [1, 1]


async def test_a_database_failure_of_the_batch_fails_every_entry(database_url: str) -> None:
    settings = OrdersSettings.from_env(
        {"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere", "DB_POOL_TIMEOUT_SECONDS": "0.5"}
    )
    p = make_pool(settings)
    await p.open(wait=False)
    try:
        errors = await handler(p).handle_batch([message("SM1", ALICE, "menu"), message("SM2", BOB, "menu")])
    finally:
        await p.close()
    assert [type(e) for e in errors] == [DependencyUnavailable, DependencyUnavailable]


def consumer(redis: aioredis.Redis, keys: Keys, h: Any, name: str, **config: Any) -> StreamConsumer:
    tuning: dict[str, Any] = {"block_ms": 100, "maintenance_interval_s": 0.1, "takeover_interval_s": 0.1}
    return StreamConsumer(
        redis=redis,
        stream=keys.inbound,
        group=ORDERS_GROUP,
        consumer=name,
        handler=h,
        dead_letter_stream=keys.dead_letters(keys.inbound),
        config=ConsumerConfig(**{**tuning, **config}),
        key_of=customer_key,
    )


async def add_messages(redis: aioredis.Redis, keys: Keys, messages: list[tuple[str, str, str]]) -> None:
    """XADD inbound messages (sid, From, Body), the consumer group created first."""
    await StreamGroup(redis, keys.inbound, ORDERS_GROUP, "-").ensure_group()
    for sid, sender, body in messages:
        env = Envelope(kind=INBOUND_MESSAGE, fields={"MessageSid": sid, "From": sender, "Body": body})
        await redis.xadd(keys.inbound, {ENTRY_FIELD: env.encode()})


async def test_a_poisoned_entry_in_a_consumer_batch_is_dead_lettered_and_the_others_acked(
    pool: Any, database_url: str, redis_client: aioredis.Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    poison(database_url, "SM2")
    h = handler(pool, publish=functools.partial(publish_replies, redis_client, keys))
    batches: list[int] = []
    handle_batch = h.handle_batch

    async def counted(items: list[Any]) -> list[Exception | None]:
        batches.append(len(items))
        return await handle_batch(items)

    h.handle_batch = counted  # type: ignore[method-assign]
    await add_messages(
        redis_client, keys, [("SM1", ALICE, "menu"), ("SM2", BOB, "menu"), ("SM3", CAROL, "menu")]
    )
    c = consumer(redis_client, keys, h, "c1", max_deliveries=1)
    task = asyncio.create_task(c.run())
    try:

        async def settled() -> bool:
            info = await redis_client.xpending(keys.inbound, ORDERS_GROUP)
            return int(info["pending"]) == 0 and await redis_client.xlen(keys.dead_letters(keys.inbound)) == 1

        await eventually(settled)
    finally:
        c.stop()
        await task
    assert batches[0] == 3  # one read, one batch
    (dead,) = await redis_client.xrange(keys.dead_letters(keys.inbound))
    assert Envelope.decode(dead[1][ENTRY_FIELD]).fields["MessageSid"] == "SM2"
    assert b"CheckViolation" in dead[1][b"error"]
    assert {r["message_sid"] for r in rows(database_url, "SELECT message_sid FROM inbox")} == {"SM1", "SM3"}
    # Their replies went out right after the commit, and were marked published.
    published = [
        Envelope.decode(f[ENTRY_FIELD]).fields["To"] for _, f in await redis_client.xrange(keys.outbound)
    ]
    assert sorted(published) == [ALICE, CAROL]
    assert rows(database_url, "SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL") == [
        {"n": 0}
    ]


async def test_replies_are_published_on_the_connection_that_committed_them(
    database_url: str, redis_client: aioredis.Redis, key_prefix: str
) -> None:
    """The mark after the XADDs runs on the batch's own connection: a pool of one connection
    publishes at once (a second checkout would wait for the pool and leave the rows to the relay)."""
    async with one_connection_pool(database_url, DB_POOL_TIMEOUT_SECONDS="0.5") as p:
        keys = Keys(key_prefix)
        relay_told: list[bool] = []
        h = InboundHandler(
            p, StoreCache(None), cart_ttl_s=3600, slow_s=5.0, on_commit=lambda: relay_told.append(True),
            publish=functools.partial(publish_replies, redis_client, keys),
        )  # fmt: skip
        assert await h.handle_batch([message("SM1", ALICE, "menu"), message("SM2", BOB, "1 coke")]) == [
            None,
            None,
        ]
        assert relay_told == []
        assert await redis_client.xlen(keys.outbound) == 2
        assert await _outbox_published(database_url, 2)


async def test_a_crash_between_commit_and_ack_does_not_double_a_reply(
    pool: Any, database_url: str, redis_client: aioredis.Redis, key_prefix: str
) -> None:
    """The first consumer commits the batch and publishes its replies, then dies before its
    XACK (the entries stay pending for it, its lease runs out); the consumer that takes them
    over handles them again: the inbox finds every MessageSid, nothing is written or sent twice."""
    keys = Keys(key_prefix)
    publish = functools.partial(publish_replies, redis_client, keys)
    first = handler(pool, publish=publish)
    committed = asyncio.Event()
    died = asyncio.Event()

    async def crash_after_commit(entry: Entry, envelope: Envelope) -> None:
        await first(entry, envelope)
        committed.set()
        await died.wait()  # never returns: the process is killed before it acks

    await add_messages(redis_client, keys, [("SM1", ALICE, "2 margherita"), ("SM2", BOB, "menu")])
    dying = consumer(redis_client, keys, crash_after_commit, "dying", lease_ttl_ms=600)
    dying_task = asyncio.create_task(dying.run())
    await asyncio.wait_for(committed.wait(), 10)
    await eventually(lambda: _outbox_published(database_url, 2))
    dying_task.cancel()  # a SIGKILL: nothing more is acked, the lease expires by itself
    with pytest.raises(asyncio.CancelledError):
        await dying_task
    assert int((await redis_client.xpending(keys.inbound, ORDERS_GROUP))["pending"]) == 2

    second = handler(pool, publish=publish)
    handled: list[str] = []

    async def counting(entry: Entry, envelope: Envelope) -> None:
        await second(entry, envelope)
        handled.append(envelope.fields["MessageSid"])

    survivor = consumer(redis_client, keys, counting, "survivor", lease_ttl_ms=600)
    survivor_task = asyncio.create_task(survivor.run())
    try:

        async def all_acked() -> bool:
            return int((await redis_client.xpending(keys.inbound, ORDERS_GROUP))["pending"]) == 0

        await eventually(all_acked)
    finally:
        survivor.stop()
        await survivor_task
    assert sorted(handled) == ["SM1", "SM2"]  # redelivered and handled again ...
    assert rows(database_url, "SELECT count(*)::int AS n FROM inbox") == [{"n": 2}]
    assert rows(database_url, "SELECT count(*)::int AS n FROM outbox") == [{"n": 2}]  # ... once in effect
    assert rows(database_url, "SELECT sum(quantity)::int AS q FROM cart_lines") == [{"q": 2}]
    assert await redis_client.xlen(keys.outbound) == 2  # no reply published twice


async def _outbox_published(database_url: str, n: int) -> bool:
    return rows(database_url, "SELECT count(*)::int AS n FROM outbox WHERE published_at IS NOT NULL") == [
        {"n": n}
    ]
