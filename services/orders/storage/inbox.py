"""The `inbox` table: every inbound WhatsApp message, recorded once by its MessageSid.

The row is written in the transaction that handles the message, so a redelivered stream entry
finds it and changes nothing (`record` returns None).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from services.orders.storage.pool import Conn


async def record(
    conn: Conn,
    message_sid: str,
    body: str,
    fields: dict[str, str],
    received_at: dt.datetime,
    *,
    store_id: int,
    address: str,
    wa_id: str | None,
    profile_name: str | None,
) -> dict[str, Any] | None:
    """Record the message and, when it is new, create or update its sender's `customers` row,
    in one statement (one round trip on the hot path): returns the customer row, locked until
    the transaction ends, or None when the MessageSid was already recorded (a redelivery, which
    changes nothing: the customer is not touched). `last_inbound_at` (the message's arrival)
    moves forward only."""
    cur = await conn.execute(
        """
        WITH message AS (
            INSERT INTO inbox (message_sid, body, fields, received_at) VALUES (%s, %s, %s, %s)
            ON CONFLICT (message_sid) DO NOTHING
            RETURNING received_at
        )
        INSERT INTO customers (store_id, address, wa_id, profile_name, last_inbound_at)
        SELECT %s, %s, %s, %s, received_at FROM message
        ON CONFLICT (store_id, address) DO UPDATE SET
            wa_id = COALESCE(EXCLUDED.wa_id, customers.wa_id),
            profile_name = COALESCE(EXCLUDED.profile_name, customers.profile_name),
            last_inbound_at = GREATEST(customers.last_inbound_at, EXCLUDED.last_inbound_at)
        RETURNING *
        """,
        (message_sid, body, Jsonb(fields), received_at, store_id, address, wa_id, profile_name),
    )
    row = await cur.fetchone()
    return dict(row) if row else None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What handling one message came to, for its `inbox` row (see `set_outcome`)."""

    message_sid: str
    customer_id: int
    outcome: str
    cart_change: str | None = None
    # The customer's language when the turn changed it ("es", "pt_BR"), saved with the outcome.
    language: str | None = None
    # The state's language-guessed flag when the turn set (True) or cleared (False) it.
    language_guessed: bool | None = None


async def set_outcome(
    conn: Conn, message_sid: str, customer_id: int, outcome: str, *, cart_change: str | None = None
) -> None:
    """Attach the customer, the conversation's outcome (`handled`, `opted_out`, …) and what the
    turn did to the cart (`carts.cart_change`: `started`, `changed`, `emptied` or None) to the row."""
    await conn.execute(
        "UPDATE inbox SET customer_id = %s, outcome = %s, cart_change = %s WHERE message_sid = %s",
        (customer_id, outcome, cart_change, message_sid),
    )
