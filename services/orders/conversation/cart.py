"""The cart as the customer reads it, and when it expires; its rows live in `storage.carts`.

A reply is meant to be one WhatsApp message (at most `MAX_BODY_CHARS`, Twilio's Body limit;
WhatsApp bills each message), so a cart is shown within the room a reply leaves it: whole when
it fits, else with each line's options and notes shortened (more and more), then without them,
then as its first lines and how many more ("…and 4 more lines, 9 items"). The subtotal is
always there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final

from services.orders.menu.catalog import format_money
from services.orders.storage.carts import CartLine, subtotal
from services.orders.storage.outbox import MAX_BODY_CHARS

EMPTY_CART: Final = "Your cart is empty. Send *menu* to see what we have."
# Room a cart keeps however long the rest of the reply is (that reply is then split anyway).
MIN_ROOM: Final = 300
# Characters of a line's options and notes kept, tried in turn until the lines fit (None: all).
DETAIL_CHARS: Final = (None, 40, 24, 12, 0)


def room(*other: str) -> int:
    """Characters left for a cart (or list of lines) in a reply that also holds the `other`
    parts, joined by blank lines: at least `MIN_ROOM`."""
    used = sum(len(part) + 2 for part in other if part)
    return max(MIN_ROOM, MAX_BODY_CHARS - used)


def numbered_lines(lines: Sequence[CartLine], budget: int) -> str:
    """`1. 2 x Margherita (Large) — 21.00`, one line each, in at most `budget` characters
    (summarised as the module says when the whole list is longer)."""
    for detail in DETAIL_CHARS:
        text = "\n".join(f"{i}. {line.describe(detail_chars=detail)}" for i, line in enumerate(lines, 1))
        if len(text) <= budget:
            return text
    entries = [f"{i}. {line.describe(detail_chars=0)}" for i, line in enumerate(lines, 1)]
    best = "\n".join(entries[:1])  # one line at least, whatever the budget
    used = 0
    for shown, entry in enumerate(entries, 1):
        used += len(entry) + 1
        rest = lines[shown:]
        more = f"…and {len(rest)} more lines, {sum(r.quantity for r in rest)} items"
        if used + len(more) > budget:
            break
        best = "\n".join([*entries[:shown], more])
    return best


def render_cart(lines: Sequence[CartLine], budget: int = MAX_BODY_CHARS) -> str:
    """The cart as a WhatsApp message in at most `budget` characters (see `room`): its lines,
    then the subtotal."""
    if not lines:
        return EMPTY_CART
    head = "🛒 Your cart:"
    foot = f"Subtotal: {format_money(subtotal(list(lines)))}"
    body = numbered_lines(lines, budget - len(head) - len(foot) - 2)
    return f"{head}\n{body}\n{foot}"


def is_expired(cart_updated_at: dt.datetime | None, now: dt.datetime, ttl: dt.timedelta) -> bool:
    """True when the cart has been idle for longer than `ttl` (CART_TTL_SECONDS)."""
    return cart_updated_at is not None and now - cart_updated_at > ttl
