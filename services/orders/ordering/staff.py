"""What the staff API reads and changes, as typed functions on a connection (routes.py owns HTTP).

Orders are shown as JSON-ready dicts: money in integer cents (`*_cents`) plus the display
string (`"24.49"`), times as ISO 8601 with offset. The handoff functions flip
`customers.mode` and tell the customer through the outbox (24-hour rule applies: outside the
window the store's `handoff`/`release` template is used, else a `not_sent` row is kept).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.orders.language import mark as _
from services.orders.language import speaker_for
from services.orders.menu.catalog import Store, format_money
from services.orders.menu.files import template_for
from services.orders.ordering import lifecycle
from services.orders.storage import customers, orders, outbox
from services.orders.storage.outbox import queue_notification
from services.orders.storage.pool import Conn

MAX_LIST = 200

HANDOFF_TEXT = _("🙋 A member of our team has joined this chat and will reply here.")
RELEASE_TEXT = _("🤖 You're back with our ordering bot. Send *menu* to order or *help* for options.")


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.datetime) else None


def order_summary(row: dict[str, Any]) -> dict[str, Any]:
    """The list view of one order row (joined with the customer's address and name)."""
    return {
        "number": row["number"],
        "status": row["status"],
        "fulfilment": row["fulfilment"],
        "customer": {
            "address": row.get("customer_address"),
            "profile_name": row.get("profile_name"),
            "language": row.get("customer_language"),
        },
        # the language the order was placed in (docs/languages.md)
        "language": row.get("language") or row.get("customer_language"),
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


async def list_orders(
    conn: Conn, store_id: int, *, statuses: list[str], since: dt.datetime | None, limit: int
) -> list[dict[str, Any]]:
    """Orders of the store, newest first; filtered by status (any of) and placed at or after `since`."""
    rows = await orders.list_with_customer(
        conn, store_id, statuses=statuses, since=since, limit=min(limit, MAX_LIST)
    )
    return [order_summary(r) for r in rows]


async def get_order(conn: Conn, store_id: int, number: int) -> dict[str, Any] | None:
    """One order in full: lines, totals, history, and each message sent about it with its
    delivery state (`pending`, `not_sent`, `queued`, `sent`, `delivered`, `read`, `failed`…)."""
    row = await orders.get_with_customer(conn, store_id, number)
    if row is None:
        return None
    order = order_summary(row)
    order["delivery_location"] = row["delivery_location"]
    order["notes"] = row["notes"]
    order["subtotal"] = format_money(int(row["subtotal_cents"]))
    order["delivery_fee"] = format_money(int(row["delivery_fee_cents"]))
    order_id = int(row["id"])
    order["lines"] = await orders.lines(conn, order_id)
    order["history"] = [
        {
            "from": h["from_status"],
            "to": h["to_status"],
            "actor": h["actor"],
            "reason": h["reason"],
            "at": _iso(h["at"]),
        }
        for h in await orders.history(conn, order_id)
    ]
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
        for m in await outbox.of_order(conn, order_id)
    ]
    return order


async def set_mode(
    conn: Conn,
    store_id: int,
    address: str,
    mode: str,
    *,
    templates: dict[str, Any],
    now: dt.datetime,
    store: Store | None = None,
) -> dict[str, Any] | None:
    """Hand the conversation to staff (`human`) or back to the bot (`bot`); the customer is told
    in their language (`store` gives the store's default and formats; optional, the message
    carries no money or time).

    Returns `{"customer", "mode", "changed", "notified"}`, or None for an unknown customer.
    Idempotent: setting the mode it already has changes nothing and sends nothing.
    """
    customer = await customers.lock_by_address(conn, store_id, address)
    if customer is None:
        return None
    if customer["mode"] == mode:
        return {"customer": address, "mode": mode, "changed": False, "notified": None}
    # A handoff clears any half-finished checkout: staff see the cart and take it from there.
    await customers.set_mode(conn, int(customer["id"]), mode, now, end_checkout=True)
    human = mode == "human"
    language = customer.get("language")
    speaker = store.speaker(language) if store else speaker_for(language, currency="USD", timezone="UTC")
    notified = await queue_notification(
        conn,
        customer=customer,
        body=speaker._(HANDOFF_TEXT if human else RELEASE_TEXT),
        purpose="staff:handoff" if human else "staff:release",
        order_id=None,
        template=template_for(templates, "handoff" if human else "release", speaker.locale),
        variables={"name": customer.get("profile_name") or ""},
        now=now,
    )
    return {"customer": address, "mode": mode, "changed": True, "notified": notified}
