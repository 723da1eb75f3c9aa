"""Concrete cart operations: what a numbered choice stands for (`state["choice"]`), applied at
once or when the customer answers, and the changes a message holds back while the bot asks.

An operation is a small JSON-able dict: `{"op": "add", "add": [{"fields", "quantity"}]}`,
`{"op": "quantity" | "remove" | "change" | "restate" | "split" | "replace" | "replace_units",
"line": id, …}`, `{"op": "clear"}`, `{"op": "cancel_order", "number": n}`. **A message is
applied whole or not at all** (docs/conversation.md): when one of its phrases needs a question,
what the rest of it did to the cart is undone and kept as operations (`held`) with the question,
and applied after the customer's answer (`run_held`).
"""

from __future__ import annotations

from typing import Any

from services.orders.conversation import adding, placed_orders, texts
from services.orders.conversation.cart import told_apart
from services.orders.conversation.turn import Turn
from services.orders.storage import carts

__all__ = ["fields_of", "held", "run", "run_held", "touches"]


async def run(turn: Turn, op: dict[str, Any], touched: list[int]) -> str:
    """Apply one concrete operation on the cart; returns the sentence saying what it did."""
    s = turn.speaker
    lines = {line.id: line for line in await carts.load_cart(turn.conn, turn.customer_id)}
    kind = op["op"]
    if kind == "clear":
        await carts.clear_cart(turn.conn, turn.customer_id)
        return s._(texts.EMPTIED)
    if kind == "cancel_order":
        turn.kind = "order-cancelled"
        return await placed_orders.cancel(turn, int(op["number"]))
    if kind == "add":
        remarks: list[str] = []
        said = [
            x
            for add in op["add"]
            if (x := await adding.add_line(turn, add["fields"], int(add["quantity"]), remarks, touched))
        ]
        return " ".join(([s._("✅ Added {lines}.", lines=", ".join(said))] if said else []) + remarks)
    line = lines.get(int(op["line"]))
    if line is None:
        return s._("That line isn't in your cart any more.")
    # the line as the reply names it: with what tells it from another line of that name
    same = [other for other in lines.values() if other.name == line.name and other.id != line.id]
    name = told_apart([line, *same], s)[0]
    if kind == "quantity":
        quantity = int(op["quantity"])
        most = turn.store.menu.store.cart.max_items
        items = sum(other.quantity for other in lines.values()) - line.quantity + quantity
        if quantity > line.quantity and items > most:
            return s._(
                "Your cart can hold {most} items in all, and with {quantity} x {item} it would "
                "have {items}, so I left it at {kept}.",
                most=most,
                quantity=quantity,
                item=name,
                items=items,
                kept=line.quantity,
            )
        if quantity <= 0:
            await carts.remove_line(turn.conn, turn.customer_id, line.id, turn.now)
            return s._("🗑️ Removed {item}.", item=name)
        await carts.set_quantity(turn.conn, turn.customer_id, line.id, quantity, turn.now)
        touched.append(line.id)
        return s._("✏️ Changed {item} to {quantity}.", item=name, quantity=quantity)
    if kind == "remove":
        await carts.remove_line(turn.conn, turn.customer_id, line.id, turn.now)
        return s._("🗑️ Removed {quantity} x {item}.", quantity=line.quantity, item=name)
    if kind == "replace_units":
        units = int(op["units"])
        await carts.set_quantity(turn.conn, turn.customer_id, line.id, line.quantity - units, turn.now)
        touched.append(line.id)
        remarks = []
        said = [
            x
            for add in op["add"]
            if (x := await adding.add_line(turn, add["fields"], int(add["quantity"]), remarks, touched))
        ]
        changed = s._(
            "🔄 Changed {units} of your {quantity} x {item} to {new}.",
            units=units,
            quantity=line.quantity,
            item=name,
            new=", ".join(said),
        )
        return " ".join([changed, *remarks])
    if kind == "replace":
        await carts.remove_line(turn.conn, turn.customer_id, line.id, turn.now)
        remarks = []
        said = [
            x
            for add in op["add"]
            if (x := await adding.add_line(turn, add["fields"], int(add["quantity"]), remarks, touched))
        ]
        replaced = s._(
            "🔄 Replaced {quantity} x {item} with {new}.",
            quantity=line.quantity,
            item=name,
            new=", ".join(said),
        )
        return " ".join([replaced, *remarks])
    fields: dict[str, Any] | None = op.get("fields")
    if kind == "change" and fields is not None:
        await adding.update_fields(turn, line.id, fields)
        touched.append(line.id)
        return s._("✏️ Updated {line}.", line=f"{line.quantity} x {adding.describe(fields, s)}")
    if kind == "restate":
        if fields is not None:
            await adding.update_fields(turn, line.id, fields)
        quantity = int(op["quantity"])
        if quantity != line.quantity:
            await carts.set_quantity(turn.conn, turn.customer_id, line.id, quantity, turn.now)
        touched.append(line.id)
        shown = adding.describe(fields, s) if fields is not None else line.name
        return s._("✏️ Changed to {line}.", line=f"{quantity} x {shown}")
    if kind == "split" and fields is not None:
        units = int(op["units"])
        await carts.set_quantity(turn.conn, turn.customer_id, line.id, line.quantity - units, turn.now)
        remarks = []
        moved = await adding.add_line(turn, fields, units, remarks, touched)
        made = s._(
            "✏️ Made {moved} of your {quantity} x {item}.",
            moved=moved or units,
            quantity=line.quantity,
            item=name,
        )
        return made + (" " + " ".join(remarks) if remarks else "")
    raise ValueError(f"unknown cart operation {kind!r}")


def fields_of(line: carts.CartLine) -> dict[str, Any]:
    """A cart line's fields as `adding.build_line` returns them (an add of them makes that line)."""
    return {
        "item_code": line.item_code,
        "name": line.name,
        "unit_price_cents": line.unit_price_cents,
        "options": [dict(o) for o in line.options],
        "excluded": list(line.excluded),
        "notes": line.notes,
    }


def held(before: list[carts.CartLine], after: list[carts.CartLine]) -> list[dict[str, Any]]:
    """The operations that take the cart `before` to `after`: what a message did before it had
    to ask, kept to apply after the answer. Lines gone are removed, lines changed are said again
    with their new options and quantity, lines with more units get the units added (an add of
    the same fields raises that line, whatever the answer added to it), lines with fewer get
    their new quantity, new lines are added. `of` names the line an add raises, for `touches`."""
    now = {line.id: line for line in after}
    ops: list[dict[str, Any]] = []
    for old in before:
        new = now.get(old.id)
        if new is None or new.item_code != old.item_code:
            ops.append({"op": "remove", "line": old.id})
        elif fields_of(new) != fields_of(old):
            ops.append({"op": "restate", "line": old.id, "fields": fields_of(new), "quantity": new.quantity})
        elif new.quantity > old.quantity:
            add = {"fields": fields_of(new), "quantity": new.quantity - old.quantity}
            ops.append({"op": "add", "add": [add], "of": old.id})
        elif new.quantity < old.quantity:
            ops.append({"op": "quantity", "line": old.id, "quantity": new.quantity})
    kept = {line.id: line.item_code for line in before}
    added = [
        {"fields": fields_of(line), "quantity": line.quantity}
        for line in after
        if kept.get(line.id) != line.item_code
    ]
    if added:
        ops.append({"op": "add", "add": added})
    return ops


def touches(op: dict[str, Any]) -> set[int]:
    """The ids of the cart lines an operation changes (none for an add of new lines)."""
    line = op.get("line", op.get("of"))
    return {int(line)} if line is not None else set()


async def run_held(turn: Turn, ops: list[dict[str, Any]], touched: list[int]) -> list[str]:
    """Apply the operations a message held back while the bot asked (after the answer's own)."""
    return [said for op in ops if (said := await run(turn, op, touched))]
