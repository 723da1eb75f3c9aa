"""Questions answered from the store's data, the cart left as it was.

`answer(turn, topic, subject)` returns `(kind, text)`: the kind tags the reply (see
evals/dialogues/README.md for the kinds) and the text answers from the menu file (delivery
fee, minimum and area, payment methods, address and phone, hours, preparation time) and the
customer's own orders (status, time until ready).
"""

from __future__ import annotations

import datetime as dt
import re

from services.orders.conversation import placed_orders, texts
from services.orders.conversation.adding import describe, modified_fields
from services.orders.conversation.turn import Turn
from services.orders.menu import delivery_area, hours
from services.orders.menu.catalog import QUALIFIERS, ChosenOption, Menu, format_money
from services.orders.ordering import lifecycle
from services.orders.storage import carts
from services.orders.understanding.acts import normalise, options_only, order_of

__all__ = ["PAYMENT_NAMES", "answer"]

# How each payment method code of the menu file is said.
PAYMENT_NAMES = {
    "cash": "cash",
    "card": "card",
    "credit-card": "credit card",
    "debit-card": "debit card",
    "apple-pay": "Apple Pay",
    "google-pay": "Google Pay",
    "paypal": "PayPal",
    "pix": "Pix",
    "bizum": "Bizum",
    "mercado-pago": "Mercado Pago",
    "online": "online payment",
}
# Words that ask the price of what is already in the cart ("how much is it", "the total").
_CART_WORDS = frozenset(
    {"", "it", "that", "this", "all", "everything", "all of it", "my order", "the order", "my cart",
     "the cart", "total", "the total", "my total", "all that", "all this", "altogether", "in total",
     "it all", "it altogether", "that all", "them", "those", "these", "everything altogether"}
)  # fmt: skip


def _and(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _clock(moment: dt.datetime, turn: Turn) -> str:
    local = moment.astimezone(hours.store_zone(turn.store.menu.store))
    return f"{local:%I:%M %p}".lstrip("0").replace("AM", "am").replace("PM", "pm")


async def answer(turn: Turn, topic: str, subject: str) -> tuple[str, str]:
    """The reply to a question of `topic` about `subject` (words, maybe empty)."""
    store = turn.store.menu.store
    if topic == "order-status":
        return "order-status", await placed_orders.status(turn)
    if topic == "eta":
        return "eta", await _eta(turn)
    if topic == "hours":
        return "hours", _hours(turn)
    if topic == "delivery-fee":
        return "delivery-fee", _delivery_fee(turn)
    if topic == "delivery-area":
        return "delivery-area", _delivery_area(turn, subject)
    if topic == "payment":
        names = [PAYMENT_NAMES.get(m, m) for m in store.payment_methods]
        if not names:
            return "payment", "You pay when you get your order; send *agent* to ask our team how."
        return "payment", f"💳 We take {_and(names)}. You pay when you get your order."
    if topic == "contact":
        parts = [f"📍 *{store.name}*" + (f", {store.address}" if store.address else "")]
        if store.phone:
            parts.append(f"📞 {store.phone}")
        parts.append(hours.open_status(store, turn.now).rstrip(".") + ".")
        return "contact", "\n".join(parts)
    if topic == "price":
        return await _price(turn, subject)
    if topic == "menu":
        return _section(turn, subject)
    if topic == "cart":
        lines = await carts.load_cart(turn.conn, turn.customer_id)
        return "cart", _cart(lines) + (
            "\n\nSend *checkout* to order, or tell me what to change." if lines else ""
        )
    raise ValueError(f"no answer for the question topic {topic!r}")


async def _eta(turn: Turn) -> str:
    store = turn.store.menu.store
    order = await placed_orders.latest_order(turn, active_only=True)
    if order is not None and order["status"] not in lifecycle.FINAL:
        ready = order.get("estimated_ready_at")
        label = lifecycle.LABELS[str(order["status"])].lower()
        if str(order["status"]) == "ready":
            if order["fulfilment"] == "pickup":
                return f"Your order *#{order['number']}* is ready for pickup at {store.name}! 🎉"
            return f"Your order *#{order['number']}* is ready and will be on its way shortly. 🛵"
        if str(order["status"]) == "out_for_delivery":
            return (
                f"Your order *#{order['number']}* is on its way 🛵 — it should be with you within "
                f"about {store.delivery.minutes} minutes."
            )
        if ready is None:
            return f"Your order *#{order['number']}* is {label}; we'll message you as it moves along."
        text = f"⏱️ Your order *#{order['number']}* ({label}) should be ready around {_clock(ready, turn)}"
        if order["fulfilment"] == "delivery":
            arrive = ready + dt.timedelta(minutes=store.delivery.minutes)
            text += f", and with you around {_clock(arrive, turn)}"
        return text + "."
    text = f"⏱️ Orders are usually ready about {store.preparation_minutes} minutes after you place them"
    if store.delivery.enabled:
        text += f"; delivery takes about {store.delivery.minutes} minutes more"
    return text + ". " + texts.ORDER_HINT


def _hours(turn: Turn) -> str:
    store = turn.store.menu.store
    status = hours.open_status(store, turn.now)
    if hours.always_open(store):
        return f"🕒 We're open 24 hours, every day. {texts.ORDER_HINT}"
    days = []
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        spans = store.hours.get(day) or ()
        shown = (
            ", ".join(f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}" for s, e in spans) or "closed"
        )
        days.append(f"{day.capitalize()} {shown}")
    return f"🕒 {status[:1].upper()}{status[1:].rstrip('.')}.\n" + "\n".join(days)


def _delivery_fee(turn: Turn) -> str:
    delivery = turn.store.menu.store.delivery
    if not delivery.enabled:
        return "We don't deliver at the moment, sorry: pickup only. 🏃"
    fee = f"Delivery costs {format_money(delivery.fee)}" if delivery.fee else "Delivery is free"
    minimum = (
        f", with a minimum order of {format_money(delivery.minimum_order)}" if delivery.minimum_order else ""
    )
    return f"🛵 {fee}{minimum}. It takes about {delivery.minutes} minutes once your order is ready."


def _delivery_area(turn: Turn, subject: str) -> str:
    store = turn.store.menu.store
    delivery = store.delivery
    if not delivery.enabled:
        return "We don't deliver at the moment, sorry: pickup only. 🏃" + (
            f" You'll find us at {store.address}." if store.address else ""
        )
    area = delivery.area
    if not area.restricted:
        return "🛵 Yes, we deliver! Send your address at checkout."
    listed = delivery_area.describe(store)
    if subject:
        found = delivery_area.named_area(area, subject)
        if found is not None:
            return f"🛵 Yes, we deliver to {found}! Delivery is {format_money(delivery.fee)}."
        return (
            f'{listed} If "{texts.echo(subject)}" is in that area, we can bring your order: '
            "send your address or location 📍 at checkout and I'll check it."
        )
    return f"🛵 {listed}"


async def _price(turn: Turn, subject: str) -> tuple[str, str]:
    menu = turn.store.menu
    key = normalise(subject)
    for filler in ("the ", "a ", "an ", "one "):
        key = key.removeprefix(filler)
    if key in ("delivery", "the delivery", "delivery fee"):
        return "delivery-fee", _delivery_fee(turn)
    if key in _CART_WORDS:
        lines = await carts.load_cart(turn.conn, turn.customer_id)
        if not lines:
            return "price", "Your cart is empty. " + texts.ORDER_HINT
        return (
            "price",
            f"Your cart comes to {format_money(carts.subtotal(lines))} before delivery.\n\n" + _cart(lines),
        )
    pointed = _POINTED.match(key)
    if pointed is not None:
        # "how much would it be with chicken on it": the line being talked about, changed
        return "price", await _price_of_focus(turn, pointed.group("rest"))
    order = order_of(menu, subject)
    if order is None:
        extra = options_only(menu, key)
        if extra is not None and extra.options:
            return "price", "💲 " + " ".join(_option_price(menu, choice) for choice in extra.options)
        return "ask", (
            "Which item would you like the price of? For example *how much is a large margherita*. "
            "Send *menu* for all our prices."
        )
    parts = [_priced(menu, line.item, line.quantity, line.options, line.excluded) for line in order.lines]
    for amb in order.ambiguous:
        options = ", ".join(
            f"{item.name} {format_money(menu.unit_price(item.code, amb.options) * amb.quantity)}"
            for code in amb.candidates
            if (item := menu.item(code)) is not None
        )
        parts.append(f"{options}.")
    return "price", "💲 " + "\n".join(parts)


_POINTED = re.compile(
    r"^(?:it|that|this|them|mine|my (?:pizza|order|one))(?: be| cost| come to)?(?P<rest>.*)$"
)


def _option_price(menu: Menu, choice: ChosenOption) -> str:
    group = menu.group(choice.group)
    option = group.option(choice.option) if group else None
    if group is None or option is None:
        return ""
    times = QUALIFIERS.get(choice.qualifier or "", 1) if group.qualifiers else 1
    cost = option.price * times
    if cost == 0:
        return f"{option.name} costs nothing extra."
    return f"{option.name} is {'+' if cost > 0 else ''}{format_money(cost)}" + (
        " (the price of a size replaces the default's)."
        if group.kind == "single"
        else " on top of the item's price."
    )


async def _price_of_focus(turn: Turn, rest: str) -> str:
    menu = turn.store.menu
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    focus = [line for line in lines if line.id in (turn.state.get("focus") or [])] or lines[-1:]
    if len(focus) != 1:
        return (
            f"Your cart comes to {format_money(carts.subtotal(lines))} before delivery."
            if lines
            else texts.ORDER_HINT
        )
    line = focus[0]
    words = re.sub(r"\b(?:on it|on that|on top|to it|to that|added|extra)$", "", rest).strip()
    mods = options_only(menu, words) if words else None
    if mods is None:
        return f"{line.describe()}."
    fields = modified_fields(menu, line, mods, [])
    if fields is None:
        return f"{line.describe()}."
    unit = int(fields["unit_price_cents"])
    return (
        f"💲 {describe(fields)} would be {format_money(unit)}"
        + (f" each, {format_money(unit * line.quantity)} for {line.quantity}" if line.quantity > 1 else "")
        + f" (now {format_money(line.unit_price_cents)}). Say *{words}* to change it."
    )


def _priced(menu: Menu, code: str, quantity: int, options: tuple, excluded: tuple) -> str:  # type: ignore[type-arg]
    item = menu.item(code)
    if item is None:
        return ""
    unit = menu.unit_price(code, options)
    extras = []
    for choice in options:
        group = menu.group(choice.group)
        option = group.option(choice.option) if group else None
        if option is not None:
            extras.append(f"{choice.qualifier} {option.name}" if choice.qualifier else option.name)
    extras += [f"no {o.option}" for o in excluded]
    detail = f" ({', '.join(extras)})" if extras else ""
    if quantity == 1:
        return f"{item.name}{detail}: {format_money(unit)}."
    return f"{quantity} x {item.name}{detail}: {format_money(unit * quantity)} ({format_money(unit)} each)."


def _cart(lines: list[carts.CartLine]) -> str:
    from services.orders.conversation.cart import render_cart

    return render_cart(lines)


def _section(turn: Turn, subject: str) -> tuple[str, str]:
    """ "which desserts do you have", "do you have wings": a category, an item, or a no."""
    menu = turn.store.menu
    key = normalise(subject)
    for category in menu.categories:
        names = {normalise(category.name), normalise(category.code.replace("-", " "))}
        wanted = {key, key.rstrip("s"), key + "s"}
        if names & wanted or {n.rstrip("s") for n in names} & wanted:
            return "menu", texts.render_category(menu, category)
    kinds = [i for i in menu.items() if i.kind != "other" and i.kind in (key, key.rstrip("s"))]
    if kinds:
        lines = [f"• {i.name} {format_money(i.price)}" for i in kinds if i.available]
        return "menu", "\n".join(lines) + f"\n\n{texts.ORDER_HINT}"
    order = order_of(menu, subject)
    if order is not None and len(order.lines) == 1:
        item = menu.item(order.lines[0].item)
        if item is not None:
            return "item-info", texts.render_item(menu, item)
    return "menu", texts.render_menu(menu)
