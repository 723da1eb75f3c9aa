"""Faults inside the inbound batch's straight run (pipeline mode, services/orders/inbound.py):
a statement whose result is not read failing, timing out or losing the connection in the
middle of a batch, a deadlock with another transaction, a MessageSid twice in one batch. Every
other message commits once, the failing one fails alone (a statement of its conversation
failing is answered with the apology, its cart untouched), and a lost connection leaves the
batch to a new one (at once, or when the entries are handed over again); no reply is doubled
or lost."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from libs.errors import DependencyUnavailable
from services.orders.conversation.engine import SORRY
from tests.orders.test_inbound_batches import ALICE, BOB, CAROL, handler, message, one_connection_pool, rows

# a fault in the statement that starts BOB's cart's idle timer: an UPDATE whose result the
# straight run does not read (it fails at the next read, which is CAROL's)
_TRIGGER = """
CREATE FUNCTION fault() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {body}
  RETURN NEW;
END $$;
CREATE TRIGGER fault BEFORE UPDATE ON customers FOR EACH ROW
  WHEN (NEW.address = '{bob}' AND NEW.cart_updated_at IS DISTINCT FROM OLD.cart_updated_at)
  EXECUTE FUNCTION fault();
"""


def fault(database_url: str, body: str, *setup: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        for statement in setup:
            conn.execute(statement)
        conn.execute(_TRIGGER.format(body=body, bob=BOB))


def carts(database_url: str) -> list[dict[str, Any]]:
    return rows(
        database_url,
        "SELECT c.address, l.item_code, l.quantity FROM cart_lines l JOIN customers c ON c.id = l.customer_id"
        " ORDER BY c.address, l.item_code",
    )


def replies_to(database_url: str) -> list[str]:
    return [
        r["to_address"] for r in rows(database_url, "SELECT to_address FROM outbox ORDER BY to_address, id")
    ]


BATCH = [
    message("SM1", ALICE, "2 margherita"),
    message("SM2", BOB, "1 coke"),
    message("SM3", CAROL, "1 water"),
]
OTHERS = [
    {"address": ALICE, "item_code": "margherita", "quantity": 2},
    {"address": CAROL, "item_code": "water", "quantity": 1},
]


async def handled_once(h: Any, batch: list[Any], database_url: str, first: Any = None) -> None:
    """The batch after a lost connection: it failed whole (nothing of it committed) and commits
    when handed over again, or it was run again at once on a new connection."""
    errors = await (first if first is not None else h.handle_batch(batch))
    if errors != [None] * len(batch):
        assert [type(e) for e in errors] == [DependencyUnavailable] * len(batch)
        assert rows(database_url, "SELECT count(*)::int AS n FROM inbox") == [{"n": 0}]
        assert await h.handle_batch(batch) == [None] * len(batch)


@contextlib.asynccontextmanager
async def pool_of(database_url: str, **env: str) -> AsyncIterator[Any]:
    async with one_connection_pool(database_url, DB_POOL_MAX_SIZE="2", **env) as p:
        yield p


async def test_a_failing_unread_statement_in_the_middle_of_a_batch_fails_its_message_alone(
    database_url: str,
) -> None:
    fault(database_url, "RAISE EXCEPTION 'broken' USING ERRCODE = 'check_violation';")
    async with pool_of(database_url) as p:
        assert await handler(p).handle_batch(BATCH) == [None] * 3
    assert carts(database_url) == OTHERS
    assert replies_to(database_url) == [ALICE, BOB, CAROL]
    assert rows(database_url, "SELECT body FROM outbox WHERE to_address = %s", BOB) == [{"body": SORRY}]


async def test_a_statement_timeout_in_the_middle_of_a_batch_fails_its_message_alone(
    database_url: str,
) -> None:
    fault(database_url, "PERFORM pg_sleep(2);")
    async with pool_of(database_url, DB_STATEMENT_TIMEOUT_MS="300") as p:
        errors = await handler(p).handle_batch(BATCH)
    assert errors[0] is None and errors[2] is None
    assert isinstance(errors[1], DependencyUnavailable)
    assert carts(database_url) == OTHERS
    assert replies_to(database_url) == [ALICE, CAROL]


async def test_a_connection_killed_in_the_middle_of_a_batch_commits_it_once_when_handled_again(
    database_url: str,
) -> None:
    fault(
        database_url,
        "IF nextval('kills') = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;",
        "CREATE SEQUENCE kills",
    )
    async with pool_of(database_url) as p:
        h = handler(p)
        await handled_once(h, BATCH, database_url)
    assert carts(database_url) == [
        *OTHERS[:1],
        {"address": BOB, "item_code": "coke", "quantity": 1},
        OTHERS[1],
    ]
    assert replies_to(database_url) == [ALICE, BOB, CAROL]


async def test_a_connection_killed_from_outside_during_a_batch_commits_it_once_when_handled_again(
    database_url: str,
) -> None:
    # BOB's statement waits for a lock the test holds; meanwhile another connection ends the
    # batch's backend (pg_terminate_backend), the way an operator or a failover would
    fault(database_url, "PERFORM pg_advisory_xact_lock(42);")
    async with pool_of(database_url) as p:
        h = handler(p)
        with psycopg.connect(database_url, autocommit=True) as holder:
            holder.execute("SELECT pg_advisory_lock(42)")
            batch = asyncio.create_task(h.handle_batch(BATCH))
            for _ in range(100):
                await asyncio.sleep(0.05)
                waiting = holder.execute(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                ).fetchall()
                if waiting:
                    break
            assert waiting
            holder.execute("SELECT pg_terminate_backend(%s)", (waiting[0][0],))
            holder.execute("SELECT pg_advisory_unlock(42)")
            await handled_once(h, BATCH, database_url, batch)
    assert replies_to(database_url) == [ALICE, BOB, CAROL]
    assert rows(database_url, "SELECT count(*)::int AS n FROM inbox") == [{"n": 3}]


async def test_a_message_sid_twice_in_one_batch_is_applied_once(database_url: str) -> None:
    async with pool_of(database_url) as p:
        errors = await handler(p).handle_batch(
            [*BATCH, message("SM2", BOB, "1 coke"), message("SM1", ALICE, "2 margherita")]
        )
    assert errors == [None] * 5
    assert carts(database_url) == [
        *OTHERS[:1],
        {"address": BOB, "item_code": "coke", "quantity": 1},
        OTHERS[1],
    ]
    assert replies_to(database_url) == [ALICE, BOB, CAROL]
    assert rows(database_url, "SELECT outcome, count(*)::int AS n FROM inbox GROUP BY 1") == [
        {"outcome": "handled", "n": 3}
    ]


async def test_a_message_sid_twice_in_a_batch_where_another_message_fails(database_url: str) -> None:
    # the batch runs again with savepoints: the first copy is recorded, the second is a duplicate
    fault(database_url, "RAISE EXCEPTION 'broken' USING ERRCODE = 'check_violation';")
    async with pool_of(database_url) as p:
        errors = await handler(p).handle_batch([*BATCH, message("SM3", CAROL, "1 water")])
    assert errors == [None] * 4
    assert carts(database_url) == OTHERS
    assert replies_to(database_url) == [ALICE, BOB, CAROL]


@pytest.mark.parametrize("other_waits", ["50ms", "10s"])  # the other transaction, or the batch, is the victim
async def test_a_deadlock_with_another_transaction_fails_the_victim_alone(
    database_url: str, other_waits: str
) -> None:
    # the batch holds ALICE's row and waits for BOB's; the other transaction holds BOB's and
    # waits for ALICE's: the one that looks first (its deadlock_timeout) is the victim, and a batch that was
    # runs again with savepoints once the other committed
    async with pool_of(database_url) as p:
        h = handler(p)
        assert await h.handle_batch([message("SM0", ALICE, "hi"), message("SM00", BOB, "hi")]) == [None, None]
        async with await psycopg.AsyncConnection.connect(database_url, row_factory=dict_row) as other:
            await other.execute(f"SET deadlock_timeout = '{other_waits}'")
            await other.execute("SELECT 1 FROM customers WHERE address = %s FOR UPDATE", (BOB,))
            batch = asyncio.create_task(h.handle_batch(BATCH))
            await asyncio.sleep(0.5)
            try:
                await other.execute("SELECT 1 FROM customers WHERE address = %s FOR UPDATE", (ALICE,))
                await asyncio.sleep(0.2)
                await other.commit()  # the batch was the victim: run again, it waits for this
            except psycopg.errors.DeadlockDetected:
                await other.rollback()
            errors = await batch
    assert errors == [None] * 3
    delivered = replies_to(database_url)
    assert delivered.count(ALICE) == 2 and delivered.count(CAROL) == 1
    assert delivered.count(BOB) == 2
