"""The `staff_events` table: what changed for the dashboard's live views, written by triggers
(migrations/0002_staff.sql) in the changing transaction and moved to the `{p}:events` stream by
the event relay (web/dashboard/events.py), which deletes what it published."""

from __future__ import annotations

from typing import Any

from services.orders.storage.pool import Conn

# The NOTIFY channel the triggers signal on commit.
CHANNEL = "staff_events"


async def oldest(conn: Conn, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` events in id order: `id`, `kind`, `order_id`, `customer_id`."""
    cur = await conn.execute(
        "SELECT id, kind, order_id, customer_id FROM staff_events ORDER BY id LIMIT %s", (limit,)
    )
    return [dict(r) for r in await cur.fetchall()]


async def delete(conn: Conn, ids: list[int]) -> None:
    """Remove published events."""
    await conn.execute("DELETE FROM staff_events WHERE id = ANY(%s)", (ids,))
