"""The orders service as an ASGI app: lifespan (pool, Redis, consumer, relay) and routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

import orjson
import redis.asyncio as aioredis
from psycopg_pool import AsyncConnectionPool
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
from services.orders.inbound import InboundHandler, customer_key
from services.orders.settings import OrdersSettings
from services.orders.storage.pool import Conn, make_pool, ping
from services.orders.storage.relay import OutboxRelay
from services.orders.storage.stores import StoreCache

log = logging.getLogger("services.orders")


@dataclass
class OrdersState:
    """What the lifespan opened, in the order it opened it."""

    settings: OrdersSettings
    keys: Keys
    pool: AsyncConnectionPool[Conn]
    redis: aioredis.Redis
    stores: StoreCache
    consumer: StreamConsumer
    relay: OutboxRelay
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    probes: health.Probes = field(default_factory=health.Probes)


# Something that runs beside the consumer for the app's whole life (the dashboard): entered with
# the app once `app.state.orders` is set and the consumer and relay run; exited first at shutdown.
Extension = Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]


def create_app(
    settings: OrdersSettings,
    extra_routes: list[BaseRoute] | None = None,
    extensions: Sequence[Extension] = (),
) -> Starlette:
    """Build the orders app. Nothing connects until the lifespan starts."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        keys = Keys(settings.common.key_prefix)
        pool = make_pool(settings)
        log.info("opening database pool")
        await pool.open(wait=False)
        log.info("connecting to redis")
        redis = redis_client(settings.common.redis_url)
        stores = StoreCache(settings.store_code)
        relay = OutboxRelay(pool, redis, keys, slow_s=settings.slow_query_s)
        handler = InboundHandler(
            pool, stores, cart_ttl_s=settings.cart_ttl_s, slow_s=settings.slow_query_s, on_commit=relay.notify
        )
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
        extras = contextlib.AsyncExitStack()
        for extension in extensions:
            await extras.enter_async_context(extension(app))
        try:
            # SIGTERM stops the consumer reading at once; the HTTP drain and its last batch overlap.
            with stop_on_signal(consumer.stop):
                yield
        finally:
            await extras.aclose()
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

    def probes(request: Request) -> health.Probes:
        return request.app.state.orders.probes  # type: ignore[no-any-return]

    async def http_error(request: Request, exc: Exception) -> Response:
        """API paths answer errors as JSON `{"error": ...}`, like the staff API's own errors."""
        assert isinstance(exc, HTTPException)
        if request.url.path.startswith("/api/"):
            return Response(
                orjson.dumps({"error": exc.detail}), status_code=exc.status_code,
                media_type="application/json", headers=exc.headers,
            )  # fmt: skip
        return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)

    routes: list[BaseRoute] = [*health.routes(probes, settings.common.metrics_token), *(extra_routes or [])]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(HttpMetrics)],
        exception_handlers={HTTPException: http_error},
    )
