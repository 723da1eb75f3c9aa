"""What the staff API reads and changes, as typed functions on a connection (routes.py owns HTTP).

Orders are shown as JSON-ready dicts: money in integer cents (`*_cents`) plus the display
string (`"24.49"`), times as ISO 8601 with offset. The handoff functions flip
`customers.mode` and tell the customer through the outbox (24-hour rule applies: outside the
window the store's `handoff`/`release` template is used, else a `not_sent` row is kept).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.orders.menu.catalog import format_money
from services.orders.ordering import lifecycle
from services.orders.storage.outbox import queue_notification
from services.orders.storage.pool import Conn

MAX_LIST = 200

HANDOFF_TEXT = "🙋 A member of our team has joined this chat and will reply here."
RELEASE_TEXT = "🤖 You're back with our ordering bot. Send *menu* to order or *help* for options."


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.datetime) else None


def order_summary(row: dict[str, Any]) -> dict[str, Any]:
    """The list view of one order row (joined with the customer's address and name)."""
    return {
        "number": row["number"],
        "status": row["status"],
        "fulfilment": row["fulfilment"],
        "customer": {"address": row.get("customer_address"), "profile_name": row.get("profile_name")},
        "delivery_address": row["delivery_address"],
        "subtotal_cents": row["subtotal_cents"],
        "delivery_fee_cents": row["delivery_fee_cents"],
        "total_cents": row["total_cents"],
        "total": format_money(int(row["total_cents"])),
        "currency": row["currency"],
        "placed_at": _iso(row["placed_at"]),
        "updated_at": _iso(row["updated_at"]),
        "estimated_ready_at": _iso(row["estimated_ready_at"]),
        "allowed_transitions": lifecycle.allowed_next(str(row["status"]), str(row["fulfilment"])),
    }


_ORDER_SELECT = (
    "SELECT o.*, c.address AS customer_address, c.profile_name FROM orders o"
    " JOIN customers c ON c.id = o.customer_id"
)


async def list_orders(
    conn: Conn, store_id: int, *, statuses: list[str], since: dt.datetime | None, limit: int
) -> list[dict[str, Any]]:
    """Orders of the store, newest first; filtered by status (any of) and placed at or after `since`."""
    sql = _ORDER_SELECT + " WHERE o.store_id = %s"
    params: list[Any] = [store_id]
    if statuses:
        sql += " AND o.status = ANY(%s)"
        params.append(statuses)
    if since is not None:
        sql += " AND o.placed_at >= %s"
        params.append(since)
    sql += " ORDER BY o.placed_at DESC, o.id DESC LIMIT %s"
    params.append(min(limit, MAX_LIST))
    cur = await conn.execute(sql, params)
    return [order_summary(dict(r)) for r in await cur.fetchall()]


async def get_order(conn: Conn, store_id: int, number: int) -> dict[str, Any] | None:
    """One order in full: lines, totals, history, and each message sent about it with its
    delivery state (`pending`, `not_sent`, `queued`, `sent`, `delivered`, `read`, `failed`…)."""
    row = await (
        await conn.execute(_ORDER_SELECT + " WHERE o.store_id = %s AND o.number = %s", (store_id, number))
    ).fetchone()
    if row is None:
        return None
    order = order_summary(dict(row))
    order["delivery_location"] = row["delivery_location"]
    order["notes"] = row["notes"]
    order["subtotal"] = format_money(int(row["subtotal_cents"]))
    order["delivery_fee"] = format_money(int(row["delivery_fee_cents"]))
    lines = await conn.execute(
        "SELECT item_code, name, quantity, unit_price_cents, line_total_cents, options, excluded, notes"
        " FROM order_lines WHERE order_id = %s ORDER BY position",
        (row["id"],),
    )
    order["lines"] = [dict(r) for r in await lines.fetchall()]
    history = await conn.execute(
        "SELECT from_status, to_status, actor, reason, at FROM order_status_history"
        " WHERE order_id = %s ORDER BY at, id",
        (row["id"],),
    )
    order["history"] = [
        {
            "from": h["from_status"],
            "to": h["to_status"],
            "actor": h["actor"],
            "reason": h["reason"],
            "at": _iso(h["at"]),
        }
        for h in await history.fetchall()
    ]
    messages = await conn.execute(
        "SELECT id, purpose, body, content_sid, content_variables, status, twilio_sid, error_code,"
        " error_message, created_at, published_at, status_updated_at FROM outbox"
        " WHERE order_id = %s ORDER BY id",
        (row["id"],),
    )
    order["messages"] = [
        {
            "id": m["id"],
            "purpose": m["purpose"],
            "kind": "template" if m["content_sid"] else "text",
            "body": m["body"],
            "content_sid": m["content_sid"],
            "content_variables": m["content_variables"],
            "status": m["status"],
            "twilio_sid": m["twilio_sid"],
            "error_code": m["error_code"],
            "error_message": m["error_message"],
            "created_at": _iso(m["created_at"]),
            "published_at": _iso(m["published_at"]),
            "status_updated_at": _iso(m["status_updated_at"]),
        }
        for m in await messages.fetchall()
    ]
    return order


async def set_mode(
    conn: Conn, store_id: int, address: str, mode: str, *, templates: dict[str, Any], now: dt.datetime
) -> dict[str, Any] | None:
    """Hand the conversation to staff (`human`) or back to the bot (`bot`).

    Returns `{"customer", "mode", "changed", "notified"}`, or None for an unknown customer.
    Idempotent: setting the mode it already has changes nothing and sends nothing.
    """
    customer = await (
        await conn.execute(
            "SELECT * FROM customers WHERE store_id = %s AND address = %s FOR UPDATE", (store_id, address)
        )
    ).fetchone()
    if customer is None:
        return None
    if customer["mode"] == mode:
        return {"customer": address, "mode": mode, "changed": False, "notified": None}
    # A handoff clears any half-finished checkout: staff see the cart and take it from there.
    await conn.execute(
        "UPDATE customers SET mode = %s, mode_changed_at = %s,"
        " state = state - 'checkout' - 'question' - 'questions' WHERE id = %s",
        (mode, now, customer["id"]),
    )
    human = mode == "human"
    notified = await queue_notification(
        conn,
        customer=dict(customer),
        body=HANDOFF_TEXT if human else RELEASE_TEXT,
        purpose="staff:handoff" if human else "staff:release",
        order_id=None,
        template=templates.get("handoff" if human else "release"),
        variables={"name": customer.get("profile_name") or ""},
        now=now,
    )
    return {"customer": address, "mode": mode, "changed": True, "notified": notified}
