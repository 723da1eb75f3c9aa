"""Writing replies to the outbox, in the transaction that decided them.

A reply is split into parts of at most 1,600 characters (Twilio's Body limit for WhatsApp,
https://www.twilio.com/docs/api/errors/21617), on paragraph, then line, then word boundaries,
numbered `(1/3)` when split. Each part gets the customer's next `seq`, so the notifier can keep a
customer's replies in order. Business-initiated messages (order status updates) outside
WhatsApp's 24-hour customer-service window must use an approved template
(https://www.twilio.com/docs/api/errors/63016): `queue_notification` picks Body or ContentSid
accordingly, and records a `not_sent` row when no template is configured, never dropping it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import orjson

from services.orders.storage.pool import Conn

MAX_BODY_CHARS = 1600
WINDOW = dt.timedelta(hours=24)
# Reserve room for a "(12/12) " part marker.
_PART_ROOM = MAX_BODY_CHARS - 8


@dataclass(frozen=True, slots=True)
class Reply:
    """A text reply to one customer. `purpose` tags it (reply, status:<status>, staff, throttle)."""

    body: str
    purpose: str = "reply"
    order_id: int | None = None


def split_body(body: str, limit: int = MAX_BODY_CHARS) -> list[str]:
    """Split `body` into ordered parts of at most `limit` characters, marked `(i/n)` if split."""
    body = body.strip() or "…"
    if len(body) <= limit:
        return [body]
    room = limit - 8
    parts: list[str] = []
    rest = body
    while len(rest) > room:
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = rest.rfind(sep, room // 2, room)
            if cut > 0:
                break
        if cut <= 0:
            cut = room
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    n = len(parts)
    return [f"({i}/{n}) {p}" for i, p in enumerate(parts, 1)]


async def _next_seqs(conn: Conn, customer_id: int, count: int) -> int:
    """Reserve `count` sequence numbers for the customer; returns the first one."""
    row = await (
        await conn.execute(
            "UPDATE customers SET reply_seq = reply_seq + %s WHERE id = %s RETURNING reply_seq",
            (count, customer_id),
        )
    ).fetchone()
    assert row is not None
    return int(row["reply_seq"]) - count + 1


async def queue_replies(conn: Conn, customer_id: int, to_address: str, replies: list[Reply]) -> int:
    """Write `replies` (split into parts) to the outbox; returns how many rows were written."""
    rows: list[tuple[str, Reply]] = [(part, r) for r in replies for part in split_body(r.body)]
    if not rows:
        return 0
    first = await _next_seqs(conn, customer_id, len(rows))
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO outbox (customer_id, to_address, seq, body, purpose, order_id)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [
                (customer_id, to_address, first + i, part, reply.purpose, reply.order_id)
                for i, (part, reply) in enumerate(rows)
            ],
        )
    return len(rows)


async def queue_notification(
    conn: Conn,
    *,
    customer: dict[str, Any],
    body: str,
    purpose: str,
    order_id: int | None,
    template: dict[str, Any] | None,
    variables: dict[str, str],
    now: dt.datetime,
) -> str:
    """Queue a business-initiated message; returns how: `body`, `template` or `not_sent`.

    Inside the 24-hour window after the customer's last inbound message: free-form `body`.
    Outside it: the status's template (`ContentSid` + `ContentVariables` built from
    `variables` in the template's order, numbered "1", "2", ...). With no template: a
    `not_sent` row with the reason, visible to staff (with a negative `seq`: it is never
    sent, so it leaves no gap in the customer's reply order). Opted-out customers get nothing.
    """
    if customer.get("opted_out"):
        return "opted_out"
    last = customer.get("last_inbound_at")
    if last is not None and now - last < WINDOW:
        await queue_replies(conn, customer["id"], customer["address"], [Reply(body, purpose, order_id)])
        return "body"
    if template is None:
        # Never published, so it must not take a place in the customer's reply sequence: the
        # notifier sends seq N only after N-1, and would wait for this row forever. Its seq is
        # its own id, negated (unique, and below every real seq).
        await conn.execute(
            "WITH n AS (SELECT nextval(pg_get_serial_sequence('outbox', 'id')) AS id)"
            " INSERT INTO outbox (id, customer_id, to_address, seq, body, purpose, order_id, status,"
            " error_message) SELECT n.id, %s, %s, -n.id, %s, %s, %s, 'not_sent', %s FROM n",
            (
                customer["id"],
                customer["address"],
                body,
                purpose,
                order_id,
                "outside the 24-hour window and no template is configured for this status",
            ),
        )
        return "not_sent"
    seq = await _next_seqs(conn, customer["id"], 1)
    content_variables = orjson.dumps(
        {str(i): variables.get(name, "") for i, name in enumerate(template["variables"], 1)}
    ).decode()
    await conn.execute(
        "INSERT INTO outbox (customer_id, to_address, seq, content_sid, content_variables, purpose,"
        " order_id) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            customer["id"],
            customer["address"],
            seq,
            template["content_sid"],
            content_variables,
            purpose,
            order_id,
        ),
    )
    return "template"
