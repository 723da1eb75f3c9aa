"""The `cart_lines` table: a customer's cart, lines with copies of name, unit price and options.

Every change restarts the cart's idle timer (`customers.cart_updated_at`). A line holds at most
`MAX_QUANTITY` of its item.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from psycopg.types.json import Jsonb

from services.orders.menu.catalog import MAX_QUANTITY, format_money
from services.orders.storage import customers
from services.orders.storage.pool import Conn


@dataclass(frozen=True, slots=True)
class CartLine:
    """One cart line. Prices in cents; `options` are dicts {group, option, name, qualifier, price_cents}."""

    id: int
    item_code: str
    name: str
    unit_price_cents: int
    quantity: int
    options: list[dict[str, Any]] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    notes: str = ""

    @property
    def total_cents(self) -> int:
        """Unit price times quantity, in cents."""
        return self.unit_price_cents * self.quantity

    def describe(self) -> str:
        """`2 x Pepperoni (Large, extra Cheese; no Onions) — 27.00`"""
        extras = [
            f"{o['qualifier']} {o['name']}" if o.get("qualifier") else str(o["name"]) for o in self.options
        ]
        extras += [f"no {name}" for name in self.excluded]
        if self.notes:
            extras.append(self.notes)
        detail = f" ({', '.join(extras)})" if extras else ""
        return f"{self.quantity} x {self.name}{detail} — {format_money(self.total_cents)}"


def subtotal(lines: list[CartLine]) -> int:
    """Sum of the lines' totals, in cents."""
    return sum(line.total_cents for line in lines)


async def load_cart(conn: Conn, customer_id: int) -> list[CartLine]:
    """The cart's lines in the order they were added."""
    cur = await conn.execute(
        "SELECT id, item_code, name, unit_price_cents, quantity, options, excluded, notes"
        " FROM cart_lines WHERE customer_id = %s ORDER BY position, id",
        (customer_id,),
    )
    return [CartLine(**row) for row in await cur.fetchall()]


async def add_line(
    conn: Conn,
    customer_id: int,
    *,
    item_code: str,
    name: str,
    unit_price_cents: int,
    quantity: int,
    options: list[dict[str, Any]] | None = None,
    excluded: list[str] | None = None,
    notes: str = "",
    now: dt.datetime,
) -> tuple[int, int]:
    """Add a line, or raise the quantity of an identical one (same item, options and notes);
    returns (the line's id, how many were really added). A line holds at most MAX_QUANTITY,
    so fewer than `quantity` (even none) may be added: the caller must say so."""
    options, excluded = options or [], excluded or []
    cur = await conn.execute(
        "WITH old AS (SELECT id, quantity FROM cart_lines"
        " WHERE customer_id = %s AND item_code = %s AND options = %s AND excluded = %s AND notes = %s"
        " FOR UPDATE)"
        " UPDATE cart_lines c SET quantity = LEAST(old.quantity + %s, %s) FROM old WHERE c.id = old.id"
        " RETURNING c.id, c.quantity - old.quantity AS added",
        (customer_id, item_code, Jsonb(options), Jsonb(excluded), notes, quantity, MAX_QUANTITY),
    )
    row = await cur.fetchone()
    if row is not None:
        if row["added"] > 0:
            await touch(conn, customer_id, now)
        return int(row["id"]), int(row["added"])
    cur = await conn.execute(
        "INSERT INTO cart_lines (customer_id, item_code, name, unit_price_cents, quantity, options,"
        " excluded, notes, position)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s,"
        " (SELECT COALESCE(max(position), 0) + 1 FROM cart_lines WHERE customer_id = %s)) RETURNING id",
        (
            customer_id,
            item_code,
            name,
            unit_price_cents,
            min(quantity, MAX_QUANTITY),
            Jsonb(options),
            Jsonb(excluded),
            notes,
            customer_id,
        ),
    )
    row = await cur.fetchone()
    await touch(conn, customer_id, now)
    assert row is not None
    return int(row["id"]), min(quantity, MAX_QUANTITY)


async def touch(conn: Conn, customer_id: int, now: dt.datetime) -> None:
    """Record cart activity (the idle timer restarts)."""
    await customers.set_cart_updated_at(conn, customer_id, now)


async def clear_cart(conn: Conn, customer_id: int) -> int:
    """Remove every line; returns how many there were."""
    cur = await conn.execute("DELETE FROM cart_lines WHERE customer_id = %s", (customer_id,))
    return cur.rowcount


async def set_quantity(conn: Conn, customer_id: int, line_id: int, quantity: int, now: dt.datetime) -> None:
    """Set a line's quantity (1..99); 0 or less removes the line."""
    if quantity <= 0:
        await remove_line(conn, customer_id, line_id, now)
        return
    await conn.execute(
        "UPDATE cart_lines SET quantity = %s WHERE id = %s AND customer_id = %s",
        (min(quantity, MAX_QUANTITY), line_id, customer_id),
    )
    await touch(conn, customer_id, now)


async def remove_line(conn: Conn, customer_id: int, line_id: int, now: dt.datetime) -> None:
    """Remove one line of the customer's cart."""
    await conn.execute("DELETE FROM cart_lines WHERE id = %s AND customer_id = %s", (line_id, customer_id))
    await touch(conn, customer_id, now)


async def update_line(
    conn: Conn,
    customer_id: int,
    line_id: int,
    *,
    unit_price_cents: int,
    options: list[dict[str, Any]],
    excluded: list[str],
    notes: str,
    now: dt.datetime,
) -> None:
    """Replace a line's options, exclusions, notes and unit price (cents)."""
    await conn.execute(
        "UPDATE cart_lines SET unit_price_cents = %s, options = %s, excluded = %s, notes = %s"
        " WHERE id = %s AND customer_id = %s",
        (unit_price_cents, Jsonb(options), Jsonb(excluded), notes, line_id, customer_id),
    )
    await touch(conn, customer_id, now)
