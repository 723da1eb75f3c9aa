"""What the customer reads: fixed texts and the renderers for menus, items and help.

Every text is English in the code and goes out through the customer's `Speaker`
(services/orders/language): the module-level texts are marked for the catalogs with `_` and
translated where they are sent, `speaker._(texts.HELP)`. Every text stays well under WhatsApp's
1,600-character body limit for a normal menu; the outbox still splits anything longer into
numbered parts (outbox.split_body). Prices are formatted by `speaker.money` (`$9.50` in
English), bold with WhatsApp's `*…*`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from services.orders.language import Speaker
from services.orders.language import mark as _
from services.orders.menu import hours
from services.orders.menu.catalog import Category, Item, Menu

# Longest piece of a customer's own text echoed back (a phrase we did not understand).
ECHO_CHARS = 40

HELP = _(
    "Here's what you can send:\n"
    "• *menu* to see the menu, *pizzas* for one section, *info veggie* for an item\n"
    "• what you'd like, e.g. *2 large pepperoni with extra cheese and a coke*\n"
    "• *cart* to see your cart; *remove 2*, *change 1 to 3*, *clear*\n"
    "• *checkout* to choose delivery or pickup and place the order\n"
    "• *status*, *cancel* or *reorder* for your last order\n"
    "• *agent* to talk to a person; *stop* to unsubscribe"
)

# A message is applied whole or not at all: while one of its phrases is asked about, what the
# rest of it asks for waits for the answer (conversation/operations.py).
HELD = _("I haven't changed anything yet, so that nothing is half done: I'll do it all once you answer.")
NOT_HELD = _(
    "I haven't changed anything yet, so that nothing is half done. Answer this first, then tell me "
    "the rest again."
)

# Said whenever an allergy or a diet comes up: the bot cannot vouch for ingredients.
DIET_ADVICE = _(
    "We can't promise any dish is free of allergens; to ask our team about ingredients, send *agent*."
)
ORDER_HINT = _("To order, just type what you'd like, e.g. *2 margherita and a coke*.")
EMPTIED = _("🗑️ Your cart is empty now.")
CHECKOUT_HINT = _("Add more, or send *checkout* when you're ready.")
# At the order summary the customer is asked to confirm: anything said there ends with this.
CONFIRM_HINT = _(
    "Reply *confirm* to place the order, *edit* to change your cart, or *cancel* to drop the order."
)
MEDIA = _(
    "Thanks! 📷 I can only read text messages, so I can't open pictures, voice notes or files. "
    "Please type what you'd like, e.g. *2 margherita*, or send *menu*."
)
UNSUPPORTED = _(
    "Sorry, I can't read that kind of message. Please type what you'd like, e.g. *2 margherita*, "
    "or send *menu* or *help*."
)
EMPTY = _(
    "I didn't catch that. To order, just type what you'd like, e.g. *2 margherita and a coke*. "
    "Send *menu* to see what we have."
)
THROTTLED = _(
    "You're sending messages very quickly 🙂 Please slow down a little; I'll answer your next "
    "message in a moment."
)
STOPPED = _(
    "You're unsubscribed and won't get any more messages from us. Send *START* at any time to come back."
)
AGENT = _(
    "OK, I've asked a member of our team to take over this chat. 🙋 They'll reply here as soon "
    "as they can; the bot will stay quiet until then."
)
THANKS = _("You're welcome! 😊 Send *menu* to order, or *status* to check on your order.")
NO_CONTEXT_YES = _(
    "There's nothing to confirm right now. To order, just type what you'd like, e.g. "
    "*2 margherita and a coke*."
)


def hint_for(state: Mapping[str, Any]) -> str:
    """The hint that ends an answer (a message id): how to confirm at the order summary
    (checkout step `confirm`), else how to order."""
    return CONFIRM_HINT if (state.get("checkout") or {}).get("step") == "confirm" else ORDER_HINT


def echo(text: str) -> str:
    """A customer's phrase, shortened for quoting back."""
    text = " ".join(text.split())
    return text if len(text) <= ECHO_CHARS else text[: ECHO_CHARS - 1] + "…"


def greeting(
    menu: Menu, profile_name: str | None, now: dt.datetime, accepting: bool, speaker: Speaker
) -> str:
    """Welcome by WhatsApp profile name, the store's name, open or closed, and how to order."""
    s = speaker
    name = (profile_name or "").strip()
    hello = s._("👋 Hi {name}!", name=name) if name else s._("👋 Hi there!")
    status = hours.open_status(menu.store, now, s)
    if not accepting:
        status = s._("We're not taking orders at the moment, but you can still browse the menu.")
    welcome = s._("Welcome to *{store}*.", store=menu.store.name)
    more = s._("Send *menu* to see what we have, or *help* for everything I can do.")
    return f"{hello} {welcome} {status}\n\n{s._(ORDER_HINT)}\n{more}"


def render_menu(menu: Menu, speaker: Speaker) -> str:
    """The whole menu, compactly: each category with its available items and prices."""
    s = speaker
    parts = [s._("📋 *{store}* menu", store=menu.store.name)]
    for category in menu.categories:
        items = [i for i in category.items if i.available]
        if items:
            parts.append(f"\n*{category.name}*")
            parts.extend(f"• {i.name} {s.money(i.price)}" for i in items)
    details = s._("Send *info <item>* for details and options.")
    parts.append(f"\n{s._(ORDER_HINT)}\n{details}")
    return "\n".join(parts)


def render_category(menu: Menu, category: Category, speaker: Speaker) -> str:
    """One category with descriptions: `• Margherita $9.50 — Tomato, mozzarella, basil`."""
    s = speaker
    lines = [f"*{category.name}*"]
    for item in category.items:
        if not item.available:
            lines.append(s._("• ~{name}~ (sold out)", name=item.name))
            continue
        desc = f" — {item.description}" if item.description else ""
        lines.append(f"• {item.name} {s.money(item.price)}{desc}")
    lines.append(f"\n{s._(ORDER_HINT)}")
    return "\n".join(lines)


def _delta(cents: int, speaker: Speaker) -> str:
    if cents == 0:
        return ""
    return f" +{speaker.money(cents)}" if cents > 0 else f" {speaker.money(cents)}"


def render_item(menu: Menu, item: Item, speaker: Speaker) -> str:
    """An item's details: price, description, availability and each option group with prices."""
    s = speaker
    lines = [f"*{item.name}* {s.money(item.price)}"]
    if item.description:
        lines.append(item.description)
    if not item.available:
        lines.append(s._("⚠️ Sold out right now."))
    for group in menu.groups_of(item):
        options = [o for o in group.options if o.available]
        if not options:
            continue
        shown = ", ".join(f"{o.name}{_delta(o.price, s)}" for o in options)
        rule = ""
        if group.kind == "single" and group.default:
            default = group.option(group.default)
            rule = s._(" (default {name})", name=default.name) if default else ""
        elif group.kind == "multiple":
            rule = s._(" (up to {n})", n=group.max) if group.max else ""
        lines.append(f"\n*{group.name}*{rule}: {shown}")
        if group.qualifiers:
            lines.append(s._("Say *light*, *extra/double/triple* (charged again), or *no …*."))
    if item.available:
        example = item.name.lower()
        if item.option_groups:
            lines.append("\n" + s._("To add it: *1 {item}* with what you like", item=example))
        else:
            lines.append("\n" + s._("To add it: *1 {item}*", item=example))
    return "\n".join(lines)


def item_names(menu: Menu, codes: tuple[str, ...] | list[str]) -> list[str]:
    """Display names of item codes, skipping unknown codes."""
    names = []
    for code in codes:
        item = menu.item(code)
        if item is not None:
            names.append(item.name)
    return names
