"""Items sold by the portion of several pieces (menu `pieces`: the demo's wings come eight to a
portion): a count said with the item's name may be a count of pieces rather than of portions.

A clerk who hears "8 wings" where wings come eight to an order asks "one order of eight, or
eight orders?"; "2 wings" is two orders, and "8 orders of wings" is eight orders. So a line of
such an item whose count is at least half a portion's pieces (4 of 8), said without a word of
portions ("orders", "porciones", "porções"), is asked about as a numbered choice: the portions
that make about that many pieces first, then the count as portions. Each option adds the whole
message (its other lines as said), so nothing is added before the answer
(docs/conversation.md).
"""

from __future__ import annotations

import math
from typing import Any

from services.orders.conversation import adding
from services.orders.conversation.turn import Turn
from services.orders.menu.catalog import Item
from services.orders.understanding.menu_index import tokenize
from services.orders.understanding.parser import OrderLine, ParseResult

__all__ = ["ask_portions"]

# Words of portions as the parser reads them (the lexicons make "porciones", "porções",
# "órdenes" these): a count said with one of them is a count of portions.
_PORTION_WORDS = frozenset(
    {"order", "orders", "portion", "portions", "serving", "servings", "basket", "baskets", "plate", "plates"}
)


def _pieces_meant(item: Item, line: OrderLine) -> bool:
    """Whether `line`'s count may be a count of `item`'s pieces rather than of portions."""
    pieces = item.pieces
    if pieces is None or pieces < 2:
        return False
    if set(tokenize(line.text)) & _PORTION_WORDS:
        return False
    return line.quantity >= max(2, math.ceil(pieces / 2))


def _portions(quantity: int, pieces: int) -> list[int]:
    """The counts of portions that make about `quantity` pieces: 8 of 8 is 1, 12 of 8 is 1 or 2."""
    low, high = quantity // pieces, math.ceil(quantity / pieces)
    return sorted({n for n in (low, high) if n >= 1} or {1})


async def ask_portions(turn: Turn, result: ParseResult) -> str | None:
    """Ask how many portions are meant when a line of `result` counts an item sold by the
    portion of several pieces with a count that may be of pieces; None when none does (then
    the lines are added as said)."""
    menu = turn.store.menu
    s = turn.speaker
    asked: tuple[int, Item] | None = None
    for index, line in enumerate(result.lines):
        item = menu.item(line.item)
        if item is not None and _pieces_meant(item, line):
            asked = (index, item)
            break
    if asked is None or result.ambiguous or result.bad_quantities:
        return None
    index, item = asked
    pieces = item.pieces or 1
    said = result.lines[index].quantity
    built: list[tuple[OrderLine, dict[str, Any]]] = []
    for line in result.lines:
        line_item = menu.item(line.item)
        if line_item is None:
            continue
        notes = list(line.notes)
        try:
            fields = adding.build_line(menu, line_item, line.options, line.excluded, notes, s)
        except adding.LineProblem:
            return None  # the order parser's reply says what is wrong with it
        built.append((line, fields))
    options: list[dict[str, Any]] = []
    for portions in (*_portions(said, pieces), said):
        add = [
            {"fields": fields, "quantity": portions if line is result.lines[index] else line.quantity}
            for line, fields in built
        ]
        label = s._("{n} x {item} ({pieces} pieces)", n=portions, item=item.name, pieces=portions * pieces)
        if not any(option["label"] == label for option in options):
            options.append({"label": label, "op": {"op": "add", "add": add}})
    prompt = s._(
        "Our {item} come {pieces} to a portion. How many portions do you mean?", item=item.name, pieces=pieces
    )
    turn.kind = "ask"
    turn.state["asked"] = True
    turn.state["choice"] = {"prompt": prompt, "options": options}
    await turn.save_state()
    listed = "\n".join(f"{i}. {o['label']}" for i, o in enumerate(options, 1))
    return f"{prompt}\n{listed}\n" + s._("Reply with the number.")
