"""The staff dashboard, served by orders: `/login`, `/logout` and everything under `/dashboard`.

Wiring (services/orders/app.py): `create_app` adds `dashboard_routes(settings)`, and its
lifespan enters `dashboard_lifespan(app)` once `app.state.orders` is set.

`dashboard_lifespan` runs beside the consumer: it creates the first staff account from
ADMIN_EMAIL/ADMIN_PASSWORD when there is none, and runs the event relay (committed changes ->
the `{p}:events` stream) and the event hub (one stream reader fanning out to every open
browser). docs/dashboard.md describes the pages; events.py the live path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from libs import health
from libs.errors import DependencyUnavailable
from libs.retry import retry_forever
from services.orders.settings import OrdersSettings
from services.orders.state import OrdersState
from services.orders.web.dashboard import auth, staff_pages, views
from services.orders.web.dashboard.events import EventHub, EventRelay, Outgoing, StreamEvent
from services.orders.web.dashboard.web import HERE, DashboardState, make_templates

log = logging.getLogger("services.orders.web.dashboard")

__all__ = ["dashboard_lifespan", "dashboard_routes"]


def dashboard_routes(settings: OrdersSettings) -> list[BaseRoute]:
    """The dashboard's routes (their runtime is attached by `dashboard_lifespan`)."""
    d = "/dashboard"
    return [
        Route("/", views.root, methods=["GET"]),
        Route("/login", views.login_page, methods=["GET"]),
        Route("/login", views.login, methods=["POST"]),
        Route("/logout", views.logout_page, methods=["GET"]),
        Route("/logout", views.logout, methods=["POST"]),
        Route(d, views.queue_page, methods=["GET"]),
        Route(f"{d}/board", views.board_fragment, methods=["GET"]),
        Route(f"{d}/events", views.events, methods=["GET"]),
        Route(f"{d}/orders/{{number}}", views.order_page, methods=["GET"]),
        Route(f"{d}/orders/{{number}}/live", views.order_live, methods=["GET"]),
        Route(f"{d}/orders/{{number}}/card", views.card_fragment, methods=["GET"]),
        Route(f"{d}/orders/{{number}}/ticket", views.kitchen_ticket, methods=["GET"]),
        Route(f"{d}/orders/{{number}}/transitions", views.transition, methods=["POST"]),
        Route(f"{d}/menu", views.menu_page, methods=["GET"]),
        Route(f"{d}/menu/panel", views.menu_fragment, methods=["GET"]),
        Route(f"{d}/items/{{code}}/availability", views.item_availability, methods=["POST"]),
        Route(f"{d}/store/accepting", views.accepting_orders, methods=["POST"]),
        Route(f"{d}/handoff", views.handoff_page, methods=["GET"]),
        Route(f"{d}/handoff/list", views.handoff_fragment, methods=["GET"]),
        Route(f"{d}/handoff/badge", views.handoff_badge, methods=["GET"]),
        Route(f"{d}/conversations/{{customer}}", views.conversation_page, methods=["GET"]),
        Route(f"{d}/conversations/{{customer}}/live", views.conversation_fragment, methods=["GET"]),
        Route(f"{d}/conversations/{{customer}}/handoff", views.take_over, methods=["POST"]),
        Route(f"{d}/conversations/{{customer}}/release", views.release, methods=["POST"]),
        Route(f"{d}/conversations/{{customer}}/reply", views.reply, methods=["POST"]),
        Route(f"{d}/today", views.today_page, methods=["GET"]),
        Route(f"{d}/today/stats", views.today_fragment, methods=["GET"]),
        Route(f"{d}/staff", staff_pages.staff_page, methods=["GET"]),
        Route(f"{d}/staff", staff_pages.add_staff, methods=["POST"]),
        Route(f"{d}/staff/{{user}}/disable", staff_pages.disable_staff, methods=["POST"]),
        Route(f"{d}/staff/{{user}}/enable", staff_pages.enable_staff, methods=["POST"]),
        Route(f"{d}/staff/{{user}}/password", staff_pages.reset_staff_password, methods=["POST"]),
        Mount(f"{d}/static", app=StaticFiles(directory=HERE / "static"), name="dashboard-static"),
    ]


async def _bootstrap_admin(state: OrdersState, *, attempts: int | None = None) -> bool:
    """Create the first account, retrying while the database is unreachable; True when settled.

    `attempts` None retries until it succeeds (the background fallback).
    """
    settings = state.settings
    if not settings.admin_email or not settings.admin_password:
        return True
    email, password = settings.admin_email, settings.admin_password

    async def create() -> bool:
        await auth.ensure_first_admin(state.pool, email, password, slow_s=settings.slow_query_s)
        return True

    def failed(exc: BaseException, delay: float) -> None:
        log.warning("cannot create the first staff account yet", extra={"error": str(exc)})

    try:
        done = await retry_forever(
            create, retry_on=(DependencyUnavailable,), base=0.5, cap=10.0, on_retry=failed, attempts=attempts
        )
    except DependencyUnavailable as exc:
        failed(exc, 0.0)
        return False
    return bool(done)


@contextlib.asynccontextmanager
async def dashboard_lifespan(app: Starlette) -> AsyncIterator[None]:
    """Start the dashboard's background work for the app's life; stop it at shutdown."""
    state: OrdersState = app.state.orders
    settings = state.settings
    if settings.admin_email is None:
        log.info("no ADMIN_EMAIL: no first staff account will be created")

    async def render(event: StreamEvent) -> Outgoing:
        return await views.render_event(app, event)

    runtime = DashboardState(
        settings=settings, templates=make_templates(), cookies=auth.SessionCookies(settings.session_secret)
    )
    runtime.hub = EventHub(state.redis, state.keys, render)
    runtime.relay = EventRelay(
        state.pool, state.redis, state.keys, database_url=settings.database_url, slow_s=settings.slow_query_s
    )
    app.state.dashboard = runtime
    # The first account exists before the app serves, so the first sign-in can use it; with the
    # database down the start goes on and a background task keeps trying.
    settled = await _bootstrap_admin(state, attempts=1)
    await auth.warm_up()
    log.info("starting dashboard: event relay and hub")
    bootstrap = None if settled else asyncio.create_task(_bootstrap_admin(state), name="staff-bootstrap")
    relay_task = asyncio.create_task(runtime.relay.run(), name="staff-events-relay")
    hub_task = asyncio.create_task(runtime.hub.run(), name="staff-events-hub")
    state.probes.liveness.update(
        {
            "events_relay": health.task_liveness(lambda: relay_task),
            "events_hub": health.task_liveness(lambda: hub_task),
        }
    )
    try:
        yield
    finally:
        log.info("stopping dashboard")
        runtime.hub.stop()
        runtime.relay.stop()
        await asyncio.wait({relay_task, hub_task}, timeout=5)
        for task in (relay_task, hub_task, bootstrap):
            if task is not None:
                task.cancel()
