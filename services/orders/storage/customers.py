"""The `customers` table: one row per (store, Twilio `From` address), holding the conversation.

A customer row is what serializes one customer's work: the inbound handler locks it for the whole
message (`inbox.record`), and every other writer that also touches the customer's orders
locks it first (`lock`, `lock_by_address`), so locks are always taken customer row, then order
row. Rows are returned as dicts of the table's columns.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from psycopg.types.json import Jsonb

from services.orders.storage.pool import Conn


async def _row(conn: Conn, sql: str, params: tuple[Any, ...]) -> dict[str, Any] | None:
    row = await (await conn.execute(sql, params)).fetchone()
    return dict(row) if row else None


async def lock(conn: Conn, customer_id: int) -> dict[str, Any] | None:
    """The customer row, locked (`FOR UPDATE`) until the transaction ends; None when missing."""
    return await _row(conn, "SELECT * FROM customers WHERE id = %s FOR UPDATE", (customer_id,))


async def lock_in_store(conn: Conn, store_id: int, customer_id: int) -> dict[str, Any] | None:
    """`lock` for a customer of `store_id` only; None for another store's or a missing one."""
    return await _row(
        conn, "SELECT * FROM customers WHERE store_id = %s AND id = %s FOR UPDATE", (store_id, customer_id)
    )


async def lock_by_address(conn: Conn, store_id: int, address: str) -> dict[str, Any] | None:
    """The store's customer with Twilio `From` address `address`, locked; None when unknown."""
    return await _row(
        conn, "SELECT * FROM customers WHERE store_id = %s AND address = %s FOR UPDATE", (store_id, address)
    )


async def get(conn: Conn, store_id: int, customer_id: int) -> dict[str, Any] | None:
    """A customer row of the store (not locked), or None."""
    return await _row(
        conn, "SELECT * FROM customers WHERE store_id = %s AND id = %s", (store_id, customer_id)
    )


# `customers.state` key: the customer's language was guessed, no message has shown it yet.
LANGUAGE_GUESSED = "language_guessed"


async def set_language_guessed(conn: Conn, customer_id: int, guessed: bool) -> None:
    """Set or clear the state's `LANGUAGE_GUESSED` flag alone (the rest of the state untouched)."""
    await conn.execute(
        "UPDATE customers SET state = CASE WHEN %s THEN state || jsonb_build_object(%s::text, true)"
        " ELSE state - %s::text END WHERE id = %s",
        (guessed, LANGUAGE_GUESSED, LANGUAGE_GUESSED, customer_id),
    )


async def save_state(conn: Conn, customer_id: int, state: dict[str, Any]) -> None:
    """Write the conversation state (`customers.state`, jsonb)."""
    await conn.execute("UPDATE customers SET state = %s WHERE id = %s", (Jsonb(state), customer_id))


async def set_mode(conn: Conn, customer_id: int, mode: str, now: dt.datetime, *, end_checkout: bool) -> None:
    """Give the conversation to staff (`human`) or the bot (`bot`) as of `now`. `end_checkout`
    also drops a half-finished checkout and pending questions from the state."""
    if end_checkout:
        await conn.execute(
            "UPDATE customers SET mode = %s, mode_changed_at = %s,"
            " state = state - 'checkout' - 'choice' - 'question' - 'questions' WHERE id = %s",
            (mode, now, customer_id),
        )
    else:
        await conn.execute(
            "UPDATE customers SET mode = %s, mode_changed_at = %s WHERE id = %s", (mode, now, customer_id)
        )


async def opt_out(conn: Conn, customer_id: int, now: dt.datetime) -> None:
    """Record a STOP at `now`: no more messages, and the conversation state is cleared."""
    await conn.execute(
        "UPDATE customers SET opted_out = true, opted_out_at = %s, state = '{}' WHERE id = %s",
        (now, customer_id),
    )


async def opt_in(conn: Conn, customer_id: int) -> None:
    """Record a START after a STOP."""
    await conn.execute(
        "UPDATE customers SET opted_out = false, opted_out_at = NULL WHERE id = %s", (customer_id,)
    )


async def save_address(conn: Conn, customer_id: int, address: str, location: dict[str, Any] | None) -> None:
    """Keep a delivery address (and its location pin, if any) for "same address" next time."""
    await conn.execute(
        "UPDATE customers SET saved_address = %s, saved_location = %s WHERE id = %s",
        (address, Jsonb(location) if location else None, customer_id),
    )


async def set_language(conn: Conn, customer_id: int, language: str) -> None:
    """Remember the customer's language (a locale code: "en", "es", "pt_BR")."""
    await conn.execute("UPDATE customers SET language = %s WHERE id = %s", (language, customer_id))


async def set_cart_updated_at(conn: Conn, customer_id: int, at: dt.datetime | None) -> None:
    """Restart the cart's idle timer at `at` (None: no cart activity to time)."""
    await conn.execute("UPDATE customers SET cart_updated_at = %s WHERE id = %s", (at, customer_id))


async def reserve_reply_seqs(conn: Conn, customer_id: int, count: int) -> int:
    """Reserve `count` reply sequence numbers for the customer; returns the first one."""
    row = await (
        await conn.execute(
            "UPDATE customers SET reply_seq = reply_seq + %s WHERE id = %s RETURNING reply_seq",
            (count, customer_id),
        )
    ).fetchone()
    assert row is not None
    return int(row["reply_seq"]) - count + 1
