"""The orders service as an ASGI app: `create_app(settings=None)` and its `lifespan`.

Start-up, in order: the PostgreSQL pool, the Redis client, the inbound consumer (it publishes
the replies of its batches itself) and the outbox relay (their tasks), then the dashboard's
background work. Shutdown, in reverse: the dashboard stops, the consumer stops reading and
finishes the entries in hand (15 s at most), the relay its batch (5 s), then Redis and the
pool close. SIGTERM stops the consumer reading at once, so uvicorn's HTTP drain and the
consumer's last batch overlap (libs/server.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute

from libs import health
from libs.connections import redis_client
from libs.messages import ORDERS_GROUP, Keys
from libs.server import HttpMetrics, stop_on_signal
from libs.streams import ConsumerConfig, StreamConsumer, consumer_name
from services.orders import language
from services.orders.inbound import InboundHandler, customer_key
from services.orders.settings import OrdersSettings
from services.orders.state import OrdersState
from services.orders.storage.pool import make_pool, ping
from services.orders.storage.relay import OutboxRelay, publish_replies
from services.orders.storage.stores import StoreCache
from services.orders.web.dashboard import dashboard_lifespan, dashboard_routes
from services.orders.web.staff_api import staff_routes

log = logging.getLogger("services.orders")


def create_app(settings: OrdersSettings | None = None) -> Starlette:
    """The orders app: health and metrics, the staff API, the dashboard, and `lifespan`.

    `settings` default to the environment (raises `SettingsError` when it is incomplete), so
    `uvicorn --factory services.orders.app:create_app` works. Nothing connects until the
    lifespan starts.
    """
    settings = settings if settings is not None else OrdersSettings.from_env()
    routes: list[BaseRoute] = [
        *health.routes(_probes, settings.common.metrics_token),
        *staff_routes(settings),
        *dashboard_routes(settings),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(HttpMetrics)],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.settings = settings
    return app


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Open everything for `app.state.settings` and publish it as `app.state.orders`; close it
    all in reverse order at shutdown (see the module docstring)."""
    settings: OrdersSettings = app.state.settings
    keys = Keys(settings.common.key_prefix)
    log.info("loading message catalogs and the language detector")
    await asyncio.to_thread(language.warm_up)
    pool = make_pool(settings)
    log.info("opening database pool")
    await pool.open(wait=False)
    log.info("connecting to redis")
    redis = redis_client(settings.common.redis_url)
    stores = StoreCache(settings.store_code)
    relay = OutboxRelay(pool, redis, keys, slow_s=settings.slow_query_s)
    handler = InboundHandler(
        pool, stores, cart_ttl_s=settings.cart_ttl_s, slow_s=settings.slow_query_s, on_commit=relay.notify,
        publish=functools.partial(publish_replies, redis, keys),
    )  # fmt: skip
    consumer = StreamConsumer(
        redis=redis,
        stream=keys.inbound,
        group=ORDERS_GROUP,
        consumer=consumer_name("orders"),
        handler=handler,
        dead_letter_stream=keys.dead_letters(keys.inbound),
        config=ConsumerConfig(
            visibility_timeout_ms=settings.visibility_timeout_ms,
            max_deliveries=settings.max_deliveries,
            concurrency=settings.consumer_concurrency,
        ),
        key_of=customer_key,
    )
    state = OrdersState(settings, keys, pool, redis, stores, consumer, relay)
    app.state.orders = state

    async def check_db() -> str:
        return await ping(pool)

    async def check_redis() -> str:
        await redis.ping()
        return "ok"

    state.probes.readiness.update({"postgresql": check_db, "redis": check_redis})
    log.info("starting consumer and outbox relay", extra={"consumer": consumer.consumer})
    consumer_task = asyncio.create_task(
        consumer.run_after(lambda: health.wait_until_ready(state.probes.readiness, service="orders")),
        name="consumer",
    )
    relay_task = asyncio.create_task(relay.run(), name="relay")
    state.tasks = [consumer_task, relay_task]
    state.probes.liveness.update(
        {
            "consumer": health.task_liveness(lambda: consumer_task),
            "relay": health.task_liveness(lambda: relay_task),
        }
    )
    try:
        async with dashboard_lifespan(app):
            # SIGTERM stops the consumer reading at once; the HTTP drain and its last batch overlap.
            with stop_on_signal(consumer.stop):
                yield
    finally:
        log.info("stopping consumer")
        consumer.stop()
        await asyncio.wait({consumer_task}, timeout=15)
        relay.stop()
        await asyncio.wait({relay_task}, timeout=5)
        for task in state.tasks:
            task.cancel()
        log.info("closing redis and database pool")
        await redis.aclose()
        await pool.close()
        log.info("stopped")


def _probes(request: Request) -> health.Probes:
    return request.app.state.orders.probes  # type: ignore[no-any-return]


async def _http_error(request: Request, exc: Exception) -> Response:
    """API paths answer errors as JSON `{"error": ...}`, like the staff API's own errors."""
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        return Response(
            orjson.dumps({"error": exc.detail}), status_code=exc.status_code,
            media_type="application/json", headers=exc.headers,
        )  # fmt: skip
    return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
