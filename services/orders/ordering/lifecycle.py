"""An order's life after it is placed: the validated state machine, its history, and notifying
the customer of every move through the outbox, in the transaction that made it.

```
placed ──▶ confirmed ──▶ preparing ──▶ ready ──▶ out_for_delivery ──▶ delivered   (delivery)
                                         └──────▶ picked_up                        (pickup)
any state before delivered / picked_up ──▶ cancelled (a reason is required)
```

Locks are always taken customer row first, then order row: the inbound handler holds the
customer row for the whole message (consumer.py), so a staff transition that took the order
first and then wrote the customer's outbox sequence could deadlock with a customer's `cancel`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any, Final

from libs import metrics
from services.orders.language import Speaker, speaker_for
from services.orders.language import mark as _
from services.orders.menu.catalog import Store
from services.orders.menu.files import template_for
from services.orders.menu.hours import store_zone
from services.orders.storage import carts, customers, orders, stores
from services.orders.storage.carts import CartLine
from services.orders.storage.outbox import queue_notification
from services.orders.storage.pool import Conn
from services.orders.storage.stores import StoreRow

STATUSES: Final[tuple[str, ...]] = (
    "placed",
    "confirmed",
    "preparing",
    "ready",
    "out_for_delivery",
    "delivered",
    "picked_up",
    "cancelled",
)
FINAL: Final = frozenset({"delivered", "picked_up", "cancelled"})
# Customers may cancel on their own until the kitchen starts preparing.
CUSTOMER_CANCELLABLE: Final = frozenset({"placed", "confirmed"})

_FORWARD: Final[dict[str, dict[str, frozenset[str]]]] = {
    # status -> fulfilment -> next statuses (besides cancelled)
    "placed": {"delivery": frozenset({"confirmed"}), "pickup": frozenset({"confirmed"})},
    "confirmed": {"delivery": frozenset({"preparing"}), "pickup": frozenset({"preparing"})},
    "preparing": {"delivery": frozenset({"ready"}), "pickup": frozenset({"ready"})},
    "ready": {"delivery": frozenset({"out_for_delivery"}), "pickup": frozenset({"picked_up"})},
    "out_for_delivery": {"delivery": frozenset({"delivered"}), "pickup": frozenset()},
}

# In English for staff; `speaker._(LABELS[status])` for a customer.
LABELS: Final = {
    "placed": _("Placed, waiting for the store to confirm"),
    "confirmed": _("Confirmed"),
    "preparing": _("Being prepared"),
    "ready": _("Ready"),
    "out_for_delivery": _("Out for delivery"),
    "delivered": _("Delivered"),
    "picked_up": _("Picked up"),
    "cancelled": _("Cancelled"),
}
ICONS: Final = {
    "placed": "🧾",
    "confirmed": "👍",
    "preparing": "👩‍🍳",
    "ready": "✅",
    "out_for_delivery": "🛵",
    "delivered": "🎉",
    "picked_up": "🎉",
    "cancelled": "❌",
}


class OrderNotFound(LookupError):
    """No order with that number in the store."""


class InvalidTransition(ValueError):
    """The move is not allowed from the order's current status; `str()` says why."""

    def __init__(self, number: int, current: str, wanted: str, message: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.number = number
        self.current = current
        self.wanted = wanted
        self.allowed = allowed


def allowed_next(status: str, fulfilment: str | None) -> list[str]:
    """Statuses reachable from `status` for this fulfilment (`None`: either), in display order."""
    if status in FINAL:
        return []
    forward: set[str] = set()
    for kind, nexts in _FORWARD.get(status, {}).items():
        if fulfilment is None or kind == fulfilment:
            forward |= nexts
    return [s for s in STATUSES if s in forward] + ["cancelled"]


def check_transition(number: int, current: str, wanted: str, fulfilment: str, reason: str) -> None:
    """Raise `InvalidTransition` with a message a person can act on, or return when allowed."""
    allowed = allowed_next(current, fulfilment)

    def invalid(message: str) -> InvalidTransition:
        return InvalidTransition(number, current, wanted, message, allowed)

    if wanted not in STATUSES:
        raise invalid(f"unknown status {wanted!r}; use one of {', '.join(STATUSES)}")
    if wanted == current:
        raise invalid(f"order #{number} is already {current}")
    if current in FINAL:
        raise invalid(f"order #{number} is {current}; a finished order cannot change")
    if wanted == "cancelled":
        if not reason.strip():
            raise invalid("cancelling needs a reason")
        return
    if wanted not in allowed:
        kind = f" (a {fulfilment} order)" if wanted in ("out_for_delivery", "delivered", "picked_up") else ""
        raise invalid(
            f"order #{number}{kind} cannot go from {current} to {wanted}; allowed next: {', '.join(allowed)}"
        )


# What the customer reads when their order moves to a status (free-form, inside the window).
_NOTIFICATIONS: Final = {
    "confirmed": _("👍 {store} confirmed your order #{number}."),
    "preparing": _("👩‍🍳 We're preparing your order #{number} now."),
    "ready:pickup": _("✅ Your order #{number} is ready for pickup at {store}!"),
    "ready": _("✅ Your order #{number} is ready and will be on its way soon."),
    "out_for_delivery": _("🛵 Your order #{number} is on its way!"),
    "delivered": _("🎉 Your order #{number} was delivered. Enjoy your meal! Send *reorder* to get it again."),
    "picked_up": _("🎉 Thanks for picking up order #{number}. Enjoy your meal!"),
    "cancelled": _("❌ Your order #{number} was cancelled."),
    "cancelled:reason": _("❌ Your order #{number} was cancelled: {reason}."),
}


def notification_text(
    order: dict[str, Any], status: str, store_name: str, reason: str = "", speaker: Speaker | None = None
) -> str:
    """What the customer reads when their order moves to `status` (free-form, inside the
    window), in the customer's language (`speaker`; English when None)."""
    s = speaker or speaker_for(None, currency="USD", timezone="UTC")
    said = reason.strip().rstrip(".!;: ")  # the sentence ends once: "out of dough." is not doubled
    values = {"number": order["number"], "store": store_name, "reason": said}
    key = status
    if status == "ready" and order["fulfilment"] == "pickup":
        key = "ready:pickup"
    elif status == "cancelled" and said:
        key = "cancelled:reason"
    if key in _NOTIFICATIONS:
        return s._(_NOTIFICATIONS[key], **values)
    label = s._(LABELS[status]) if status in LABELS else status
    return s._("Your order #{number} is now {status}.", number=order["number"], status=label)


def template_variables(
    order: dict[str, Any],
    customer: dict[str, Any],
    store_name: str,
    reason: str,
    zone: tzinfo = dt.UTC,
    speaker: Speaker | None = None,
) -> dict[str, str]:
    """The values a status template may name in its `variables` list (docs/conversation.md),
    worded and formatted by `speaker` (the customer's language; English when None): `total`
    as money, `eta` the estimated ready time in the store's time zone `zone`."""
    s = speaker or speaker_for(None, currency="USD", timezone=getattr(zone, "key", "UTC"))
    eta = order.get("estimated_ready_at")
    status = str(order["status"])
    return {
        "number": str(order["number"]),
        "status": s._(LABELS[status]) if status in LABELS else status,
        "store": store_name,
        "name": customer.get("profile_name") or "",
        "total": s.money(int(order["total_cents"])),
        "reason": reason,
        "eta": s.time(eta.astimezone(zone)) if isinstance(eta, dt.datetime) else "",
    }


@dataclass(frozen=True, slots=True)
class TransitionResult:
    """The order row after the move, and how the customer was told (`body`, `template`,
    `not_sent`, `opted_out`, or `reply` when the caller tells them in its own reply)."""

    order: dict[str, Any]
    previous: str
    notified: str


async def find_order_id(conn: Conn, store_id: int, number: int) -> tuple[int, int]:
    """(order id, customer id) of order `number`; raises `OrderNotFound`."""
    found = await orders.find(conn, store_id, number)
    if found is None:
        raise OrderNotFound(number)
    return found


def totals(store: Store, lines: list[CartLine], fulfilment: str) -> tuple[int, int, int]:
    """(subtotal, delivery fee, total) in cents of `lines` for this fulfilment."""
    subtotal = carts.subtotal(lines)
    fee = store.delivery.fee if fulfilment == "delivery" else 0
    return subtotal, fee, subtotal + fee


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """What the customer is told about the order just placed (money in cents, time UTC)."""

    id: int
    number: int
    total_cents: int
    delivery_address: str | None
    estimated_ready_at: dt.datetime


async def place_order(
    conn: Conn,
    store: StoreRow,
    *,
    customer_id: int,
    fulfilment: str,
    address: str | None,
    location: dict[str, Any] | None,
    notes: str,
    lines: list[CartLine],
    confirm_message_sid: str,
    now: dt.datetime,
    flag_of: Callable[[str], str | None],
    language: str | None = None,
) -> PlacedOrder:
    """Turn the confirmed cart `lines` into a `placed` order inside the caller's transaction.

    Takes the store's next number, writes the order with copies of the lines and its first
    history row (actor `customer`), empties the cart and, for a delivery, saves the address
    (and location pin) for "same address" next time. The estimated ready time is `now` plus the
    store's preparation minutes. The caller has checked hours, availability and the minimum.
    A second order for the same `confirm_message_sid` raises `psycopg.errors.UniqueViolation`.
    `flag_of` says which notes (the order's, each line's) are an `allergy` or a `diet`: the
    conversation decides (conversation/note_flags.py); the answers are stored with the notes.
    `language` is the locale the customer ordered in, kept on the order for staff.
    """
    menu_store = store.menu.store
    subtotal, fee, total = totals(menu_store, lines, fulfilment)
    number = await stores.next_order_number(conn, store.id)
    ready_at = now + dt.timedelta(minutes=menu_store.preparation_minutes)
    delivery = fulfilment == "delivery"
    order_id = await orders.insert_placed(
        conn,
        store_id=store.id,
        number=number,
        customer_id=customer_id,
        fulfilment=fulfilment,
        delivery_address=address if delivery else None,
        delivery_location=location if delivery else None,
        notes=notes,
        notes_flag=flag_of(notes),
        subtotal_cents=subtotal,
        delivery_fee_cents=fee,
        total_cents=total,
        currency=menu_store.currency,
        confirm_message_sid=confirm_message_sid,
        estimated_ready_at=ready_at,
        now=now,
        lines=lines,
        line_flags=[flag_of(line.notes) for line in lines],
        language=language,
    )
    await orders.add_history(
        conn, order_id, from_status=None, to_status="placed", actor="customer", reason="", at=now
    )
    await carts.clear_cart(conn, customer_id)
    if delivery and address:
        await customers.save_address(conn, customer_id, address, location)
    metrics.ORDERS_PLACED.inc()
    return PlacedOrder(order_id, number, total, address if delivery else None, ready_at)


async def transition(
    conn: Conn,
    *,
    store_id: int,
    store_name: str,
    templates: dict[str, Any],
    number: int,
    to: str,
    actor: str,
    reason: str,
    now: dt.datetime,
    notify: bool = True,
    zone: tzinfo = dt.UTC,
    store: Store | None = None,
) -> TransitionResult:
    """Move order `number` to `to` inside the caller's transaction.

    Locks the customer row, then the order row; validates the move (`InvalidTransition`,
    nothing written); updates the order; appends a history row (`actor`, `reason`, `now`); and,
    when `notify`, queues the customer's notification with `queue_notification` (free-form
    inside the 24-hour window, else the store's template for `to`, else a `not_sent` row).
    Raises `OrderNotFound` for an unknown number. `zone` is the store's time zone (template
    times); `store` (its settings), when given, words the notification in the customer's
    language with the store's currency (English and USD without it). The caller must tell
    the relay after commit.
    """
    order_id, customer_id = await find_order_id(conn, store_id, number)
    customer = await customers.lock(conn, customer_id)
    order = await orders.lock(conn, order_id)
    assert customer is not None and order is not None
    previous = str(order["status"])
    check_transition(number, previous, to, str(order["fulfilment"]), reason)
    updated = await orders.set_status(conn, order_id, to, now)
    await orders.add_history(
        conn, order_id, from_status=previous, to_status=to, actor=actor, reason=reason.strip(), at=now
    )
    notified = "reply"
    if notify:
        language = customer.get("language")
        if store is not None:
            speaker = store.speaker(language)
        else:
            speaker = speaker_for(language, currency="USD", timezone=getattr(zone, "key", "UTC"))
        notified = await queue_notification(
            conn,
            customer=customer,
            body=notification_text(updated, to, store_name, reason, speaker),
            purpose=f"status:{to}",
            order_id=order_id,
            template=template_for(templates, to, speaker.locale),
            variables=template_variables(updated, customer, store_name, reason, zone, speaker),
            now=now,
        )
    metrics.ORDER_TRANSITIONS.labels(to).inc()
    return TransitionResult(order=updated, previous=previous, notified=notified)


async def transition_in_store(
    conn: Conn,
    store: StoreRow,
    *,
    number: int,
    to: str,
    actor: str,
    reason: str,
    now: dt.datetime,
    notify: bool = True,
) -> TransitionResult:
    """`transition` for `store`: its id, name, templates and time zone come from the store row,
    so every caller (staff API, dashboard, the customer's own cancel) words notifications alike.
    Raises `OrderNotFound` and `InvalidTransition` like `transition`."""
    return await transition(
        conn,
        store_id=store.id,
        store_name=store.menu.store.name,
        templates=store.templates,
        number=number,
        to=to,
        actor=actor,
        reason=reason,
        now=now,
        notify=notify,
        zone=store_zone(store.menu.store),
        store=store.menu.store,
    )
