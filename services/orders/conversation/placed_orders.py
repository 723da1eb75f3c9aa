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
from services.orders.menu import hours
from services.orders.menu.catalog import format_money
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


def _local(turn: Turn, moment: dt.datetime) -> str:
    return f"{moment.astimezone(hours.store_zone(turn.store.menu.store)):%H:%M}"


async def status(turn: Turn, number: int | None = None) -> str:
    """The state of the customer's latest order (or order `number`)."""
    order = await latest_order(turn, number)
    if order is None:
        if number is not None:
            return f"I couldn't find an order #{number} of yours. Send *status* for your latest order."
        return "You haven't placed an order yet. " + ORDER_HINT
    state = str(order["status"])
    lines = [f"{lifecycle.ICONS.get(state, '🧾')} Order *#{order['number']}*: {lifecycle.LABELS[state]}"]
    placed = f"Placed at {_local(turn, order['placed_at'])}"
    if state not in lifecycle.FINAL and order.get("estimated_ready_at"):
        placed += f" · estimated ready around {_local(turn, order['estimated_ready_at'])}"
    lines.append(placed)
    where = (
        f"Delivery to {order['delivery_address']}"
        if order["fulfilment"] == "delivery"
        else f"Pickup at {turn.store.menu.store.name}"
    )
    lines.append(f"Total {format_money(int(order['total_cents']))} · {where}")
    if state in lifecycle.CUSTOMER_CANCELLABLE:
        lines.append("You can still *cancel* it.")
    return "\n".join(lines)


async def cancel(turn: Turn, number: int | None = None) -> str:
    """Cancel the customer's latest active order (or order `number`) if not yet preparing."""
    order = await latest_order(turn, number, active_only=number is None)
    if order is None:
        if number is not None:
            return f"I couldn't find an order #{number} of yours."
        return "You have no open order to cancel. " + ORDER_HINT
    state = str(order["status"])
    n = order["number"]
    if state == "cancelled":
        return f"Order #{n} is already cancelled."
    if state not in lifecycle.CUSTOMER_CANCELLABLE:
        return (
            f"Sorry, order #{n} is already {lifecycle.LABELS[state].lower()}, so it can't be cancelled "
            "here any more. Send *agent* to talk to our team."
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
    return f"❌ Order #{n} is cancelled. " + "Send *reorder* to put its items back in your cart."


async def recent_confirmed(turn: Turn) -> dict[str, Any] | None:
    """The customer's order placed within `RECENT_ORDER`, if any (a repeated confirm)."""
    order = await latest_order(turn)
    if order is not None and turn.now - order["placed_at"] < RECENT_ORDER:
        return order
    return None


async def reorder(turn: Turn) -> str:
    """Put the items of the customer's latest order back into the cart, at today's prices."""
    order = await latest_order(turn)
    if order is None:
        return "You haven't ordered with us yet, so there's nothing to repeat. " + ORDER_HINT
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
            fields = build_line(menu, item, options, (), [row["notes"]] if row["notes"] else [])
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
        parts.append(f"🔁 I put your order #{order['number']} back in your cart (at today's prices).")
    if missing:
        parts.append("Sorry, these aren't available any more: " + ", ".join(missing) + ".")
    if full:
        limits = menu.store.cart
        parts.append(
            f"Your cart can hold {limits.max_lines} different items and {limits.max_items} in all, "
            f"so I left out {len(full)} of the lines: "
            + ", ".join(full[:5])
            + ("…" if len(full) > 5 else "")
            + "."
        )
    parts.append(render_cart(lines, room(*parts, CHECKOUT_HINT)))
    if lines:
        parts.append(CHECKOUT_HINT)
    return "\n\n".join(parts)
