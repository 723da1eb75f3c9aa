"""A reply's delivery state: the highest status Twilio reported, whatever order the notifier's
send result and Twilio's status callbacks reach orders in, and however they interleave."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from libs.messages import ENTRY_FIELD, SEND_RESULT, STATUS_CALLBACK, Envelope
from libs.streams import Entry
from services.orders.inbound import InboundHandler
from services.orders.settings import OrdersSettings
from services.orders.storage.pool import make_pool
from services.orders.storage.stores import StoreCache

ROWS = 40


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[Any]:
    settings = OrdersSettings.from_env({"DATABASE_URL": database_url, "DB_POOL_MAX_SIZE": "24"})
    p = make_pool(settings)
    await p.open(wait=True, timeout=10)
    yield p
    await p.close()


def handler(pool: Any) -> InboundHandler:
    return InboundHandler(pool, StoreCache(None), cart_ttl_s=3600, slow_s=5.0, on_commit=lambda: None)


def outbox_rows(database_url: str, count: int) -> list[int]:
    """`count` published outbox rows of one customer, not yet sent; returns their ids."""
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        store = conn.execute(
            "INSERT INTO stores (code, name, currency, timezone, hours, delivery_enabled,"
            " delivery_fee_cents, minimum_order_cents, pickup_enabled, preparation_minutes, menu)"
            " VALUES ('s', 'S', 'USD', 'UTC', '{}', false, 0, 0, true, 10, '{}') RETURNING id"
        ).fetchone()
        assert store is not None
        customer = conn.execute(
            "INSERT INTO customers (store_id, address) VALUES (%s, 'whatsapp:+15551230001') RETURNING id",
            (store["id"],),
        ).fetchone()
        assert customer is not None
        ids = []
        for seq in range(1, count + 1):
            row = conn.execute(
                "INSERT INTO outbox (customer_id, to_address, seq, body, published_at)"
                " VALUES (%s, 'whatsapp:+15551230001', %s, %s, now()) RETURNING id",
                (customer["id"], seq, f"reply {seq}"),
            ).fetchone()
            assert row is not None
            ids.append(int(row["id"]))
        return ids


Item = tuple[Entry, Envelope]


def item(kind: str, fields: dict[str, str]) -> Item:
    """A stream entry and its decoded envelope, as the consumer hands them to the handler."""
    env = Envelope(kind=kind, fields=fields)
    return Entry("1-0", {ENTRY_FIELD: env.encode()}), env


def send_result(reply_id: int, sid: str) -> Item:
    return item(
        SEND_RESULT, {"reply_id": str(reply_id), "outcome": "sent", "MessageSid": sid, "ErrorCode": ""}
    )


def callback(sid: str, status: str, error_code: str = "") -> Item:
    fields = {"MessageSid": sid, "MessageStatus": status, "To": "whatsapp:+15551230001"}
    if error_code:
        fields["ErrorCode"] = error_code
    return item(STATUS_CALLBACK, fields)


def final_states(database_url: str) -> dict[str, tuple[str, str | None]]:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        rows = conn.execute("SELECT twilio_sid, status, error_code FROM outbox").fetchall()
    return {r["twilio_sid"]: (r["status"], r["error_code"]) for r in rows}


async def test_racing_send_results_and_callbacks_end_at_the_highest_status(
    pool: Any, database_url: str
) -> None:
    """Two orders replicas (two handlers on one database) apply every row's send result and its
    `sent`, `delivered`, `read` callbacks at once, in a different random order for each row."""
    ids = outbox_rows(database_url, ROWS)
    replicas = [handler(pool), handler(pool)]
    rng = random.Random(13)
    work = []
    expected: dict[str, tuple[str, str | None]] = {}
    for n, reply_id in enumerate(ids):
        sid = f"SM{n:032x}"
        entries = [send_result(reply_id, sid), callback(sid, "sent")]
        if n % 10 == 0:  # delivery failed: kept with its ErrorCode
            entries.append(callback(sid, "undelivered", "63016"))
            expected[sid] = ("undelivered", "63016")
        elif n % 5 == 0:  # never read
            entries.append(callback(sid, "delivered"))
            expected[sid] = ("delivered", None)
        else:
            entries += [callback(sid, "delivered"), callback(sid, "read")]
            expected[sid] = ("read", None)
        rng.shuffle(entries)
        work += [(rng.choice(replicas), e) for e in entries]
    rng.shuffle(work)
    lanes = asyncio.Semaphore(20)  # as many entries in flight as the pool has connections

    async def apply(h: InboundHandler, work_item: Item) -> None:
        async with lanes:
            await h(*work_item)

    await asyncio.gather(*(apply(h, e) for h, e in work))
    assert final_states(database_url) == expected


async def test_callbacks_before_the_send_result_are_applied_when_the_sid_becomes_known(
    pool: Any, database_url: str
) -> None:
    (reply_id,) = outbox_rows(database_url, 1)
    h = handler(pool)
    for status in ("delivered", "sent"):
        await h(*callback("SM" + "a" * 32, status))
    await h(*send_result(reply_id, "SM" + "a" * 32))
    await h(*send_result(reply_id, "SM" + "a" * 32))  # a redelivered result changes nothing
    assert final_states(database_url) == {"SM" + "a" * 32: ("delivered", None)}
    await h(*callback("SM" + "a" * 32, "read"))
    await h(*callback("SM" + "a" * 32, "delivered"))  # late and lower: ignored
    assert final_states(database_url) == {"SM" + "a" * 32: ("read", None)}
