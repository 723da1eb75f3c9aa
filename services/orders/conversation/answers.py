"""Questions answered from the store's data, the cart left as it was.

`answer(turn, topic, subject)` returns `(kind, text)`: the kind tags the reply (see
evals/dialogues/README.md for the kinds) and the text answers from the menu file (delivery
fee, minimum and area, payment methods, address and phone, hours, preparation time, whether an
option is offered and on what) and the customer's own orders (status, time until ready).
"""

from __future__ import annotations

import datetime as dt
import re

from services.orders.conversation import placed_orders, texts
from services.orders.conversation.adding import describe, modified_fields
from services.orders.conversation.cart import describe as describe_line
from services.orders.conversation.cart import option_words
from services.orders.conversation.turn import Turn
from services.orders.language import Speaker
from services.orders.language import mark as _
from services.orders.menu import delivery_area, hours
from services.orders.menu.catalog import QUALIFIERS, ChosenOption, Item, Menu, Option, OptionGroup
from services.orders.ordering import lifecycle
from services.orders.storage import carts
from services.orders.understanding.acts import kind_hinted, normalise, options_only, order_of
from services.orders.understanding.menu_index import quote
from services.orders.understanding.parser import english_reading, parse_order

__all__ = ["PAYMENT_NAMES", "about_the_cart", "answer"]

# How each payment method code of the menu file is said (translated where it is said).
PAYMENT_NAMES = {
    "cash": _("cash"),
    "card": _("card"),
    "credit-card": _("credit card"),
    "debit-card": _("debit card"),
    "apple-pay": "Apple Pay",
    "google-pay": "Google Pay",
    "paypal": "PayPal",
    "pix": "Pix",
    "bizum": "Bizum",
    "mercado-pago": "Mercado Pago",
    "online": _("online payment"),
}
# What a customer calls home when asking for delivery there: no place to look up.
_HOME = frozenset(
    {"home", "my home", "my house", "my place", "my address", "house", "casa", "mi casa", "minha casa",
     "domicilio", "my flat", "my apartment", "here"}
)  # fmt: skip
# Weekday codes of the menu file, as the hours are listed.
_DAYS = {
    "mon": _("Mon"),
    "tue": _("Tue"),
    "wed": _("Wed"),
    "thu": _("Thu"),
    "fri": _("Fri"),
    "sat": _("Sat"),
    "sun": _("Sun"),
}
# Words that ask the price of what is already in the cart ("how much is it", "the total").
_CART_WORDS = frozenset(
    {"", "it", "that", "this", "all", "everything", "all of it", "my order", "the order", "my cart",
     "the cart", "total", "the total", "my total", "all that", "all this", "altogether", "in total",
     "it all", "it altogether", "that all", "them", "those", "these", "everything altogether"}
)  # fmt: skip


async def answer(turn: Turn, topic: str, subject: str) -> tuple[str, str]:
    """The reply to a question of `topic` about `subject` (words, maybe empty), in the
    customer's language (`turn.speaker`)."""
    store = turn.store.menu.store
    s = turn.speaker
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
        names = [s._(PAYMENT_NAMES[m]) if m in PAYMENT_NAMES else m for m in store.payment_methods]
        if not names:
            return "payment", s._("You pay when you get your order; send *agent* to ask our team how.")
        return "payment", s._("💳 We take {methods}. You pay when you get your order.", methods=s.list(names))
    if topic == "contact":
        parts = [f"📍 *{store.name}*" + (f", {store.address}" if store.address else "")]
        if store.phone:
            parts.append(f"📞 {store.phone}")
        parts.append(hours.open_status(store, turn.now, s).rstrip(".") + ".")
        return "contact", "\n".join(parts)
    if topic == "price":
        return await _price(turn, subject)
    if topic == "menu":
        return _section(turn, subject)
    if topic == "option":
        return await _option(turn, subject)
    if topic == "cart":
        lines = await carts.load_cart(turn.conn, turn.customer_id)
        more = "\n\n" + s._("Send *checkout* to order, or tell me what to change.") if lines else ""
        return "cart", _cart(lines, s) + more
    raise ValueError(f"no answer for the question topic {topic!r}")


async def _eta(turn: Turn) -> str:
    store = turn.store.menu.store
    s = turn.speaker
    order = await placed_orders.latest_order(turn, active_only=True)
    if order is not None and order["status"] not in lifecycle.FINAL:
        ready = order.get("estimated_ready_at")
        label = s._(lifecycle.LABELS[str(order["status"])]).lower()
        number = order["number"]
        if str(order["status"]) == "ready":
            if order["fulfilment"] == "pickup":
                return s._(
                    "Your order *#{number}* is ready for pickup at {store}! 🎉",
                    number=number,
                    store=store.name,
                )
            return s._("Your order *#{number}* is ready and will be on its way shortly. 🛵", number=number)
        if str(order["status"]) == "out_for_delivery":
            return s._(
                "Your order *#{number}* is on its way 🛵 — it should be with you within "
                "about {minutes} minutes.",
                number=number,
                minutes=store.delivery.minutes,
            )
        if ready is None:
            return s._(
                "Your order *#{number}* is {status}; we'll message you as it moves along.",
                number=number,
                status=label,
            )
        if order["fulfilment"] == "delivery":
            arrive = ready + dt.timedelta(minutes=store.delivery.minutes)
            return s._(
                "⏱️ Your order *#{number}* ({status}) should be ready around {time}, "
                "and with you around {arrival}.",
                number=number,
                status=label,
                time=s.time(ready),
                arrival=s.time(arrive),
            )
        return s._(
            "⏱️ Your order *#{number}* ({status}) should be ready around {time}.",
            number=number,
            status=label,
            time=s.time(ready),
        )
    if store.delivery.enabled:
        text = s._(
            "⏱️ Orders are usually ready about {minutes} minutes after you place them; "
            "delivery takes about {delivery} minutes more.",
            minutes=store.preparation_minutes,
            delivery=store.delivery.minutes,
        )
    else:
        text = s._(
            "⏱️ Orders are usually ready about {minutes} minutes after you place them.",
            minutes=store.preparation_minutes,
        )
    return text + " " + s._(texts.hint_for(turn.state))


def _hours(turn: Turn) -> str:
    store = turn.store.menu.store
    s = turn.speaker
    status = hours.open_status(store, turn.now, s)
    if hours.always_open(store):
        return s._("🕒 We're open 24 hours, every day.") + " " + s._(texts.hint_for(turn.state))
    days = []
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        spans = store.hours.get(day) or ()
        shown = ", ".join(f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in spans) or s._(
            "closed"
        )
        days.append(f"{s._(_DAYS[day])} {shown}")
    return f"🕒 {status[:1].upper()}{status[1:].rstrip('.')}.\n" + "\n".join(days)


def _no_delivery(s: Speaker) -> str:
    return s._("We don't deliver at the moment, sorry: pickup only. 🏃")


def _delivery_fee(turn: Turn) -> str:
    delivery = turn.store.menu.store.delivery
    s = turn.speaker
    if not delivery.enabled:
        return _no_delivery(s)
    fee = s._("Delivery costs {fee}", fee=s.money(delivery.fee)) if delivery.fee else s._("Delivery is free")
    minimum = (
        s._(", with a minimum order of {minimum}", minimum=s.money(delivery.minimum_order))
        if delivery.minimum_order
        else ""
    )
    takes = s._("It takes about {minutes} minutes once your order is ready.", minutes=delivery.minutes)
    return f"🛵 {fee}{minimum}. {takes}"


def _delivery_area(turn: Turn, subject: str) -> str:
    store = turn.store.menu.store
    s = turn.speaker
    delivery = store.delivery
    if not delivery.enabled:
        found_us = " " + s._("You'll find us at {address}.", address=store.address) if store.address else ""
        return _no_delivery(s) + found_us
    area = delivery.area
    if not area.restricted:
        return s._("🛵 Yes, we deliver! Send your address at checkout.")
    listed = delivery_area.describe(store, s)
    if normalise(subject) in _HOME:
        subject = ""  # "do you deliver to my house?": the area, and the address at checkout
    if subject:
        found = delivery_area.named_area(area, subject)
        if found is not None:
            return s._(
                "🛵 Yes, we deliver to {area}! Delivery is {fee}.", area=found, fee=s.money(delivery.fee)
            )
        return (
            listed
            + " "
            + s._(
                'If "{place}" is in that area, we can bring your order: '
                "send your address or location 📍 at checkout and I'll check it.",
                place=texts.echo(subject),
            )
        )
    return f"🛵 {listed}"


def _price_key(subject: str) -> str:
    key = normalise(subject)
    for filler in ("the ", "a ", "an ", "one "):
        key = key.removeprefix(filler)
    return key


def about_the_cart(subject: str) -> bool:
    """Whether a price question's subject names nothing but the cart ("how much is it", "how
    much is the total")."""
    return _price_key(subject) in _CART_WORDS


async def _price(turn: Turn, subject: str) -> tuple[str, str]:
    menu = turn.store.menu
    key = _price_key(subject)
    s = turn.speaker
    if key in ("delivery", "the delivery", "delivery fee"):
        return "delivery-fee", _delivery_fee(turn)
    if key in _CART_WORDS:
        lines = await carts.load_cart(turn.conn, turn.customer_id)
        if not lines:
            return "price", s._("Your cart is empty.") + " " + s._(texts.ORDER_HINT)
        total = s._("Your cart comes to {amount} before delivery.", amount=s.money(carts.subtotal(lines)))
        return "price", f"{total}\n\n{_cart(lines, s)}"
    pointed = _POINTED.match(key)
    if pointed is not None:
        # "how much would it be with chicken on it": the line being talked about, changed
        return "price", await _price_of_focus(turn, pointed.group("rest"))
    order = order_of(menu, subject)
    if order is None:
        extra = options_only(menu, key)
        if extra is not None and extra.options:
            return "price", "💲 " + " ".join(_option_price(menu, choice, s) for choice in extra.options)
        return "ask", s._(
            "Which item would you like the price of? For example *how much is a large margherita*. "
            "Send *menu* for all our prices."
        )
    parts = [_priced(menu, line.item, line.quantity, line.options, line.excluded, s) for line in order.lines]
    for amb in order.ambiguous:
        options = ", ".join(
            f"{item.name} {s.money(menu.unit_price(item.code, amb.options) * amb.quantity)}"
            for code in amb.candidates
            if (item := menu.item(code)) is not None
        )
        parts.append(f"{options}.")
    return "price", "💲 " + "\n".join(parts)


_POINTED = re.compile(
    r"^(?:it|that|this|them|mine|my (?:pizza|order|one))(?: be| cost| come to)?(?P<rest>.*)$"
)


def _option_price(menu: Menu, choice: ChosenOption, s: Speaker) -> str:
    group = menu.group(choice.group)
    option = group.option(choice.option) if group else None
    if group is None or option is None:
        return ""
    times = QUALIFIERS.get(choice.qualifier or "", 1) if group.qualifiers else 1
    cost = option.price * times
    if cost == 0:
        return s._("{option} costs nothing extra.", option=option.name)
    amount = f"{'+' if cost > 0 else ''}{s.money(cost)}"
    if group.kind == "single":
        return s._(
            "{option} is {amount} (the price of a size replaces the default's).",
            option=option.name,
            amount=amount,
        )
    return s._("{option} is {amount} on top of the item's price.", option=option.name, amount=amount)


async def _price_of_focus(turn: Turn, rest: str) -> str:
    menu = turn.store.menu
    s = turn.speaker
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    focus = [line for line in lines if line.id in (turn.state.get("focus") or [])] or lines[-1:]
    if len(focus) != 1:
        if lines:
            return s._("Your cart comes to {amount} before delivery.", amount=s.money(carts.subtotal(lines)))
        return s._(texts.ORDER_HINT)
    line = focus[0]
    words = re.sub(r"\b(?:on it|on that|on top|to it|to that|added|extra)$", "", rest).strip()
    mods = options_only(menu, words) if words else None
    if mods is None:
        return f"{describe_line(line, s)}."
    fields = modified_fields(menu, line, mods, [], s)
    if fields is None:
        return f"{describe_line(line, s)}."
    unit = int(fields["unit_price_cents"])
    values = {
        "line": describe(fields, s),
        "unit": s.money(unit),
        "now": s.money(line.unit_price_cents),
        "words": words,
    }
    if line.quantity > 1:
        return s._(
            "💲 {line} would be {unit} each, {total} for {quantity} (now {now}). Say *{words}* to change it.",
            total=s.money(unit * line.quantity),
            quantity=line.quantity,
            **values,
        )
    return s._("💲 {line} would be {unit} (now {now}). Say *{words}* to change it.", **values)


def _priced(menu: Menu, code: str, quantity: int, options: tuple, excluded: tuple, s: Speaker) -> str:  # type: ignore[type-arg]
    item = menu.item(code)
    if item is None:
        return ""
    unit = menu.unit_price(code, options)
    rows = []
    for choice in options:
        group = menu.group(choice.group)
        option = group.option(choice.option) if group else None
        if option is not None:
            rows.append({"name": option.name, "qualifier": choice.qualifier})
    names = []
    for o in excluded:
        group = menu.group(o.group)
        option = group.option(o.option) if group else None
        names.append(option.name if option is not None else o.option)
    extras = option_words(s, rows, names, "")
    detail = f" ({', '.join(extras)})" if extras else ""
    if quantity == 1:
        return f"{item.name}{detail}: {s.money(unit)}."
    each = s._("{amount} each", amount=s.money(unit))
    return f"{quantity} x {item.name}{detail}: {s.money(unit * quantity)} ({each})."


def _cart(lines: list[carts.CartLine], s: Speaker) -> str:
    from services.orders.conversation.cart import render_cart

    return render_cart(lines, s)


def _section(turn: Turn, subject: str) -> tuple[str, str]:
    """ "which desserts do you have", "do you have wings": a category, an item, or a no."""
    menu = turn.store.menu
    key = normalise(subject)
    for category in menu.categories:
        names = {normalise(category.name), normalise(category.code.replace("-", " "))}
        wanted = {key, key.rstrip("s"), key + "s"}
        if names & wanted or {n.rstrip("s") for n in names} & wanted:
            return "menu", texts.render_category(menu, category, turn.speaker)
    kinds = [i for i in menu.items() if i.kind != "other" and i.kind in (key, key.rstrip("s"))]
    hinted = [] if kinds else [i for i in map(menu.item, kind_hinted(menu, key)) if i is not None]
    if kinds or hinted:
        s = turn.speaker
        lines = [f"• {i.name} {s.money(i.price)}" for i in kinds or hinted if i.available]
        if hinted:
            # "do you have pepsi?": not on the menu; what the menu has of its kind (the drinks)
            said = texts.echo(quote(turn.inbound.text, subject))
            lines.insert(0, s._('Sorry, I couldn\'t find "{phrase}" on the menu.', phrase=said))
        return "menu", "\n".join(lines) + "\n\n" + s._(texts.hint_for(turn.state))
    order = order_of(menu, subject)
    if order is not None and len(order.lines) == 1:
        item = menu.item(order.lines[0].item)
        if item is not None:
            return "item-info", texts.render_item(menu, item, turn.speaker)
    return "menu", texts.render_menu(menu, turn.speaker)


async def _option(turn: Turn, subject: str) -> tuple[str, str]:
    """ "do you have thin crust?", "is there pineapple on the hawaiian?": whether the menu has
    each option asked about, at what price and how to ask for it; for one item, whether it
    comes with it (its description says so) or it can be had, with the item's details after.
    `subject` is the words as the order parser reads them (understanding/rules.py,
    `menu_question_rule`). Kind ``item-info`` when an item is named, else ``menu``."""
    menu = turn.store.menu
    s = turn.speaker
    parsed = parse_order(english_reading(menu, "")[0], subject)
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    advice = [s._(texts.DIET_ADVICE)] if _DIET_ASKED.search(normalise(subject)) else []
    if parsed.lines:
        item = menu.item(parsed.lines[0].item)
        if item is not None:
            line = parsed.lines[0]
            said = [_item_has(menu, item, choice, s) for choice in line.options]
            said += [_item_lists(item, u.phrase, s) for u in line.unknown_options if not u.excluded]
            details = texts.render_item(menu, item, s)
            return "item-info", "\n".join(said) + "\n\n" + details + "".join(f"\n\n{a}" for a in advice)
    chosen = parsed.modifiers.options if parsed.modifiers is not None else ()
    said = [_offered(menu, choice, lines, s) for choice in chosen]
    if not said:
        return "menu", texts.render_menu(menu, s)
    return "menu", "\n".join([*said, *advice])


# An allergy or a diet in what was asked ("anything gluten free"): who to ask is said too.
_DIET_ASKED = re.compile(
    r"\b(?:gluten|dairy|lactose|nuts?|peanuts?|vegan|vegetarian|allerg\w*|celiac|coeliac)\b"
)


def _found(menu: Menu, choice: ChosenOption) -> tuple[OptionGroup, Option] | None:
    group = menu.group(choice.group)
    option = group.option(choice.option) if group is not None else None
    return (group, option) if group is not None and option is not None else None


def _cost(option: Option, s: Speaker) -> str:
    if option.price == 0:
        return s._("no extra cost")
    return f"{'+' if option.price > 0 else ''}{s.money(option.price)}"


def _offered(menu: Menu, choice: ChosenOption, lines: list[carts.CartLine], s: Speaker) -> str:
    """Whether the menu has the option `choice`, on which items, and how to ask for it."""
    found = _found(menu, choice)
    if found is None:
        return ""
    group, option = found
    items = [i for i in menu.items() if i.available and group.code in i.option_groups]
    if not option.available or not items:
        return s._("Sorry, we don't have {option} right now.", option=option.name.lower())
    where: list[str] = []
    for category in menu.categories:
        offering = [i for i in category.items if i in items]
        if offering and len(offering) == len([i for i in category.items if i.available]):
            where.append(category.name.lower())
        else:
            where.extend(i.name for i in offering)
    text = s._(
        "✅ Yes, we have {option} ({cost}) for {items}.",
        option=option.name.lower(),
        cost=_cost(option, s),
        items=s.list(where),
    )
    takes = [line for line in lines if menu.item(line.item_code) in items]
    if takes:
        return (
            text
            + " "
            + s._(
                "To have it on your {item}, just say *{option}*.",
                item=takes[-1].name,
                option=option.name.lower(),
            )
        )
    return (
        text
        + " "
        + s._("Say it with your order, e.g. *{example}*.", example=_example(items[0], group, option, s))
    )


def _example(item: Item, group: OptionGroup, option: Option, s: Speaker) -> str:
    if group.kind == "single":
        return f"1 {item.name.lower()} {option.name.lower()}"
    return "1 " + s._("{item} with {option}", item=item.name.lower(), option=option.name.lower())


def _item_lists(item: Item, phrase: str, s: Speaker) -> str:
    """Whether `item`'s description names `phrase`, an option the menu does not have for it."""
    if f" {normalise(phrase)} " in f" {normalise(item.description.replace(',', ' '))} ":
        return s._("✅ Yes, the {item} comes with {option}.", item=item.name, option=phrase)
    return s._("Sorry, we don't have {option} for the {item}.", option=texts.echo(phrase), item=item.name)


def _item_has(menu: Menu, item: Item, choice: ChosenOption, s: Speaker) -> str:
    """Whether `item` comes with the option `choice` (its description names it, or it is the
    group's default), else whether it can have it, at what price and how to ask."""
    found = _found(menu, choice)
    if found is None:
        return ""
    group, option = found
    words = {normalise(w) for w in (option.name, *option.aliases)}
    described = f" {normalise(item.description.replace(',', ' '))} "
    if any(f" {w} " in described for w in words) or option.code == group.default:
        return s._("✅ Yes, the {item} comes with {option}.", item=item.name, option=option.name.lower())
    if group.code not in item.option_groups or not option.available:
        return s._(
            "Sorry, we don't have {option} for the {item}.", option=option.name.lower(), item=item.name
        )
    example = _example(item, group, option, s)
    if group.kind == "single":
        return s._(
            "✅ Yes, you can have the {item} with {option} ({cost}): say *{example}*.",
            item=item.name,
            option=option.name.lower(),
            cost=_cost(option, s),
            example=example,
        )
    return s._(
        "The {item} doesn't come with {option}; you can add it for {cost}: say *{example}*.",
        item=item.name,
        option=option.name.lower(),
        cost=_cost(option, s),
        example=example,
    )
