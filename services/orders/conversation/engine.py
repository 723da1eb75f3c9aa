"""The conversation: from one inbound message to the replies it deserves.

`respond(turn)` returns `(replies, outcome)` where `outcome` is recorded with the inbox row
(`handled`, `throttled`, `opted_out`, `human_mode`). It only reads and writes through
`turn.conn`, inside the transaction that recorded the message.
"""

from __future__ import annotations

import re

from services.orders.catalog import Item, format_money
from services.orders.conversation import cart as carts
from services.orders.conversation.turn import Turn
from services.orders.outbox import Reply

HELP = (
    "You can send:\n"
    "• *menu* to see what we have\n"
    "• *2 margherita* (or *add 2 margherita*) to add to your cart\n"
    "• *cart* to see your cart"
)
_ADD = re.compile(r"^\s*(?:add\s+)?(\d{1,2})\s*x?\s+(.+?)\s*$", re.I)


def render_menu(turn: Turn) -> str:
    """Every available item by category with its price."""
    menu = turn.store.menu
    parts = [f"*{menu.store.name}* menu"]
    for category in menu.categories:
        items = [i for i in category.items if i.available]
        if items:
            parts.append(f"\n*{category.name}*")
            parts.extend(f"• {i.name} — {format_money(i.price)}" for i in items)
    return "\n".join(parts)


def find_item(turn: Turn, phrase: str) -> Item | None:
    """The menu item named or aliased by `phrase` (case-insensitive, singular or plural)."""
    wanted = phrase.strip().lower().rstrip("s")
    for item in turn.store.menu.items():
        names = [item.name.lower(), item.code.lower(), *(a.lower() for a in item.aliases)]
        if any(n.rstrip("s") == wanted for n in names):
            return item
    return None


async def respond(turn: Turn) -> tuple[list[Reply], str]:
    """Decide the replies to `turn.inbound`; see the module docstring."""
    text = turn.inbound.text.strip()
    lowered = text.lower()
    customer_id = int(turn.customer["id"])
    if lowered == "menu":
        return [Reply(render_menu(turn))], "handled"
    if lowered == "cart":
        return [Reply(carts.render_cart(await carts.load_cart(turn.conn, customer_id)))], "handled"
    match = _ADD.match(text)
    if match:
        quantity, phrase = int(match.group(1)), match.group(2)
        item = find_item(turn, phrase)
        if item is None or not item.available or quantity < 1:
            return [Reply(f"Sorry, I couldn't find {phrase!r} on the menu.\n\n{HELP}")], "handled"
        await carts.add_line(
            turn.conn,
            customer_id,
            item_code=item.code,
            name=item.name,
            unit_price_cents=turn.store.menu.unit_price(item.code),
            quantity=quantity,
            now=turn.now,
        )
        lines = await carts.load_cart(turn.conn, customer_id)
        return [Reply(f"Added {quantity} x {item.name}.\n\n{carts.render_cart(lines)}")], "handled"
    return [Reply(HELP)], "handled"
