"""The ingress ASGI app: webhook paths as raw ASGI, health and metrics through starlette."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import Receive, Scope, Send

from libs import health
from libs.messages import Keys
from libs.server import HttpMetrics
from services.ingress.enqueue import Enqueuer
from services.ingress.pipe import RedisPipe
from services.ingress.settings import IngressSettings
from services.ingress.webhooks import Webhooks

log = logging.getLogger("services.ingress.app")


class IngressApp:
    """Routes the two webhook paths to `webhooks` before starlette's router sees them.

    Attributes for tests and tools: `settings`, `webhooks`, `probes`, `starlette`.
    """

    def __init__(self, settings: IngressSettings) -> None:
        self.settings = settings
        self.webhooks = Webhooks(settings)
        self.probes = health.Probes()
        self.starlette = Starlette(
            routes=health.routes(lambda _request: self.probes, settings.common.metrics_token),
            middleware=[Middleware(HttpMetrics)],
            lifespan=lifespan,
        )
        self.starlette.state.settings = settings
        self.starlette.state.ingress = self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.webhooks.endpoints:
            await self.webhooks(scope, receive, send)
            return
        await self.starlette(scope, receive, send)


def create_app(settings: IngressSettings | None = None) -> IngressApp:
    """The ingress app for `settings` (default: from the environment); connects nothing yet, so
    `uvicorn --factory services.ingress.app:create_app` works.

    Raises `SettingsError` when `settings` is None and the environment is incomplete.
    """
    return IngressApp(settings if settings is not None else IngressSettings.from_env())


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Create the Redis client for `app.state.settings` (it connects on first use, so a Redis
    outage at start-up only makes /ready and the webhooks answer 503 until it returns) and hand
    the enqueuer to the webhooks (`app.state.ingress`); at shutdown take it back and close."""
    settings: IngressSettings = app.state.settings
    ingress: IngressApp = app.state.ingress
    common = settings.common
    log.info("starting: redis connection, enqueuer")
    pipe = RedisPipe(common.redis_url, timeout_s=settings.redis_timeout_s)
    enqueuer = Enqueuer(
        pipe,
        Keys(common.key_prefix),
        dedupe_ttl_s=settings.dedupe_ttl_s,
        customer_limit=settings.customer_limit,
        customer_window_s=settings.customer_window_s,
        bad_signature_window_s=settings.bad_signature_window_s,
    )
    ingress.webhooks.enqueuer = enqueuer
    ingress.probes.readiness["redis"] = enqueuer.ping
    # Logged, bounded attempts while the server already answers (503 until Redis is there).
    startup = asyncio.create_task(health.wait_until_ready(ingress.probes.readiness, service="ingress"))
    log.info("started")
    try:
        yield
    finally:
        startup.cancel()
        log.info("stopping: enqueuer, redis connection")
        ingress.webhooks.enqueuer = None
        ingress.probes.readiness.pop("redis", None)
        await pipe.close()
        log.info("stopped")
