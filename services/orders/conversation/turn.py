"""One turn of the conversation: the inbound message as the bot sees it, and its context."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from services.orders.language import Speaker
from services.orders.storage import customers
from services.orders.storage.pool import Conn
from services.orders.storage.stores import StoreRow


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
    list_id: str | None = None

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
            list_id=opt("ListId"),
        )

    @property
    def text(self) -> str:
        """What the customer said: a tapped button's or list item's payload wins over the body.

        Payloads are developer-defined ids such as `CONFIRM` or `order_status`; underscores and
        dashes read as spaces so they match the typed commands.
        """
        payload = self.button_payload or self.list_id
        if payload:
            return payload.replace("_", " ").replace("-", " ")
        return self.button_text or self.body

    @property
    def has_location(self) -> bool:
        """True for a shared location pin (Latitude and Longitude present)."""
        return bool(self.latitude and self.longitude)


@dataclass
class Turn:
    """Everything a conversation step may use: an open transaction, the store, the locked
    customer row (a dict of the `customers` columns), the message, the current time (UTC), and
    the `speaker` every reply is worded and formatted with (the customer's language, the
    store's currency and time zone)."""

    conn: Conn
    store: StoreRow
    customer: dict[str, Any]
    inbound: Inbound
    now: dt.datetime
    cart_ttl: dt.timedelta
    # What the reply is, for the outbox row's purpose (`reply:<kind>`): "ask" when the bot
    # asks the customer to choose, "price", "order-status", ... (evals/dialogues/README.md).
    kind: str = "reply"
    # Whether a failure of the conversation is caught in a SAVEPOINT of its own (undone alone,
    # answered with an apology). Without it the failure is raised: the caller runs the message
    # again with it (orders' inbound batches first run without savepoints: two round trips less).
    guarded: bool = True
    # Whether `customer["language"]` changed in this turn: the caller saves it with the replies.
    language_changed: bool = False
    # Whether the language is a guess (True), no longer one (False) or unchanged (None): the
    # caller saves this flag of the state with the replies, apart from the rest of the state.
    language_guessed: bool | None = None
    # The topic of the question the bot answered in the customer's previous message ("delivery"
    # after "do you deliver?"), taken out of the state when this turn starts, or None.
    last_topic: str | None = None
    speaker: Speaker = field(init=False)
    # The store as loaded, its menu in the store's default language; `store.menu` is the menu
    # in the customer's language (names, aliases, descriptions: Menu.localized).
    catalog: StoreRow = field(init=False)

    def __post_init__(self) -> None:
        self.catalog = self.store
        self.use_language(self.customer.get("language"))

    def use_language(self, language: str | None) -> None:
        """Speak `language` (a locale the store speaks, else its default) from now on in this
        turn: the speaker and the menu's names. The caller saves it on the customer."""
        settings = self.catalog.menu.store
        self.speaker = settings.speaker(language)
        self.store = dataclasses.replace(self.catalog, menu=self.catalog.menu.localized(self.speaker.locale))

    @property
    def customer_id(self) -> int:
        """The customer's row id."""
        return int(self.customer["id"])

    @property
    def state(self) -> dict[str, Any]:
        """The conversation state (`customers.state`): `question` (a pending "did you mean"),
        `questions` (more to ask after it), `checkout` (the checkout step and choices).
        Mutate it, then `await save_state()`."""
        state = self.customer.get("state")
        if not isinstance(state, dict):
            state = {}
            self.customer["state"] = state
        return state

    async def save_state(self) -> None:
        """Write `state` back to the customer row (same transaction)."""
        await customers.save_state(self.conn, self.customer_id, self.state)
