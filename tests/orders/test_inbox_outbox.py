"""The inbox/outbox transaction and the relay, against a real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
import redis.asyncio as aioredis
from psycopg.rows import dict_row

from libs.errors import DependencyUnavailable
from libs.messages import ENTRY_FIELD, INBOUND_MESSAGE, REPLY, Envelope, Keys
from libs.streams import Entry
from services.orders.inbound import InboundHandler
from services.orders.menu.catalog import demo_menu_path
from services.orders.menu.files import read_menu_document
from services.orders.settings import OrdersSettings
from services.orders.storage.pool import make_pool
from services.orders.storage.relay import OutboxRelay
from services.orders.storage.stores import StoreCache, load_menu_into_db

CUSTOMER = "whatsapp:+15551230001"


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Any]:
    settings = OrdersSettings.from_env({"DATABASE_URL": database_url})
    p = make_pool(settings)
    await p.open(wait=True, timeout=10)
    async with p.connection() as conn, conn.transaction():
        await load_menu_into_db(conn, read_menu_document(demo_menu_path().read_text()))
    yield p
    await p.close()


def entry(sid: str, body: str, sender: str = CUSTOMER) -> tuple[Entry, Envelope]:
    """A stream entry of one inbound message and its decoded envelope, as the consumer hands them."""
    env = Envelope(kind=INBOUND_MESSAGE, fields={"MessageSid": sid, "From": sender, "Body": body})
    return Entry("1-0", {ENTRY_FIELD: env.encode()}), env


def handler(pool: Any, commits: list[int] | None = None) -> InboundHandler:
    return InboundHandler(
        pool,
        StoreCache(None),
        cart_ttl_s=3600,
        slow_s=1.0,
        on_commit=lambda: commits.append(1) if commits is not None else None,
    )


def rows(database_url: str, query: str, *args: object) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        return conn.execute(query, args).fetchall()


async def test_message_cart_and_replies_commit_together(pool: Any, database_url: str) -> None:
    commits: list[int] = []
    await handler(pool, commits)(*entry("SM1", "2 margherita"))
    assert commits == [1]
    (line,) = rows(database_url, "SELECT item_code, quantity, unit_price_cents FROM cart_lines")
    assert line == {"item_code": "margherita", "quantity": 2, "unit_price_cents": 950}
    (reply,) = rows(database_url, "SELECT to_address, seq, body, published_at FROM outbox")
    assert reply["to_address"] == CUSTOMER and reply["seq"] == 1 and reply["published_at"] is None
    assert "19.00" in reply["body"]
    assert rows(database_url, "SELECT message_sid, outcome FROM inbox") == [
        {"message_sid": "SM1", "outcome": "handled"}
    ]


async def test_redelivered_message_changes_nothing(pool: Any, database_url: str) -> None:
    h = handler(pool)
    await h(*entry("SM1", "2 margherita"))
    await h(*entry("SM1", "2 margherita"))
    assert rows(database_url, "SELECT sum(quantity)::int AS q FROM cart_lines") == [{"q": 2}]
    assert rows(database_url, "SELECT count(*)::int AS n FROM outbox") == [{"n": 1}]


async def test_failure_mid_transaction_leaves_no_trace(pool: Any, database_url: str) -> None:
    """A reply that cannot be written rolls back the inbox row and the cart change with it."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE outbox ADD CONSTRAINT no_replies CHECK (false) NOT VALID")
    with pytest.raises(psycopg.errors.CheckViolation):
        await handler(pool)(*entry("SM1", "2 margherita"))
    assert rows(database_url, "SELECT count(*)::int AS n FROM inbox") == [{"n": 0}]
    assert rows(database_url, "SELECT count(*)::int AS n FROM cart_lines") == [{"n": 0}]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE outbox DROP CONSTRAINT no_replies")
    await handler(pool)(*entry("SM1", "2 margherita"))  # the redelivery then succeeds, once
    assert rows(database_url, "SELECT sum(quantity)::int AS q FROM cart_lines") == [{"q": 2}]


async def test_database_down_is_retryable(database_url: str) -> None:
    settings = OrdersSettings.from_env(
        {"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere", "DB_POOL_TIMEOUT_SECONDS": "0.5"}
    )
    p = make_pool(settings)
    await p.open(wait=False)
    try:
        with pytest.raises(DependencyUnavailable):
            await handler(p)(*entry("SM1", "menu"))
    finally:
        await p.close()


async def test_relay_publishes_in_order_once(
    pool: Any, database_url: str, redis_client: aioredis.Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    h = handler(pool)
    for n, text in enumerate(["menu", "2 margherita", "cart"]):
        await h(*entry(f"SM{n}", text))
    relay = OutboxRelay(pool, redis_client, keys, slow_s=1.0)
    assert await relay.publish_once() == 3
    assert await relay.publish_once() == 0
    published = await redis_client.xrange(keys.outbound)
    envelopes = [Envelope.decode(fields[ENTRY_FIELD]) for _, fields in published]
    assert [e.kind for e in envelopes] == [REPLY] * 3
    assert [e.fields["seq"] for e in envelopes] == ["1", "2", "3"]
    assert all(e.fields["To"] == CUSTOMER for e in envelopes)
    assert rows(database_url, "SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL") == [
        {"n": 0}
    ]


async def test_concurrent_messages_of_one_customer_lose_nothing(pool: Any, database_url: str) -> None:
    h1, h2 = handler(pool), handler(pool)
    await asyncio.gather(*(h(*entry(f"SM{n}", "1 coke")) for n, h in enumerate([h1, h2] * 5)))
    assert rows(database_url, "SELECT sum(quantity)::int AS q FROM cart_lines") == [{"q": 10}]
    seqs = [r["seq"] for r in rows(database_url, "SELECT seq FROM outbox ORDER BY seq")]
    assert seqs == list(range(1, 11))


async def test_nul_characters_in_a_message_get_a_reply_not_an_error(pool: Any, database_url: str) -> None:
    await handler(pool)(*entry("SM\x001", "2 marg\x00herita", sender="whatsapp:+1555\x000001"))
    (row,) = rows(database_url, "SELECT message_sid, body FROM inbox")
    assert row == {"message_sid": "SM1", "body": "2 margherita"}
    (reply,) = rows(database_url, "SELECT to_address, body FROM outbox")
    assert reply["to_address"] == "whatsapp:+15550001" and "19.00" in reply["body"]
