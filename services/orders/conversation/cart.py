"""The cart as the customer reads it, and when it expires; its rows live in `storage.carts`."""

from __future__ import annotations

import datetime as dt

from services.orders.menu.catalog import format_money
from services.orders.storage.carts import CartLine, subtotal


def render_cart(lines: list[CartLine]) -> str:
    """The cart as a WhatsApp message: one line per item, then the subtotal."""
    if not lines:
        return "Your cart is empty. Send *menu* to see what we have."
    body = "\n".join(f"{i}. {line.describe()}" for i, line in enumerate(lines, 1))
    return f"🛒 Your cart:\n{body}\nSubtotal: {format_money(subtotal(lines))}"


def is_expired(cart_updated_at: dt.datetime | None, now: dt.datetime, ttl: dt.timedelta) -> bool:
    """True when the cart has been idle for longer than `ttl` (CART_TTL_SECONDS)."""
    return cart_updated_at is not None and now - cart_updated_at > ttl
