"""What the dashboard reads: tickets, conversations, the handoff inbox, the menu and today's numbers.

Reads only; every change goes through the functions the staff API uses (lifecycle.transition,
staff.set_mode, store.set_item_available) or the few small writes in views.py. Money comes back
as display strings (`format_money`), times as aware datetimes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final
from zoneinfo import ZoneInfo

from services.orders.language import language_name
from services.orders.menu.catalog import format_money
from services.orders.ordering import lifecycle
from services.orders.storage import customers, orders
from services.orders.storage.pool import Conn

ACTIVE: Final = ("placed", "confirmed", "preparing", "ready", "out_for_delivery")
# The statuses the kitchen still owes: their waiting time is held against the preparation time.
TIMED: Final = frozenset({"placed", "confirmed", "preparing"})
DONE_SHOWN: Final = 20
WORDS_SHOWN: Final = 12
WORD_CHARS: Final = 200
CONVERSATION_SHOWN: Final = 100
# Twilio error codes staff meet most, in words (https://www.twilio.com/docs/api/errors).
ERROR_TEXTS: Final = {
    "63016": "outside WhatsApp's 24-hour window; only a template can be sent",
    "63024": "invalid message recipient",
    "63003": "the channel could not find the recipient",
    "63038": "the account's daily message limit was reached",
    "21211": "invalid 'To' number",
    "21610": "the customer unsubscribed (STOP)",
    "30003": "the phone is unreachable",
    "30005": "unknown destination",
    "30006": "landline or unreachable carrier",
    "30007": "filtered by the carrier",
    "30008": "unknown error",
}


def option_text(option: dict[str, Any]) -> str:
    """`large`, `extra cheese`: an option as the kitchen reads it."""
    name = str(option.get("name") or option.get("option") or "")
    qualifier = option.get("qualifier")
    return f"{qualifier} {name}" if qualifier else name


def line_view(row: dict[str, Any]) -> dict[str, Any]:
    """One order line for a ticket: quantity, name, option words, exclusions, notes, total."""
    return {
        "quantity": int(row["quantity"]),
        "name": row["name"],
        "options": [option_text(o) for o in row.get("options") or []],
        "excluded": [f"no {x}" for x in row.get("excluded") or []],
        "notes": row.get("notes") or "",
        "notes_flag": row.get("notes_flag"),
        "unit_price": format_money(int(row["unit_price_cents"])),
        "total": format_money(int(row["line_total_cents"])),
    }


NEXT_LABELS: Final = {
    "confirmed": "Confirm",
    "preparing": "Start preparing",
    "ready": "Mark ready",
    "out_for_delivery": "Out for delivery",
    "delivered": "Delivered",
    "picked_up": "Picked up",
}


def flag_kind(notes_flag: str | None, lines: list[dict[str, Any]]) -> str | None:
    """The strongest flag of an order's notes: `allergy` over `diet`, or None."""
    flags = {notes_flag, *(line["notes_flag"] for line in lines)}
    return "allergy" if "allergy" in flags else "diet" if "diet" in flags else None


def _ticket(row: dict[str, Any], lines: list[dict[str, Any]], words: list[str]) -> dict[str, Any]:
    status, fulfilment = str(row["status"]), str(row["fulfilment"])
    allowed = lifecycle.allowed_next(status, fulfilment)
    placed: dt.datetime = row["placed_at"]
    updated: dt.datetime = row["updated_at"]
    return {
        "id": int(row["id"]),
        "number": int(row["number"]),
        "status": status,
        "status_label": lifecycle.LABELS.get(status, status),
        "fulfilment": fulfilment,
        "delivery_address": row.get("delivery_address"),
        "notes": row.get("notes") or "",
        "notes_flag": row.get("notes_flag"),
        "flag_kind": flag_kind(row.get("notes_flag"), lines),
        "customer_id": int(row["customer_id"]),
        "customer_name": row.get("profile_name") or "",
        "language": language_name(row.get("language") or row.get("customer_language")),
        "customer_address": row.get("customer_address") or "",
        "mode": row.get("mode") or "bot",
        "placed_at": placed,
        "placed_ms": int(placed.timestamp() * 1000),
        "updated_at": updated,
        "updated_ms": int(updated.timestamp() * 1000),
        "ready_by": row.get("estimated_ready_at") or placed,
        "timed": status in TIMED,
        "subtotal": format_money(int(row["subtotal_cents"])),
        "delivery_fee": format_money(int(row["delivery_fee_cents"])),
        "total": format_money(int(row["total_cents"])),
        "currency": row["currency"],
        "lines": lines,
        "words": words,
        "next": [(s, NEXT_LABELS.get(s, s)) for s in allowed if s != "cancelled"],
        "can_cancel": "cancelled" in allowed,
        "final": status in lifecycle.FINAL,
    }


_TICKET_SELECT: Final = (
    "SELECT o.*, c.address AS customer_address, c.profile_name, c.mode, c.language AS customer_language"
    " FROM orders o"
    " JOIN customers c ON c.id = o.customer_id"
)


# The messages that made each order: those whose turn changed the cart (inbox.cart_change,
# recorded by the consumer), from the one that started the cart the order was placed from up
# to the confirming message, which placed it.
_WORDS_SQL: Final = """
SELECT o.id AS order_id, m.body FROM orders o
CROSS JOIN LATERAL (
    SELECT COALESCE((SELECT received_at FROM inbox WHERE message_sid = o.confirm_message_sid),
                    o.placed_at) AS until
) u
CROSS JOIN LATERAL (
    SELECT max(received_at) AS since FROM inbox s
    WHERE s.customer_id = o.customer_id AND s.cart_change = 'started' AND s.received_at < u.until
) st
CROSS JOIN LATERAL (
    SELECT body, received_at FROM inbox i
    WHERE i.customer_id = o.customer_id AND i.cart_change IN ('started', 'changed')
      AND i.received_at >= st.since AND i.received_at < u.until
    ORDER BY i.received_at LIMIT %(shown)s
) m
WHERE o.id = ANY(%(ids)s) ORDER BY o.id, m.received_at
"""


async def tickets(conn: Conn, store_id: int, order_ids: list[int]) -> list[dict[str, Any]]:
    """The tickets of these orders (oldest first), each with its lines and the customer's words.

    The words are the messages that made the order: the ones whose turn changed the cart
    (`inbox.cart_change`), since the cart was started, in the order they were sent.
    """
    if not order_ids:
        return []
    rows = await (
        await conn.execute(
            _TICKET_SELECT + " WHERE o.store_id = %s AND o.id = ANY(%s) ORDER BY o.placed_at, o.id",
            (store_id, order_ids),
        )
    ).fetchall()
    ids = [int(r["id"]) for r in rows]
    lines: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for line in await (
        await conn.execute(
            "SELECT order_id, name, quantity, unit_price_cents, line_total_cents, options, excluded, notes,"
            " notes_flag FROM order_lines WHERE order_id = ANY(%s) ORDER BY order_id, position",
            (ids,),
        )
    ).fetchall():
        lines[int(line["order_id"])].append(line_view(dict(line)))
    words: dict[int, list[str]] = {i: [] for i in ids}
    for message in await (await conn.execute(_WORDS_SQL, {"ids": ids, "shown": WORDS_SHOWN})).fetchall():
        body = " ".join(str(message["body"] or "").split())
        if body:
            words[int(message["order_id"])].append(body[:WORD_CHARS])
    return [_ticket(dict(row), lines[int(row["id"])], words[int(row["id"])]) for row in rows]


async def ticket(conn: Conn, store_id: int, order_id: int) -> dict[str, Any] | None:
    """One order's ticket, or None when it is not the store's."""
    found = await tickets(conn, store_id, [order_id])
    return found[0] if found else None


async def order_id_of(conn: Conn, store_id: int, number: int) -> int | None:
    """The id of order `number`, or None."""
    found = await orders.find(conn, store_id, number)
    return found[0] if found else None


async def board(conn: Conn, store_id: int, now: dt.datetime) -> dict[str, list[dict[str, Any]]]:
    """The live queue: every unfinished order by status, oldest first, plus the last finished
    ones of 12 hours, the most recently finished first."""
    rows = await (
        await conn.execute(
            "(SELECT id FROM orders WHERE store_id = %s AND status = ANY(%s))"
            " UNION ALL"
            " (SELECT id FROM orders WHERE store_id = %s AND NOT (status = ANY(%s)) AND updated_at > %s"
            "  ORDER BY updated_at DESC LIMIT %s)",
            (store_id, list(ACTIVE), store_id, list(ACTIVE), now - dt.timedelta(hours=12), DONE_SHOWN),
        )
    ).fetchall()
    columns: dict[str, list[dict[str, Any]]] = {s: [] for s in (*ACTIVE, "done")}
    for t in await tickets(conn, store_id, [int(r["id"]) for r in rows]):
        columns[column_of(t["status"])].append(t)
    columns["done"].sort(key=lambda t: t["updated_at"], reverse=True)  # the last finished first
    return columns


def column_of(status: str) -> str:
    """The queue column a status belongs to (finished orders share `done`)."""
    return status if status in ACTIVE else "done"


async def history(conn: Conn, order_id: int) -> list[dict[str, Any]]:
    """The order's status history, oldest first."""
    rows = await orders.history(conn, order_id)
    return [
        r | {"label": lifecycle.LABELS.get(r["to_status"], r["to_status"]), "by": actor_name(r["actor"])}
        for r in rows
    ]


def actor_name(actor: str) -> str:
    """Who made a change, for people: `staff:Maria` -> `Maria`, `staff` (the staff API's
    shared token) -> `Staff (API)`, `customer` -> `Customer`."""
    if actor.startswith("staff:"):
        return actor.removeprefix("staff:")
    return {"staff": "Staff (API)", "customer": "Customer", "system": "System"}.get(actor, actor)


def _message(row: dict[str, Any]) -> dict[str, Any]:
    code = row.get("error_code")
    reason = row.get("error_message") or (ERROR_TEXTS.get(str(code), "") if code else "")
    body = row.get("body")
    if body is None and row.get("content_sid"):
        body = f"Template {row['content_sid']} {row.get('content_variables') or ''}".strip()
    return {
        "direction": row["direction"],
        "body": body or "",
        "at": row["at"],
        "status": row.get("status"),
        "error_code": code,
        "reason": reason,
        "purpose": row.get("purpose") or "",
        "author": row.get("author") or "",
    }


async def conversation(
    conn: Conn, customer_id: int, since: dt.datetime | None = None, limit: int = CONVERSATION_SHOWN
) -> list[dict[str, Any]]:
    """The customer's messages both ways (inbox and outbox), oldest first, the last `limit` of them.

    Outbound ones carry their delivery state: pending, not_sent, queued, sent, delivered,
    read, failed/undelivered with the reason (Twilio's ErrorCode in words when no message came),
    and `author`, the staff member whose action queued it ("" for the bot's).
    """
    rows = await (
        await conn.execute(
            """
            SELECT * FROM (
                SELECT 'in' AS direction, body, received_at AS at, NULL AS status, NULL AS error_code,
                       NULL AS error_message, NULL AS content_sid, NULL AS content_variables,
                       '' AS purpose, 0 AS seq, NULL AS author
                FROM inbox WHERE customer_id = %(c)s AND received_at >= %(since)s
                UNION ALL
                SELECT 'out', o.body, o.created_at, o.status, o.error_code, o.error_message, o.content_sid,
                       o.content_variables, o.purpose, o.seq, COALESCE(NULLIF(u.name, ''), u.email)
                FROM outbox o LEFT JOIN staff_users u ON u.id = o.staff_user_id
                WHERE o.customer_id = %(c)s AND o.created_at >= %(since)s
                ORDER BY at DESC, seq DESC LIMIT %(limit)s
            ) m ORDER BY at, seq
            """,
            {"c": customer_id, "since": since or dt.datetime(2000, 1, 1, tzinfo=dt.UTC), "limit": limit},
        )
    ).fetchall()
    return [_message(dict(r)) for r in rows]


async def previous_order_at(conn: Conn, customer_id: int, placed_at: dt.datetime) -> dt.datetime | None:
    """When the customer placed the order before the one placed at `placed_at`."""
    row = await (
        await conn.execute(
            "SELECT max(placed_at) AS at FROM orders WHERE customer_id = %s AND placed_at < %s",
            (customer_id, placed_at),
        )
    ).fetchone()
    return row["at"] if row else None


async def customer(conn: Conn, store_id: int, customer_id: int) -> dict[str, Any] | None:
    """A customer row of the store, or None."""
    return await customers.get(conn, store_id, customer_id)


async def handoffs(conn: Conn, store_id: int) -> list[dict[str, Any]]:
    """Conversations staff have (mode `human`), the longest waiting first, with the last message."""
    rows = await (
        await conn.execute(
            """
            SELECT c.id, c.address, c.profile_name, c.language, c.mode_changed_at, c.last_inbound_at,
                   last_in.body AS last_body, last_in.received_at AS last_at
            FROM customers c
            LEFT JOIN LATERAL (
                SELECT body, received_at FROM inbox WHERE customer_id = c.id
                ORDER BY received_at DESC LIMIT 1
            ) last_in ON true
            WHERE c.store_id = %s AND c.mode = 'human'
            ORDER BY c.mode_changed_at NULLS FIRST, c.id
            """,
            (store_id,),
        )
    ).fetchall()
    return [dict(r) | {"language": language_name(r["language"])} for r in rows]


async def handoff_count(conn: Conn, store_id: int) -> int:
    """How many conversations wait for staff."""
    row = await (
        await conn.execute(
            "SELECT count(*) AS n FROM customers WHERE store_id = %s AND mode = 'human'", (store_id,)
        )
    ).fetchone()
    return int(row["n"]) if row else 0


async def menu_items(conn: Conn, store_id: int) -> list[dict[str, Any]]:
    """Items on the menu with their availability, in category then name order."""
    rows = await (
        await conn.execute(
            "SELECT code, name, category, price_cents, available FROM items"
            " WHERE store_id = %s AND on_menu ORDER BY category, name",
            (store_id,),
        )
    ).fetchall()
    return [dict(r) | {"price": format_money(int(r["price_cents"]))} for r in rows]


async def set_accepting_orders(conn: Conn, store_id: int, accepting: bool) -> None:
    """Pause or resume ordering: the conversation refuses checkout while paused (checkout.order_gate)."""
    await conn.execute(
        "UPDATE stores SET accepting_orders = %s, updated_at = now() WHERE id = %s", (accepting, store_id)
    )


async def today(conn: Conn, store_id: int, zone: ZoneInfo, now: dt.datetime) -> dict[str, Any]:
    """Today's numbers in the store's time zone.

    Orders placed today, their revenue (cancelled ones excluded), the average time from placed
    to ready (orders that reached ready), cancelled orders, and messages that failed today.
    """
    local = now.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    row = await (
        await conn.execute(
            """
            SELECT count(*) AS orders,
                   COALESCE(sum(total_cents) FILTER (WHERE status <> 'cancelled'), 0) AS revenue,
                   count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
                   avg(r.at - o.placed_at) AS to_ready,
                   count(r.at) AS ready_count
            FROM orders o
            LEFT JOIN LATERAL (
                SELECT min(at) AS at FROM order_status_history h
                WHERE h.order_id = o.id AND h.to_status = 'ready'
            ) r ON true
            WHERE o.store_id = %s AND o.placed_at >= %s
            """,
            (store_id, start),
        )
    ).fetchone()
    failed = await (
        await conn.execute(
            "SELECT count(*) AS n FROM outbox m JOIN customers c ON c.id = m.customer_id"
            " WHERE c.store_id = %s AND m.created_at >= %s"
            " AND m.status IN ('failed', 'undelivered', 'not_sent')",
            (store_id, start),
        )
    ).fetchone()
    assert row is not None and failed is not None
    to_ready: dt.timedelta | None = row["to_ready"]
    return {
        "date": start.date(),
        "orders": int(row["orders"]),
        "revenue": format_money(int(row["revenue"])),
        "cancelled": int(row["cancelled"]),
        "ready_count": int(row["ready_count"]),
        "avg_to_ready_min": round(to_ready.total_seconds() / 60, 1) if to_ready is not None else None,
        "failed_messages": int(failed["n"]),
    }
