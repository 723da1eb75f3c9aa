"""The customer's side of orders already placed: `status`, `cancel` and `reorder`.

`cancel` moves the order through the same state machine as staff do (lifecycle.transition),
allowed only while the kitchen has not started (placed, confirmed). The customer reads the
result in the reply to their message, so the transition does not queue a second message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.orders.conversation.adding import LineProblem, build_line, chosen_from_json
from services.orders.conversation.cart import render_cart, room
from services.orders.conversation.texts import CHECKOUT_HINT, ORDER_HINT
from services.orders.conversation.turn import Turn
from services.orders.ordering import lifecycle
from services.orders.storage import carts, orders

CUSTOMER_CANCEL_REASON = "cancelled by the customer"
# A "yes" this soon after placing an order is a repeated confirm, not a new question.
RECENT_ORDER = dt.timedelta(minutes=30)


async def latest_order(
    turn: Turn, number: int | None = None, *, active_only: bool = False
) -> dict[str, Any] | None:
    """The customer's newest order (or the one numbered `number`, if it is theirs)."""
    return await orders.latest_of_customer(
        turn.conn, turn.store.id, turn.customer_id, number, active_only=active_only
    )


async def status(turn: Turn, number: int | None = None) -> str:
    """The state of the customer's latest order (or order `number`)."""
    s = turn.speaker
    order = await latest_order(turn, number)
    if order is None:
        if number is not None:
            return s._(
                "I couldn't find an order #{number} of yours. Send *status* for your latest order.",
                number=number,
            )
        return s._("You haven't placed an order yet.") + " " + s._(ORDER_HINT)
    state = str(order["status"])
    icon = lifecycle.ICONS.get(state, "🧾")
    label = s._(lifecycle.LABELS[state])
    lines = [icon + " " + s._("Order *#{number}*: {status}", number=order["number"], status=label)]
    placed = s._("Placed at {time}", time=s.time(order["placed_at"]))
    if state not in lifecycle.FINAL and order.get("estimated_ready_at"):
        placed += " · " + s._("estimated ready around {time}", time=s.time(order["estimated_ready_at"]))
    lines.append(placed)
    if order["fulfilment"] == "delivery":
        where = s._("Delivery to {address}", address=order["delivery_address"])
    else:
        where = s._("Pickup at {store}", store=turn.store.menu.store.name)
    lines.append(s._("Total {amount}", amount=s.money(int(order["total_cents"]))) + f" · {where}")
    if state in lifecycle.CUSTOMER_CANCELLABLE:
        lines.append(s._("You can still *cancel* it."))
    return "\n".join(lines)


async def cancel(turn: Turn, number: int | None = None) -> str:
    """Cancel the customer's latest active order (or order `number`) if not yet preparing."""
    s = turn.speaker
    order = await latest_order(turn, number, active_only=number is None)
    if order is None:
        if number is not None:
            return s._("I couldn't find an order #{number} of yours.", number=number)
        return s._("You have no open order to cancel.") + " " + s._(ORDER_HINT)
    state = str(order["status"])
    n = order["number"]
    if state == "cancelled":
        return s._("Order #{number} is already cancelled.", number=n)
    if state not in lifecycle.CUSTOMER_CANCELLABLE:
        return s._(
            "Sorry, order #{number} is already {status}, so it can't be cancelled "
            "here any more. Send *agent* to talk to our team.",
            number=n,
            status=s._(lifecycle.LABELS[state]).lower(),
        )
    await lifecycle.transition_in_store(
        turn.conn,
        turn.store,
        number=int(n),
        to="cancelled",
        actor="customer",
        reason=CUSTOMER_CANCEL_REASON,
        now=turn.now,
        notify=False,
    )
    return s._(
        "❌ Order #{number} is cancelled. Send *reorder* to put its items back in your cart.", number=n
    )


async def recent_confirmed(turn: Turn) -> dict[str, Any] | None:
    """The customer's order placed within `RECENT_ORDER`, if any (a repeated confirm)."""
    order = await latest_order(turn)
    if order is not None and turn.now - order["placed_at"] < RECENT_ORDER:
        return order
    return None


async def reorder(turn: Turn) -> str:
    """Put the items of the customer's latest order back into the cart, at today's prices."""
    s = turn.speaker
    order = await latest_order(turn)
    if order is None:
        return s._("You haven't ordered with us yet, so there's nothing to repeat.") + " " + s._(ORDER_HINT)
    menu = turn.store.menu
    missing: list[str] = []
    full: list[str] = []  # held back by the cart's limits (store.cart)
    added = 0
    for row in await orders.lines(turn.conn, int(order["id"])):
        item = menu.item(row["item_code"])
        if item is None:
            missing.append(row["name"])
            continue
        options = chosen_from_json(row["options"])
        try:
            fields = build_line(menu, item, options, (), [row["notes"]] if row["notes"] else [], s)
        except LineProblem:
            missing.append(row["name"])
            continue
        # Excluded options were stored by name; keep them as they were.
        fields["excluded"] = list(row["excluded"])
        # the cart shown below is the truth when a line was already at its maximum
        result = await carts.add_line(
            turn.conn,
            turn.customer_id,
            quantity=int(row["quantity"]),
            limits=menu.store.cart,
            now=turn.now,
            **fields,
        )
        if result.limit in ("lines", "items"):
            full.append(f"{int(row['quantity']) - result.quantity} x {row['name']}")
        if result.quantity > 0:
            added += 1
    turn.state.pop("checkout", None)
    turn.state.pop("question", None)
    await turn.save_state()
    lines = await carts.load_cart(turn.conn, turn.customer_id)
    parts = []
    if added:
        parts.append(
            s._(
                "🔁 I put your order #{number} back in your cart (at today's prices).", number=order["number"]
            )
        )
    if missing:
        parts.append(s._("Sorry, these aren't available any more: {items}.", items=s.list(missing)))
    if full:
        limits = menu.store.cart
        parts.append(
            s._(
                "Your cart can hold {lines} different items and {items} in all, "
                "so I left out {left} of the lines: {which}.",
                lines=limits.max_lines,
                items=limits.max_items,
                left=len(full),
                which=", ".join(full[:5]) + ("…" if len(full) > 5 else ""),
            )
        )
    hint = s._(CHECKOUT_HINT)
    parts.append(render_cart(lines, s, room(*parts, hint)))
    if lines:
        parts.append(hint)
    return "\n\n".join(parts)
