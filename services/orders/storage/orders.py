"""The `orders`, `order_lines` and `order_status_history` tables.

Orders keep copies of names and prices (cents), so a menu change never alters an order placed.
Rows are returned as dicts of the table's columns; the ones joined with the customer add
`customer_address`, `profile_name` and `mode`. Locks: take the customer row first
(`customers.lock`), then the order row (`lock`); see ordering/lifecycle.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from psycopg.types.json import Jsonb

from services.orders.storage.carts import CartLine
from services.orders.storage.pool import Conn

# An order with its customer's address, WhatsApp profile name and conversation mode.
_WITH_CUSTOMER = (
    "SELECT o.*, c.address AS customer_address, c.profile_name, c.mode, c.language AS customer_language"
    " FROM orders o"
    " JOIN customers c ON c.id = o.customer_id"
)


async def insert_placed(
    conn: Conn,
    *,
    store_id: int,
    number: int,
    customer_id: int,
    fulfilment: str,
    delivery_address: str | None,
    delivery_location: dict[str, Any] | None,
    notes: str,
    notes_flag: str | None,
    subtotal_cents: int,
    delivery_fee_cents: int,
    total_cents: int,
    currency: str,
    confirm_message_sid: str,
    estimated_ready_at: dt.datetime,
    now: dt.datetime,
    lines: list[CartLine],
    line_flags: list[str | None],
    language: str | None = None,
) -> int:
    """Write a `placed` order and its lines (copies of the cart's); returns the order's id.

    `notes_flag` and `line_flags` (one per line) classify the notes: `allergy`, `diet` or None.

    `confirm_message_sid` is unique: a second order for the same confirming MessageSid raises
    `psycopg.errors.UniqueViolation` and the transaction rolls back.
    """
    order = await (
        await conn.execute(
            """
            INSERT INTO orders (store_id, number, customer_id, status, fulfilment, delivery_address,
                delivery_location, notes, notes_flag, subtotal_cents, delivery_fee_cents, total_cents,
                currency, confirm_message_sid, estimated_ready_at, placed_at, updated_at, language)
            VALUES (%s, %s, %s, 'placed', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            RETURNING id
            """,
            (
                store_id,
                number,
                customer_id,
                fulfilment,
                delivery_address,
                Jsonb(delivery_location) if delivery_location else None,
                notes,
                notes_flag,
                subtotal_cents,
                delivery_fee_cents,
                total_cents,
                currency,
                confirm_message_sid,
                estimated_ready_at,
                now,
                now,
                language,
            ),
        )
    ).fetchone()
    assert order is not None
    order_id = int(order["id"])
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO order_lines (order_id, item_code, name, unit_price_cents, quantity, options,"
            " excluded, notes, notes_flag, line_total_cents, position)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    order_id,
                    line.item_code,
                    line.name,
                    line.unit_price_cents,
                    line.quantity,
                    Jsonb(line.options),
                    Jsonb(line.excluded),
                    line.notes,
                    flag,
                    line.total_cents,
                    position,
                )
                for position, (line, flag) in enumerate(zip(lines, line_flags, strict=True), 1)
            ],
        )
    return order_id


async def add_history(
    conn: Conn,
    order_id: int,
    *,
    from_status: str | None,
    to_status: str,
    actor: str,
    reason: str,
    at: dt.datetime,
) -> None:
    """Append one move to the order's status history (`from_status` None: the order was placed)."""
    await conn.execute(
        "INSERT INTO order_status_history (order_id, from_status, to_status, actor, reason, at)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (order_id, from_status, to_status, actor, reason, at),
    )


async def history(conn: Conn, order_id: int) -> list[dict[str, Any]]:
    """The order's status history, oldest first: `from_status`, `to_status`, `actor`, `reason`, `at`."""
    cur = await conn.execute(
        "SELECT from_status, to_status, actor, reason, at FROM order_status_history"
        " WHERE order_id = %s ORDER BY at, id",
        (order_id,),
    )
    return [dict(r) for r in await cur.fetchall()]


async def find(conn: Conn, store_id: int, number: int) -> tuple[int, int] | None:
    """(order id, customer id) of the store's order `number`, or None."""
    row = await (
        await conn.execute(
            "SELECT id, customer_id FROM orders WHERE store_id = %s AND number = %s", (store_id, number)
        )
    ).fetchone()
    return (int(row["id"]), int(row["customer_id"])) if row else None


async def lock(conn: Conn, order_id: int) -> dict[str, Any] | None:
    """The order row, locked (`FOR UPDATE`) until the transaction ends; None when missing."""
    row = await (await conn.execute("SELECT * FROM orders WHERE id = %s FOR UPDATE", (order_id,))).fetchone()
    return dict(row) if row else None


async def set_status(conn: Conn, order_id: int, status: str, now: dt.datetime) -> dict[str, Any]:
    """Move the order to `status` as of `now`; returns the updated row."""
    row = await (
        await conn.execute(
            "UPDATE orders SET status = %s, updated_at = %s WHERE id = %s RETURNING *",
            (status, now, order_id),
        )
    ).fetchone()
    assert row is not None
    return dict(row)


async def latest_of_customer(
    conn: Conn, store_id: int, customer_id: int, number: int | None = None, *, active_only: bool = False
) -> dict[str, Any] | None:
    """The customer's newest order (or the one numbered `number`, if it is theirs); with
    `active_only`, only one not yet delivered, picked up or cancelled."""
    sql = "SELECT * FROM orders WHERE customer_id = %s AND store_id = %s"
    params: list[Any] = [customer_id, store_id]
    if number is not None:
        sql += " AND number = %s"
        params.append(number)
    if active_only:
        sql += " AND status NOT IN ('delivered', 'picked_up', 'cancelled')"
    sql += " ORDER BY placed_at DESC, id DESC LIMIT 1"
    row = await (await conn.execute(sql, params)).fetchone()
    return dict(row) if row else None


async def lines(conn: Conn, order_id: int) -> list[dict[str, Any]]:
    """The order's lines in order: item code, name, quantity, unit price and line total (cents),
    options, excluded option names, notes."""
    cur = await conn.execute(
        "SELECT item_code, name, quantity, unit_price_cents, line_total_cents, options, excluded, notes"
        " FROM order_lines WHERE order_id = %s ORDER BY position",
        (order_id,),
    )
    return [dict(r) for r in await cur.fetchall()]


async def list_with_customer(
    conn: Conn, store_id: int, *, statuses: list[str], since: dt.datetime | None, limit: int
) -> list[dict[str, Any]]:
    """Orders of the store joined with their customer, newest first; filtered by status (any
    of; none: all) and placed at or after `since`; at most `limit`."""
    sql = _WITH_CUSTOMER + " WHERE o.store_id = %s"
    params: list[Any] = [store_id]
    if statuses:
        sql += " AND o.status = ANY(%s)"
        params.append(statuses)
    if since is not None:
        sql += " AND o.placed_at >= %s"
        params.append(since)
    sql += " ORDER BY o.placed_at DESC, o.id DESC LIMIT %s"
    params.append(limit)
    cur = await conn.execute(sql, params)
    return [dict(r) for r in await cur.fetchall()]


async def get_with_customer(conn: Conn, store_id: int, number: int) -> dict[str, Any] | None:
    """The store's order `number` joined with its customer, or None."""
    row = await (
        await conn.execute(_WITH_CUSTOMER + " WHERE o.store_id = %s AND o.number = %s", (store_id, number))
    ).fetchone()
    return dict(row) if row else None
