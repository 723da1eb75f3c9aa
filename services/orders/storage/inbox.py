"""The `inbox` table: every inbound WhatsApp message, recorded once by its MessageSid.

The row is written in the transaction that handles the message, so a redelivered stream entry
finds it and changes nothing (`record` returns False).
"""

from __future__ import annotations

import datetime as dt

from psycopg.types.json import Jsonb

from services.orders.storage.pool import Conn


async def record(
    conn: Conn, message_sid: str, body: str, fields: dict[str, str], received_at: dt.datetime
) -> bool:
    """Record the message; False when its MessageSid was already recorded (a redelivery)."""
    cur = await conn.execute(
        "INSERT INTO inbox (message_sid, body, fields, received_at) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (message_sid) DO NOTHING",
        (message_sid, body, Jsonb(fields), received_at),
    )
    return cur.rowcount > 0


async def set_outcome(
    conn: Conn, message_sid: str, customer_id: int, outcome: str, *, cart_change: str | None = None
) -> None:
    """Attach the customer, the conversation's outcome (`handled`, `opted_out`, …) and what the
    turn did to the cart (`carts.cart_change`: `started`, `changed`, `emptied` or None) to the row."""
    await conn.execute(
        "UPDATE inbox SET customer_id = %s, outcome = %s, cart_change = %s WHERE message_sid = %s",
        (customer_id, outcome, cart_change, message_sid),
    )
