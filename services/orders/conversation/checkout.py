"""Checkout: delivery or pickup, the delivery address (typed, a location pin, or the saved one),
a summary with subtotal, fee and total, an explicit confirm, and placing the order.

The step lives in `customers.state["checkout"]`: `{"step": "fulfilment" | "address" |
"confirm", "fulfilment": "delivery" | "pickup", "address": str, "location": {...}}`. Any cart
change drops it, so a confirm always refers to the summary the customer last saw. Placing an
order checks again what may have changed since the summary (opening hours, the store pausing
orders, sold-out items, the minimum) and records the confirming MessageSid on the order
(`orders.confirm_message_sid` is unique), so one confirm can never make two orders. Notes that
are allergies or diets are classified then (note_flags.py) and stored with them.
"""

from __future__ import annotations

import math
import re
from typing import Any

from services.orders.conversation.cart import numbered_lines, room
from services.orders.conversation.note_flags import flag_of
from services.orders.conversation.texts import CONFIRM_HINT, ORDER_HINT, echo
from services.orders.conversation.turn import Turn
from services.orders.language import mark as _
from services.orders.menu import delivery_area, hours
from services.orders.menu.catalog import Location
from services.orders.ordering import lifecycle
from services.orders.storage import carts

MIN_ADDRESS_CHARS = 5
MAX_NOTE_CHARS = 300
MAX_ADDRESS_CHARS = 300
MAX_COORDINATE_CHARS = 32
PAUSED = _("Sorry, we're not taking orders right now. Please try again a little later; your cart is saved.")
EMPTY_CART = _("Your cart is empty, so there's nothing to check out yet.")


def _empty_cart(turn: Turn) -> str:
    return turn.speaker._(EMPTY_CART) + " " + turn.speaker._(ORDER_HINT)


def order_gate(turn: Turn) -> str | None:
    """Why no order can be placed right now (paused, closed), or None when it can."""
    s = turn.speaker
    if not turn.store.accepting_orders:
        return s._(PAUSED)
    store = turn.store.menu.store
    if not hours.is_open(store, turn.now):
        return s._("Sorry! {closed}", closed=hours.closed_line(store, turn.now, s))
    return None


def _fulfilment_question(turn: Turn) -> str:
    s = turn.speaker
    delivery = turn.store.menu.store.delivery
    if delivery.minimum_order:
        terms = s._(
            "fee {fee}, minimum order {minimum}",
            fee=s.money(delivery.fee),
            minimum=s.money(delivery.minimum_order),
        )
    else:
        terms = s._("fee {fee}", fee=s.money(delivery.fee))
    return s._(
        "How would you like to get your order?\n"
        "1. 🛵 Delivery ({terms})\n"
        "2. 🏃 Pickup\n"
        "Reply *delivery* or *pickup* (or 1 / 2).",
        terms=terms,
    )


def _address_question(turn: Turn) -> str:
    s = turn.speaker
    saved = turn.customer.get("saved_address")
    text = s._("Where should we deliver? Type your address, or share your location 📍 (attach → Location).")
    if saved:
        text += "\n" + s._("Or reply *same address* for: {address}", address=saved)
    return text


async def _set(turn: Turn, checkout: dict[str, Any] | None) -> None:
    if checkout is None:
        turn.state.pop("checkout", None)
    else:
        turn.state["checkout"] = checkout
    await turn.save_state()


async def start(turn: Turn, fulfilment: str | None = None) -> str:
    """Begin checkout (optionally with the fulfilment already chosen)."""
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    if not lines:
        await _set(turn, None)
        return _empty_cart(turn)
    gate = order_gate(turn)
    if gate:
        return gate
    store = turn.store.menu.store
    offered = [kind for kind, on in (("delivery", store.delivery.enabled), ("pickup", store.pickup)) if on]
    if not offered:
        return turn.speaker._("Sorry, we don't take orders over WhatsApp at the moment.")
    if fulfilment is None and len(offered) == 1:
        fulfilment = offered[0]
    if fulfilment is None:
        await _set(turn, {"step": "fulfilment"})
        return _fulfilment_question(turn)
    return await choose(turn, fulfilment)


async def choose(turn: Turn, fulfilment: str) -> str:
    """The customer chose delivery or pickup."""
    s = turn.speaker
    store = turn.store.menu.store
    if fulfilment == "delivery" and not store.delivery.enabled:
        await _set(turn, {"step": "fulfilment"})
        return s._("Sorry, we only offer pickup. Reply *pickup* to continue.")
    if fulfilment == "pickup" and not store.pickup:
        await _set(turn, {"step": "fulfilment"})
        return s._("Sorry, we only deliver. Reply *delivery* to continue.")
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    if not lines:
        await _set(turn, None)
        return _empty_cart(turn)
    if fulfilment == "delivery":
        short = store.delivery.minimum_order - carts.subtotal(lines)
        if short > 0:
            await _set(turn, {"step": "fulfilment"})
            values = {
                "minimum": s.money(store.delivery.minimum_order),
                "cart": s.money(carts.subtotal(lines)),
                "short": s.money(short),
            }
            if store.pickup:
                return s._(
                    "The minimum for delivery is {minimum}; your cart is {cart}. "
                    "Add {short} more or reply *pickup*.",
                    **values,
                )
            return s._(
                "The minimum for delivery is {minimum}; your cart is {cart}. Add {short} more.", **values
            )
        await _set(turn, {"step": "address", "fulfilment": "delivery"})
        return _address_question(turn)
    checkout = {"step": "confirm", "fulfilment": "pickup"}
    return await summary(turn, checkout)


async def set_note(turn: Turn, note: str) -> str:
    """Keep a note for the whole order ("note: ring the bell"); shown in the summary and saved
    on the order. The summary is shown again when checkout is at the confirm step."""
    note = note.strip()[:MAX_NOTE_CHARS]
    turn.state["note"] = note
    await turn.save_state()
    checkout = turn.state.get("checkout") or {}
    step = checkout.get("step")
    if step == "confirm":
        return await summary(turn, dict(checkout))
    noted = turn.speaker._("📝 Noted for your order: {note}", note=note)
    if step == "address":
        return f"{noted}\n\n{_address_question(turn)}"
    if step == "fulfilment":
        return f"{noted}\n\n{_fulfilment_question(turn)}"
    return f"{noted}\n" + turn.speaker._("Send *checkout* when you're ready.")


# Delivery asked for with the address in the same message ("deliver to 12 Main St", "a domicilio
# porfa, 250 Court Street", "entrega no endereço Rua X 123"): the words asking for delivery,
# then the address. Read on the text as typed, so the address keeps its capitals and commas.
_DELIVER_TO = re.compile(
    r"^\s*(?:(?:ok|okay|yes|s[ií]|sim|please|pls)[\s,]+)*"
    r"(?:(?:for\s+)?deliver(?:y|ed)?(?:\s+(?:it|them))?|home\s+delivery|"
    r"(?:(?:para|con|por)\s+)?(?:entrega\s+)?(?:a\s+)?domicilio|(?:con\s+|por\s+)?env[ií]o|"
    r"(?:que\s+)?me\s+l[oa]\s+(?:traen|traigan|llevan|lleven)|tr[aá]em[eé]l[oa]|ll[eé]vam[eé]l[oa]|"
    r"(?:(?:pra|para)\s+)?entreg(?:a|ar|ue|uem)(?:\s+em\s+casa)?)"
    r"(?:[\s,]+(?:please|pls|por\s+favor|porfa|pfv|pf))?"
    r"(?:[\s,]+(?:to|at|a|al|en|no|na|em|pra|para|pro|ao))?"
    r"(?:[\s,]+(?:(?:la|mi|my|the|o|meu|this|esta|este)\s+)?(?:direcci[oó]n|endere[cç]o|address))?"
    r"[\s,:;.\-\u2013]+(?P<address>.*\d.*?)[\s.!]*$",
    re.I | re.S,
)


def address_said_with_delivery(text: str) -> str | None:
    """The address in a message that asks for delivery and gives it ("deliver to 12 Main St,
    Brooklyn" is "12 Main St, Brooklyn"), or None. An address has a number and looks like one
    (`looks_like_address`)."""
    match = _DELIVER_TO.match(text)
    if match is None:
        return None
    address = match.group("address").strip()
    return address if looks_like_address(address) else None


def looks_like_address(text: str) -> bool:
    """A typed address: long enough, with a letter, not absurdly long."""
    text = text.strip()
    return MIN_ADDRESS_CHARS <= len(text) <= MAX_ADDRESS_CHARS and any(ch.isalpha() for ch in text)


BAD_LOCATION = _(
    "Sorry, I couldn't read that location 📍: its coordinates are not a real place. "
    "Please share your location again (attach → Location) or type your address."
)


def _coordinate(text: str | None, limit: float) -> float | None:
    """A coordinate as a float when it is a finite number within ±limit, else None.

    Twilio passes the pin's numbers through as text; "nan", "inf", "1e308" parse as floats
    but name no place, and an order must never be sent to them. Nor is a number of more than
    `MAX_COORDINATE_CHARS` characters a pin's (WhatsApp sends a few decimals), though it parses."""
    if text is None or len(text) > MAX_COORDINATE_CHARS:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and -limit <= value <= limit else None


def valid_location(turn: Turn) -> bool:
    """True when the pin's latitude is within [-90, 90] and its longitude within [-180, 180]."""
    latitude = _coordinate(turn.inbound.latitude, 90.0)
    return latitude is not None and _coordinate(turn.inbound.longitude, 180.0) is not None


def capped_address(text: str) -> str:
    """`text` cut to `MAX_ADDRESS_CHARS` (ending in "…" when cut), whitespace runs as one space:
    the limit a typed address has, for the text a location pin brings."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_ADDRESS_CHARS else text[: MAX_ADDRESS_CHARS - 1].rstrip() + "…"


def location_of(turn: Turn) -> tuple[str, dict[str, Any]]:
    """(address text, location dict) of a shared location pin.

    The pin's `Label` and `Address` are whatever the customer's WhatsApp client sent: each, and
    the text made of both, is capped like a typed address (`capped_address`)."""
    inbound = turn.inbound
    label = capped_address(inbound.label) if inbound.label else None
    address = capped_address(inbound.address) if inbound.address else None
    location = {
        "latitude": inbound.latitude,
        "longitude": inbound.longitude,
        "address": address,
        "label": label,
    }
    named = capped_address(", ".join(p for p in (label, address) if p))
    text = named or f"📍 {inbound.latitude}, {inbound.longitude}"
    return text, location


async def set_address(turn: Turn, address: str, location: dict[str, Any] | None) -> str:
    """Use this delivery address, then show the summary; an address or pin the store surely
    does not deliver to (menu/delivery_area.py) is refused and the step stays at the address."""
    store = turn.store.menu.store
    pin = _pin(location)
    if delivery_area.covers(store, text=address, pin=pin) is False:
        turn.kind = "ask"
        s = turn.speaker
        area = delivery_area.describe(store, s)
        if pin is not None and not address.strip():
            outside = s._("Sorry, this location is outside our delivery area.")
        else:
            outside = s._('Sorry, "{address}" is outside our delivery area.', address=echo(address))
        if store.pickup:
            again = s._("Please send another address or location 📍 or reply *pickup*.")
        else:
            again = s._("Please send another address or location 📍.")
        return f"{outside} 🛵 {area}\n{again}"
    checkout = {"step": "confirm", "fulfilment": "delivery", "address": address.strip(), "location": location}
    return await summary(turn, checkout)


def _pin(location: dict[str, Any] | None) -> Location | None:
    """A stored location pin as a point, or None."""
    try:
        return Location(float(location["latitude"]), float(location["longitude"])) if location else None
    except (KeyError, TypeError, ValueError):
        return None


async def same_address(turn: Turn) -> str:
    """Use the saved address (from the last delivery)."""
    saved = turn.customer.get("saved_address")
    if not saved:
        return turn.speaker._(
            "I don't have a saved address for you yet. Please type your address or share your location 📍."
        )
    return await set_address(turn, str(saved), turn.customer.get("saved_location"))


async def _drop_unavailable(turn: Turn, lines: list[carts.CartLine]) -> tuple[list[carts.CartLine], str]:
    """Remove lines whose item is sold out or gone from the menu; returns (kept, note)."""
    menu = turn.store.menu
    gone = []
    for line in lines:
        item = menu.item(line.item_code)
        if item is None or not item.available:
            gone.append(line)
            await carts.remove_line(turn.conn, turn.customer_id, line.id, turn.now)
    if not gone:
        return lines, ""
    names = sorted({line.name for line in gone})
    note = turn.speaker.n_(
        "⚠️ Sorry, {names} is no longer available, so I took it out of your cart.",
        "⚠️ Sorry, {names} are no longer available, so I took them out of your cart.",
        len(names),
        names=turn.speaker.list(names),
    )
    return [line for line in lines if line not in gone], note


async def summary(turn: Turn, checkout: dict[str, Any], note: str = "") -> str:
    """The order summary with subtotal, fee and total, asking for an explicit confirm.

    Sold-out items are taken out first and named; a cart that then falls below the delivery
    minimum goes back to the fulfilment question.
    """
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    lines, dropped = await _drop_unavailable(turn, lines)
    note = "\n".join(n for n in (note, dropped) if n)
    prefix = f"{note}\n\n" if note else ""
    if not lines:
        await _set(turn, None)
        return prefix + _empty_cart(turn)
    s = turn.speaker
    store = turn.store.menu.store
    fulfilment = str(checkout["fulfilment"])
    subtotal, fee, total = lifecycle.totals(turn.store.menu.store, lines, fulfilment)
    if fulfilment == "delivery" and subtotal < store.delivery.minimum_order:
        await _set(turn, {"step": "fulfilment"})
        short = store.delivery.minimum_order - subtotal
        values = {"minimum": s.money(store.delivery.minimum_order), "short": s.money(short)}
        if store.pickup:
            return prefix + s._(
                "The minimum for delivery is {minimum}; add {short} more or reply *pickup*.", **values
            )
        return prefix + s._("The minimum for delivery is {minimum}; add {short} more.", **values)
    await _set(turn, checkout)
    if fulfilment == "delivery":
        where = s._("🛵 Delivery to: {address}", address=checkout.get("address"))
    else:
        where = s._("🏃 Pickup at {store}", store=store.name)
    fee_line = "\n" + s._("Delivery fee: {amount}", amount=s.money(fee)) if fulfilment == "delivery" else ""
    if turn.state.get("note"):
        where += "\n" + s._("📝 Note: {note}", note=turn.state["note"])
    head = prefix + s._("🧾 *Your order*")
    tail = (
        s._("Subtotal: {amount}", amount=s.money(subtotal))
        + f"{fee_line}\n"
        + s._("*Total: {amount}*", amount=s.money(total))
        + f"\n{where}\n\n"
        + s._(CONFIRM_HINT)
    )
    # One message: a long order's lines are summarised (conversation.cart) to leave room for the rest.
    body = numbered_lines(lines, room(head, tail), s)
    return f"{head}\n{body}\n\n{tail}"


async def place(turn: Turn) -> str:
    """Place the order the customer confirmed (checkout step `confirm`)."""
    checkout: dict[str, Any] = dict(turn.state.get("checkout") or {})
    gate = order_gate(turn)
    if gate:
        return gate
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    kept, note = await _drop_unavailable(turn, lines)
    if note or not kept:
        # Something changed since the summary: show the new one and ask again.
        return await summary(turn, checkout, note)
    store = turn.store.menu.store
    fulfilment = str(checkout["fulfilment"])
    subtotal, _, _ = lifecycle.totals(store, kept, fulfilment)
    if fulfilment == "delivery" and subtotal < store.delivery.minimum_order:
        return await summary(turn, checkout)
    placed = await lifecycle.place_order(
        turn.conn,
        turn.store,
        customer_id=turn.customer_id,
        fulfilment=fulfilment,
        address=checkout.get("address"),
        location=checkout.get("location"),
        notes=str(turn.state.get("note") or ""),
        lines=kept,
        flag_of=flag_of,
        confirm_message_sid=turn.inbound.message_sid,
        now=turn.now,
        language=turn.speaker.locale,
    )
    turn.state.clear()
    await turn.save_state()
    s = turn.speaker
    if fulfilment == "delivery":
        where = s._("🛵 Delivery to {address}.", address=placed.delivery_address)
    else:
        where = s._("🏃 Pickup at {store}.", store=store.name)
    placed_line = s._(
        "✅ Order *#{number}* placed! Total {amount}.",
        number=placed.number,
        amount=s.money(placed.total_cents),
    )
    ready = s._(
        "⏱️ Estimated ready around {time} (about {minutes} min).",
        time=s.time(placed.estimated_ready_at),
        minutes=store.preparation_minutes,
    )
    follow = s._(
        "We'll message you as it moves along. Send *status* to check on it, or *cancel* to cancel "
        "before we start preparing."
    )
    return f"{placed_line}\n{where}\n{ready}\n\n{follow}"


def address_rejected(turn: Turn, text: str) -> str:
    """The reply to something at the address step that does not look like an address."""
    return turn.speaker._(
        '"{text}" doesn\'t look like an address. Please type the street and number '
        "(e.g. *12 Main St, Apt 4*) or share your location 📍. Send *cancel* to go back.",
        text=echo(text),
    )
