"""orders' HTTP routes besides health and metrics: the staff JSON API."""

from __future__ import annotations

from starlette.routing import BaseRoute

from services.orders.settings import OrdersSettings


def staff_routes(settings: OrdersSettings) -> list[BaseRoute]:
    """The staff API routes (none yet)."""
    return []
