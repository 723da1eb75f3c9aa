"""The `stores` and `items` tables: the store row, its menu in PostgreSQL, and loading a menu
file into the database.

A menu file (docs/menu-format.md) is validated by `catalog.load_menu`, then written in one
transaction: the store's settings and the whole document (`stores.menu`), plus one `items`
row per item. Reloading updates in place: order lines keep copies of names and prices, so
nothing already ordered changes. An item dropped from the file is kept with `on_menu = false`.
Staff sold-out toggles survive a reload (availability is operational state; the file's
`available` sets it only for items new to the database). Every change bumps
`stores.menu_version`, which invalidates the in-process `Menu` cache.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from services.orders.menu.catalog import Menu, load_menu
from services.orders.menu.files import parse_templates
from services.orders.storage.pool import Conn


@dataclass(frozen=True, slots=True)
class StoreRow:
    """The store as orders uses it while handling one message."""

    id: int
    code: str
    accepting_orders: bool
    templates: dict[str, Any]
    menu_version: int
    menu: Menu


async def load_menu_into_db(conn: Conn, document: dict[str, Any]) -> tuple[int, Menu]:
    """Validate `document` and write it as the store's menu; returns (store id, menu).

    Runs inside the caller's transaction. Raises `MenuError` before writing anything when the
    document is invalid.
    """
    menu = load_menu(document)
    templates = parse_templates(document, menu.store.languages, menu.store.default_language)
    s = menu.store
    hours = {day: [list(span) for span in spans] for day, spans in s.hours.items()}
    row = await (
        await conn.execute(
            """
            INSERT INTO stores (code, name, currency, timezone, hours, delivery_enabled,
                delivery_fee_cents, minimum_order_cents, pickup_enabled, preparation_minutes,
                templates, menu)
            VALUES (%(code)s, %(name)s, %(currency)s, %(timezone)s, %(hours)s, %(delivery)s,
                %(fee)s, %(minimum)s, %(pickup)s, %(prep)s, %(templates)s, %(menu)s)
            ON CONFLICT (code) DO UPDATE SET
                name = EXCLUDED.name, currency = EXCLUDED.currency, timezone = EXCLUDED.timezone,
                hours = EXCLUDED.hours, delivery_enabled = EXCLUDED.delivery_enabled,
                delivery_fee_cents = EXCLUDED.delivery_fee_cents,
                minimum_order_cents = EXCLUDED.minimum_order_cents,
                pickup_enabled = EXCLUDED.pickup_enabled,
                preparation_minutes = EXCLUDED.preparation_minutes,
                templates = EXCLUDED.templates, menu = EXCLUDED.menu,
                menu_version = stores.menu_version + 1, updated_at = now()
            RETURNING id
            """,
            {
                "code": s.code,
                "name": s.name,
                "currency": s.currency,
                "timezone": s.timezone,
                "hours": Jsonb(hours),
                "delivery": s.delivery.enabled,
                "fee": s.delivery.fee,
                "minimum": s.delivery.minimum_order,
                "pickup": s.pickup,
                "prep": s.preparation_minutes,
                "templates": Jsonb(templates),
                "menu": Jsonb(document),
            },
        )
    ).fetchone()
    assert row is not None
    store_id = int(row["id"])
    codes = []
    for category in menu.categories:
        for item in category.items:
            codes.append(item.code)
            await conn.execute(
                """
                INSERT INTO items (store_id, code, name, category, price_cents, available)
                VALUES (%s, %s, %s, %s, %s, %s)
                ON CONFLICT (store_id, code) DO UPDATE SET
                    name = EXCLUDED.name, category = EXCLUDED.category,
                    price_cents = EXCLUDED.price_cents, on_menu = true, updated_at = now()
                """,
                (store_id, item.code, item.name, category.code, item.price, item.available),
            )
    await conn.execute(
        "UPDATE items SET on_menu = false, updated_at = now() WHERE store_id = %s AND NOT (code = ANY(%s))",
        (store_id, codes),
    )
    return store_id, menu


class StoreCache:
    """Keeps the parsed `Menu` per (store, menu_version) so a message costs one small query."""

    def __init__(self, store_code: str | None) -> None:
        self.store_code = store_code
        self._menus: dict[tuple[int, int], Menu] = {}

    async def current(self, conn: Conn) -> StoreRow | None:
        """The store (the one named by STORE_CODE, else the only one), or None if none loaded.

        Raises `MenuError` if the stored document no longer validates (a code change).
        """
        if self.store_code:
            cur = await conn.execute(
                "SELECT id, code, accepting_orders, templates, menu_version FROM stores WHERE code = %s",
                (self.store_code,),
            )
        else:
            cur = await conn.execute(
                "SELECT id, code, accepting_orders, templates, menu_version FROM stores ORDER BY id LIMIT 1"
            )
        row = await cur.fetchone()
        if row is None:
            return None
        key = (int(row["id"]), int(row["menu_version"]))
        menu = self._menus.get(key)
        if menu is None:
            menu = await self._load(conn, key[0])
            self._menus = {key: menu}  # keep only the newest version
        return StoreRow(
            id=key[0],
            code=row["code"],
            accepting_orders=bool(row["accepting_orders"]),
            templates=dict(row["templates"]),
            menu_version=key[1],
            menu=menu,
        )

    async def _load(self, conn: Conn, store_id: int) -> Menu:
        doc = await (await conn.execute("SELECT menu FROM stores WHERE id = %s", (store_id,))).fetchone()
        assert doc is not None
        menu = load_menu(doc["menu"])
        cur = await conn.execute("SELECT code, available FROM items WHERE store_id = %s", (store_id,))
        available = {r["code"]: bool(r["available"]) for r in await cur.fetchall()}
        categories = tuple(
            dataclasses.replace(
                c,
                items=tuple(
                    dataclasses.replace(i, available=available.get(i.code, i.available)) for i in c.items
                ),
            )
            for c in menu.categories
        )
        return dataclasses.replace(menu, categories=categories)


async def set_item_available(conn: Conn, store_id: int, code: str, available: bool) -> bool:
    """Mark an item available or sold out; returns False when no such item is on the menu."""
    cur = await conn.execute(
        "UPDATE items SET available = %s, updated_at = now() WHERE store_id = %s AND code = %s AND on_menu",
        (available, store_id, code),
    )
    if cur.rowcount == 0:
        return False
    await conn.execute("UPDATE stores SET menu_version = menu_version + 1 WHERE id = %s", (store_id,))
    return True


async def item(conn: Conn, store_id: int, code: str) -> dict[str, Any] | None:
    """The item `code` of the store: code, name, category, price_cents, available; or None."""
    row = await (
        await conn.execute(
            "SELECT code, name, category, price_cents, available FROM items"
            " WHERE store_id = %s AND code = %s",
            (store_id, code),
        )
    ).fetchone()
    return dict(row) if row else None


async def next_order_number(conn: Conn, store_id: int) -> int:
    """Take the store's next order number (the row lock serializes concurrent orders)."""
    row = await (
        await conn.execute(
            "UPDATE stores SET next_order_number = next_order_number + 1 WHERE id = %s"
            " RETURNING next_order_number - 1 AS number",
            (store_id,),
        )
    ).fetchone()
    assert row is not None
    return int(row["number"])
