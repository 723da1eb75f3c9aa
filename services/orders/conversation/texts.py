"""What the customer reads: fixed texts and the renderers for menus, items and help.

Every text stays well under WhatsApp's 1,600-character body limit for a normal menu; the
outbox still splits anything longer into numbered parts (outbox.split_body). Prices are
shown as `9.50` (catalog.format_money), bold with WhatsApp's `*…*`.
"""

from __future__ import annotations

import datetime as dt

from services.orders.menu import hours
from services.orders.menu.catalog import QUALIFIERS, Category, Item, Menu, format_money

# Longest piece of a customer's own text echoed back (a phrase we did not understand).
ECHO_CHARS = 40

HELP = (
    "Here's what you can send:\n"
    "• *menu* to see the menu, *pizzas* for one section, *info veggie* for an item\n"
    "• what you'd like, e.g. *2 large pepperoni with extra cheese and a coke*\n"
    "• *cart* to see your cart; *remove 2*, *change 1 to 3*, *clear*\n"
    "• *checkout* to choose delivery or pickup and place the order\n"
    "• *status*, *cancel* or *reorder* for your last order\n"
    "• *agent* to talk to a person; *stop* to unsubscribe"
)

ORDER_HINT = "To order, just type what you'd like, e.g. *2 margherita and a coke*."
CHECKOUT_HINT = "Add more, or send *checkout* when you're ready."
MEDIA = (
    "Thanks! 📷 I can only read text messages, so I can't open pictures, voice notes or files. "
    "Please type what you'd like, e.g. *2 margherita*, or send *menu*."
)
UNSUPPORTED = (
    "Sorry, I can't read that kind of message. Please type what you'd like, e.g. *2 margherita*, "
    "or send *menu* or *help*."
)
EMPTY = "I didn't catch that. " + ORDER_HINT + " Send *menu* to see what we have."
THROTTLED = (
    "You're sending messages very quickly 🙂 Please slow down a little; I'll answer your next "
    "message in a moment."
)
STOPPED = (
    "You're unsubscribed and won't get any more messages from us. Send *START* at any time to come back."
)
AGENT = (
    "OK, I've asked a member of our team to take over this chat. 🙋 They'll reply here as soon "
    "as they can; the bot will stay quiet until then."
)
THANKS = "You're welcome! 😊 Send *menu* to order, or *status* to check on your order."
NO_CONTEXT_YES = "There's nothing to confirm right now. " + ORDER_HINT


def echo(text: str) -> str:
    """A customer's phrase, shortened for quoting back."""
    text = " ".join(text.split())
    return text if len(text) <= ECHO_CHARS else text[: ECHO_CHARS - 1] + "…"


def greeting(menu: Menu, profile_name: str | None, now: dt.datetime, accepting: bool) -> str:
    """Welcome by WhatsApp profile name, the store's name, open or closed, and how to order."""
    name = (profile_name or "").strip()
    hello = f"👋 Hi {name}!" if name else "👋 Hi there!"
    status = hours.open_status(menu.store, now)
    if not accepting:
        status = "We're not taking orders at the moment, but you can still browse the menu."
    return (
        f"{hello} Welcome to *{menu.store.name}*. {status}\n\n"
        f"{ORDER_HINT}\nSend *menu* to see what we have, or *help* for everything I can do."
    )


def render_menu(menu: Menu) -> str:
    """The whole menu, compactly: each category with its available items and prices."""
    parts = [f"📋 *{menu.store.name}* menu"]
    for category in menu.categories:
        items = [i for i in category.items if i.available]
        if items:
            parts.append(f"\n*{category.name}*")
            parts.extend(f"• {i.name} {format_money(i.price)}" for i in items)
    parts.append(f"\n{ORDER_HINT}\nSend *info <item>* for details and options.")
    return "\n".join(parts)


def render_category(menu: Menu, category: Category) -> str:
    """One category with descriptions: `• Margherita 9.50 — Tomato, mozzarella, basil`."""
    lines = [f"*{category.name}*"]
    for item in category.items:
        if not item.available:
            lines.append(f"• ~{item.name}~ (sold out)")
            continue
        desc = f" — {item.description}" if item.description else ""
        lines.append(f"• {item.name} {format_money(item.price)}{desc}")
    lines.append(f"\n{ORDER_HINT}")
    return "\n".join(lines)


def _delta(cents: int) -> str:
    if cents == 0:
        return ""
    return f" +{format_money(cents)}" if cents > 0 else f" {format_money(cents)}"


def render_item(menu: Menu, item: Item) -> str:
    """An item's details: price, description, availability and each option group with prices."""
    lines = [f"*{item.name}* {format_money(item.price)}"]
    if item.description:
        lines.append(item.description)
    if not item.available:
        lines.append("⚠️ Sold out right now.")
    for group in menu.groups_of(item):
        options = [o for o in group.options if o.available]
        if not options:
            continue
        shown = ", ".join(f"{o.name}{_delta(o.price)}" for o in options)
        rule = ""
        if group.kind == "single" and group.default:
            default = group.option(group.default)
            rule = f" (default {default.name})" if default else ""
        elif group.kind == "multiple":
            rule = f" (up to {group.max})" if group.max else ""
        lines.append(f"\n*{group.name}*{rule}: {shown}")
        if group.qualifiers:
            words = "/".join(q for q in QUALIFIERS if q != "light")
            lines.append(f"Say *light*, *{words}* (charged again), or *no …*.")
    if item.available:
        example = item.name.lower()
        lines.append(f"\nTo add it: *1 {example}*" + (" with what you like" if item.option_groups else ""))
    return "\n".join(lines)


def item_names(menu: Menu, codes: tuple[str, ...] | list[str]) -> list[str]:
    """Display names of item codes, skipping unknown codes."""
    names = []
    for code in codes:
        item = menu.item(code)
        if item is not None:
            names.append(item.name)
    return names
