"""One turn of the conversation: the inbound message as the bot sees it, and its context."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from services.orders.db import Conn
from services.orders.store import StoreRow


def _int(value: str | None) -> int:
    try:
        return max(0, int(value or "0"))
    except ValueError:
        return 0


@dataclass(frozen=True, slots=True)
class Inbound:
    """An inbound WhatsApp message, from Twilio's webhook fields.

    `sender` is Twilio's `From` exactly as sent (`whatsapp:+15551230001`, possibly an opaque
    user id): never parse it as a phone number. Location pins carry `Latitude`/`Longitude`
    (and `Address`/`Label` for a named place); quick-reply taps carry `ButtonPayload`/`ButtonText`
    (https://www.twilio.com/docs/messaging/guides/webhook-request).
    """

    message_sid: str
    sender: str
    body: str
    profile_name: str | None = None
    wa_id: str | None = None
    num_media: int = 0
    message_type: str | None = None
    button_payload: str | None = None
    button_text: str | None = None
    latitude: str | None = None
    longitude: str | None = None
    address: str | None = None
    label: str | None = None
    throttled: str | None = None

    @classmethod
    def from_fields(cls, f: dict[str, str]) -> Inbound:
        """Build from the envelope's Twilio fields; blank optional fields become None."""

        def opt(name: str) -> str | None:
            value = f.get(name, "").strip()
            return value or None

        return cls(
            message_sid=f.get("MessageSid", ""),
            sender=f.get("From", ""),
            body=f.get("Body", ""),
            profile_name=opt("ProfileName"),
            wa_id=opt("WaId"),
            num_media=_int(f.get("NumMedia")),
            message_type=opt("MessageType"),
            button_payload=opt("ButtonPayload"),
            button_text=opt("ButtonText"),
            latitude=opt("Latitude"),
            longitude=opt("Longitude"),
            address=opt("Address"),
            label=opt("Label"),
            throttled=opt("_throttled"),
        )

    @property
    def text(self) -> str:
        """What the customer said: a tapped button's payload wins over the body."""
        return self.button_payload or self.button_text or self.body


@dataclass
class Turn:
    """Everything a conversation step may use: an open transaction, the store, the locked
    customer row (a dict of the `customers` columns), the message, and the current time (UTC)."""

    conn: Conn
    store: StoreRow
    customer: dict[str, Any]
    inbound: Inbound
    now: dt.datetime
    cart_ttl: dt.timedelta
