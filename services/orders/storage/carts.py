"""The `cart_lines` table: a customer's cart, lines with copies of name, unit price and options.

Every change restarts the cart's idle timer (`customers.cart_updated_at`). A line holds at most
`MAX_QUANTITY` of its item, and a cart at most its store's `CartLimits` (lines, items in all).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

from psycopg.types.json import Jsonb

from services.orders.menu.catalog import MAX_QUANTITY, CartLimits
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


def subtotal(lines: list[CartLine]) -> int:
    """Sum of the lines' totals, in cents."""
    return sum(line.total_cents for line in lines)


async def load_cart(conn: Conn, customer_id: int) -> list[CartLine]:
    """The cart's lines in the order they were added.

    Inside `watch` of this customer the lines read are kept until this module next writes the
    cart, so a turn reads an unchanged cart once however often it looks (each call gets its
    own copies)."""
    w = _watch.get()
    if w is not None and w.customer_id != customer_id:
        w = None
    if w is not None and w.lines is not None:
        return [_copy(line) for line in w.lines]
    cur = await conn.execute(
        "SELECT id, item_code, name, unit_price_cents, quantity, options, excluded, notes"
        " FROM cart_lines WHERE customer_id = %s ORDER BY position, id",
        (customer_id,),
    )
    lines = [CartLine(**row) for row in await cur.fetchall()]
    if w is not None:
        w.lines = [_copy(line) for line in lines]
    return lines


def _copy(line: CartLine) -> CartLine:
    return dataclasses.replace(line, options=[dict(o) for o in line.options], excluded=list(line.excluded))


@dataclass(frozen=True, slots=True)
class Added:
    """What `add_line` did: the line added to (None when none could be made), how many items
    were added, and which bound kept back the rest of what was asked: `"line"` (`MAX_QUANTITY`
    on one line), `"lines"` (the cart's `max_lines`), `"items"` (its `max_items`), or None."""

    line_id: int | None
    quantity: int
    limit: Literal["line", "lines", "items"] | None = None


async def cart_size(conn: Conn, customer_id: int) -> tuple[int, int]:
    """(lines, items in all) of the customer's cart."""
    row = await (
        await conn.execute(
            "SELECT count(*)::int AS lines, COALESCE(sum(quantity), 0)::int AS items"
            " FROM cart_lines WHERE customer_id = %s",
            (customer_id,),
        )
    ).fetchone()
    assert row is not None
    return int(row["lines"]), int(row["items"])


async def add_line(
    conn: Conn,
    customer_id: int,
    *,
    item_code: str,
    name: str,
    unit_price_cents: int,
    quantity: int,
    limits: CartLimits,
    options: list[dict[str, Any]] | None = None,
    excluded: list[str] | None = None,
    notes: str = "",
    now: dt.datetime,
) -> Added:
    """Add a line, or raise the quantity of an identical one (same item, options and notes),
    as far as `MAX_QUANTITY` per line and the cart's `limits` allow: fewer than `quantity`
    (even none) may be added, and the caller must say so (`Added.limit` says why).

    Runs in the turn's transaction, which holds the customer's row: the sizes read here cannot
    change before the write."""
    await _before_write(conn, customer_id)
    options, excluded = options or [], excluded or []
    # The sizes and the identical line in one read (the customer's lock keeps them true).
    same = "item_code = %(item)s AND options = %(options)s AND excluded = %(excluded)s AND notes = %(notes)s"
    params: dict[str, Any] = {
        "cid": customer_id,
        "item": item_code,
        "name": name,
        "price": unit_price_cents,
        "options": Jsonb(options),
        "excluded": Jsonb(excluded),
        "notes": notes,
        "now": now,
    }
    sizes = await (
        await conn.execute(
            "SELECT count(*)::int AS lines, COALESCE(sum(quantity), 0)::int AS items,"
            f" min(id) FILTER (WHERE {same}) AS same_id,"
            f" min(quantity) FILTER (WHERE {same}) AS same_quantity"
            " FROM cart_lines WHERE customer_id = %(cid)s",
            params,
        )
    ).fetchone()
    assert sizes is not None
    lines, items = int(sizes["lines"]), int(sizes["items"])
    room = max(0, limits.max_items - items)
    # The idle timer restarts in the write's own statement (`touch`).
    touched = "WITH touched AS (UPDATE customers SET cart_updated_at = %(now)s WHERE id = %(cid)s) "
    if sizes["same_id"] is not None:
        line_id = int(sizes["same_id"])
        line_room = max(0, MAX_QUANTITY - int(sizes["same_quantity"]))
        added = min(quantity, line_room, room)
        if added > 0:
            await conn.execute(
                touched + "UPDATE cart_lines SET quantity = quantity + %(added)s WHERE id = %(id)s",
                {**params, "added": added, "id": line_id},
            )
        return Added(line_id, added, _held_back(added, quantity, line_room, room))
    if lines >= limits.max_lines:
        return Added(None, 0, "lines")
    added = min(quantity, MAX_QUANTITY, room)
    if added <= 0:
        return Added(None, 0, "items")
    cur = await conn.execute(
        touched + "INSERT INTO cart_lines (customer_id, item_code, name, unit_price_cents, quantity,"
        " options, excluded, notes, position)"
        " VALUES (%(cid)s, %(item)s, %(name)s, %(price)s, %(added)s, %(options)s, %(excluded)s, %(notes)s,"
        " (SELECT COALESCE(max(position), 0) + 1 FROM cart_lines WHERE customer_id = %(cid)s)) RETURNING id",
        {**params, "added": added},
    )
    inserted = await cur.fetchone()
    assert inserted is not None
    return Added(int(inserted["id"]), added, _held_back(added, quantity, MAX_QUANTITY, room))


def _held_back(added: int, asked: int, line_room: int, cart_room: int) -> Literal["line", "items"] | None:
    """Which bound kept `asked - added` items out, if any: the tighter of the two rooms."""
    if added >= asked:
        return None
    return "line" if line_room <= cart_room else "items"


async def touch(conn: Conn, customer_id: int, now: dt.datetime) -> None:
    """Record cart activity (the idle timer restarts)."""
    await customers.set_cart_updated_at(conn, customer_id, now)


async def clear_cart(conn: Conn, customer_id: int) -> int:
    """Remove every line; returns how many there were."""
    await _before_write(conn, customer_id)
    cur = await conn.execute("DELETE FROM cart_lines WHERE customer_id = %s", (customer_id,))
    return cur.rowcount


async def set_quantity(conn: Conn, customer_id: int, line_id: int, quantity: int, now: dt.datetime) -> None:
    """Set a line's quantity (1..99); 0 or less removes the line."""
    await _before_write(conn, customer_id)
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
    await _before_write(conn, customer_id)
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
    await _before_write(conn, customer_id)
    await conn.execute(
        "UPDATE cart_lines SET unit_price_cents = %s, options = %s, excluded = %s, notes = %s"
        " WHERE id = %s AND customer_id = %s",
        (unit_price_cents, Jsonb(options), Jsonb(excluded), notes, line_id, customer_id),
    )
    await touch(conn, customer_id, now)


@dataclass(frozen=True, slots=True)
class CartMark:
    """What a cart held at one moment: its line ids and a digest of their contents."""

    ids: frozenset[int]
    digest: str


@dataclass(slots=True)
class CartWatch:
    """Watches one customer's cart through a unit of work (`watch`): `before` is the cart's mark
    taken right before the first write to it, None while nothing was written; `lines` the
    cart as last read, None once written since (`load_cart`)."""

    customer_id: int
    before: CartMark | None = None
    lines: list[CartLine] | None = None

    async def change(self, conn: Conn) -> str | None:
        """What the unit of work did to the cart (`cart_change`); no statement when it wrote
        nothing, at most one (the cart read after) when it did."""
        if self.before is None:
            return None
        return cart_change(self.before, mark_of(await load_cart(conn, self.customer_id)))


# The current unit of work's `CartWatch` (`watch`), or None.
_watch: ContextVar[CartWatch | None] = ContextVar("cart_watch", default=None)


@contextlib.contextmanager
def watch(customer_id: int) -> Iterator[CartWatch]:
    """Watch `customer_id`'s cart in this task until the block ends. Every write to a cart goes
    through this module, which marks the cart before its first one: a turn that does not touch
    the cart (most questions, the menu) costs no cart statement at all."""
    current = CartWatch(customer_id)
    token = _watch.set(current)
    try:
        yield current
    finally:
        _watch.reset(token)


@contextlib.asynccontextmanager
async def savepoint(conn: Conn) -> AsyncIterator[None]:
    """A savepoint whose writes are undone when the block raises: the cart read inside it is
    forgotten then too, so the next `load_cart` reads the cart as it is again."""
    try:
        async with conn.transaction():
            yield
    except BaseException:
        w = _watch.get()
        if w is not None:
            w.lines = None
        raise


async def _before_write(conn: Conn, customer_id: int) -> None:
    w = _watch.get()
    if w is None or w.customer_id != customer_id:
        return
    if w.before is None:
        w.before = mark_of(await load_cart(conn, customer_id))
    w.lines = None  # about to change


def mark_of(lines: list[CartLine]) -> CartMark:
    """A cart's mark, from its lines as read: their ids and a digest of what a customer sees of
    them (compared by `cart_change`)."""
    content = repr([(x.id, x.quantity, x.unit_price_cents, x.options, x.excluded, x.notes) for x in lines])
    digest = hashlib.md5(content.encode(), usedforsecurity=False).hexdigest()
    return CartMark(frozenset(x.id for x in lines), digest)


def cart_change(before: CartMark, after: CartMark) -> str | None:
    """What one turn did to the cart, as stored in `inbox.cart_change`.

    None: nothing. `emptied`: it had lines and has none (an order placed, a clear, an expiry).
    `started`: it holds lines and none was there before (the first line of a new cart).
    `changed`: lines were added, edited or removed and some of the earlier ones remain.
    """
    if before == after:
        return None
    if not after.ids:
        return "emptied" if before.ids else None
    if not before.ids & after.ids:
        return "started"
    return "changed"
