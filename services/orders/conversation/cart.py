"""The cart as the customer reads it, and when it expires; its rows live in `storage.carts`.

A reply is meant to be one WhatsApp message (at most `MAX_BODY_CHARS`, Twilio's Body limit;
WhatsApp bills each message), so a cart is shown within the room a reply leaves it: whole when
it fits, else with each line's options and notes shortened (more and more), then without them,
then as its first lines and how many more ("…and 4 more lines, 9 items"). The subtotal is
always there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final

from services.orders.language import Speaker
from services.orders.language import mark as _
from services.orders.storage.carts import CartLine, subtotal
from services.orders.storage.outbox import MAX_BODY_CHARS

EMPTY_CART: Final = _("Your cart is empty. Send *menu* to see what we have.")
# An option with a quantity qualifier, as the customer reads it ("extra Cheese").
QUALIFIED: Mapping[str, str] = {
    "light": _("light {option}"),
    "extra": _("extra {option}"),
    "double": _("double {option}"),
    "triple": _("triple {option}"),
}
# Room a cart keeps however long the rest of the reply is (that reply is then split anyway).
MIN_ROOM: Final = 300
# Characters of a line's options and notes kept, tried in turn until the lines fit (None: all).
DETAIL_CHARS: Final = (None, 40, 24, 12, 0)


def room(*other: str) -> int:
    """Characters left for a cart (or list of lines) in a reply that also holds the `other`
    parts, joined by blank lines: at least `MIN_ROOM`."""
    used = sum(len(part) + 2 for part in other if part)
    return max(MIN_ROOM, MAX_BODY_CHARS - used)


def option_words(
    speaker: Speaker, options: list[dict[str, Any]], excluded: list[str], notes: str
) -> list[str]:
    """A line's options as the customer reads them: `Large`, `extra Cheese`, `no Onions`, notes."""
    words = []
    for option in options:
        qualifier = str(option.get("qualifier") or "")
        name = str(option["name"])
        words.append(speaker._(QUALIFIED[qualifier], option=name) if qualifier in QUALIFIED else name)
    words += [speaker._("no {option}", option=name) for name in excluded]
    if notes:
        words.append(notes)
    return words


def describe(line: CartLine, speaker: Speaker, detail_chars: int | None = None) -> str:
    """`2 x Pepperoni (Large, extra Cheese, no Onions) — $27.00`; with `detail_chars`, the part
    in brackets is cut to that many characters (ending in "…"), or left out at 0."""
    text = ", ".join(option_words(speaker, line.options, line.excluded, line.notes))
    if detail_chars is not None and len(text) > detail_chars:
        text = text[: max(0, detail_chars - 1)].rstrip(" ,") + "…" if detail_chars > 0 else ""
    detail = f" ({text})" if text else ""
    return f"{line.quantity} x {line.name}{detail} — {speaker.money(line.total_cents)}"


def told_apart(lines: Sequence[CartLine], speaker: Speaker) -> list[str]:
    """The names of `lines` as a choice between them shows them: each name alone when the names
    differ, else with the options that tell the lines apart ("Coke (Large, Bottle)"), so that
    a choice is never between two identical labels."""
    names = [line.name for line in lines]
    if len(set(names)) == len(names):
        return names
    out = []
    for line in lines:
        text = ", ".join(option_words(speaker, line.options, line.excluded, line.notes))
        out.append(f"{line.name} ({text})" if text else line.name)
    return out


def numbered_lines(lines: Sequence[CartLine], budget: int, speaker: Speaker) -> str:
    """`1. 2 x Margherita (Large) — $21.00`, one line each, in at most `budget` characters
    (summarised as the module says when the whole list is longer)."""
    for detail in DETAIL_CHARS:
        text = "\n".join(f"{i}. {describe(line, speaker, detail)}" for i, line in enumerate(lines, 1))
        if len(text) <= budget:
            return text
    entries = [f"{i}. {describe(line, speaker, 0)}" for i, line in enumerate(lines, 1)]
    best = "\n".join(entries[:1])  # one line at least, whatever the budget
    used = 0
    for shown, entry in enumerate(entries, 1):
        used += len(entry) + 1
        rest = lines[shown:]
        more = speaker._(
            "…and {lines} more lines, {items} items", lines=len(rest), items=sum(r.quantity for r in rest)
        )
        if used + len(more) > budget:
            break
        best = "\n".join([*entries[:shown], more])
    return best


def render_cart(lines: Sequence[CartLine], speaker: Speaker, budget: int = MAX_BODY_CHARS) -> str:
    """The cart as a WhatsApp message in at most `budget` characters (see `room`): its lines,
    then the subtotal."""
    if not lines:
        return speaker._(EMPTY_CART)
    head = speaker._("🛒 Your cart:")
    foot = speaker._("Subtotal: {amount}", amount=speaker.money(subtotal(list(lines))))
    body = numbered_lines(lines, budget - len(head) - len(foot) - 2, speaker)
    return f"{head}\n{body}\n{foot}"


def is_expired(cart_updated_at: dt.datetime | None, now: dt.datetime, ttl: dt.timedelta) -> bool:
    """True when the cart has been idle for longer than `ttl` (CART_TTL_SECONDS)."""
    return cart_updated_at is not None and now - cart_updated_at > ttl
