"""notifier's ASGI app: the outbound stream consumer in the lifespan, plus health routes.

Start-up, in order: Redis client, Twilio client, the consumer task. Shutdown, in reverse:
the consumer stops reading and finishes the entries in hand (at most `shutdown_grace_s`,
after which the task is cancelled and unsent entries stay pending for another replica), then
the clients close. uvicorn owns the signals; SIGTERM ends the lifespan and the process exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request

from libs import health
from libs.connections import redis_client
from libs.messages import NOTIFIER_GROUP, Keys
from libs.server import HttpMetrics, stop_on_signal
from libs.streams import ConsumerConfig, StreamConsumer, consumer_name, lease_key
from services.notifier.batching import ScriptBatcher
from services.notifier.consumer import ReplySender, customer_of
from services.notifier.cursor import CustomerCursor
from services.notifier.pacing import TokenBucket
from services.notifier.send_state import SendStates
from services.notifier.settings import NotifierSettings
from services.notifier.twilio_client import TwilioClient

log = logging.getLogger("services.notifier")


@dataclass
class Runtime:
    """What one notifier process runs: the clients, the sender and its consumer task."""

    settings: NotifierSettings
    redis: aioredis.Redis
    client: TwilioClient
    sender: ReplySender
    consumer: StreamConsumer
    task: asyncio.Task[None] | None = field(default=None)

    @classmethod
    def build(cls, settings: NotifierSettings, *, consumer: str | None = None) -> Runtime:
        """Wire the pieces; nothing connects until `start()`."""
        keys = Keys(settings.common.key_prefix)
        name = consumer or consumer_name("notifier")
        redis = redis_client(settings.common.redis_url)
        client = TwilioClient(
            settings.messages_url,
            settings.account_sid,
            settings.auth_token,
            connect_timeout_s=settings.connect_timeout_s,
            read_timeout_s=settings.read_timeout_s,
            max_connections=settings.consumer_concurrency,
        )
        sender = ReplySender(
            settings,
            client,
            SendStates(
                redis,
                keys,
                ttl_s=settings.send_state_ttl_s,
                cursor_ttl_s=settings.cursor_ttl_s,
                lease_prefix=lease_key(keys.outbound, NOTIFIER_GROUP, ""),
                batcher=ScriptBatcher(redis),
            ),
            CustomerCursor(redis, keys.customer_cursor, ttl_s=settings.cursor_ttl_s),
            TokenBucket(
                redis,
                keys.token_bucket(settings.whatsapp_from),
                rate=settings.send_rate_per_s,
                burst=settings.send_burst,
            ),
            consumer=name,
        )
        stream_consumer = StreamConsumer(
            redis=redis,
            stream=keys.outbound,
            group=NOTIFIER_GROUP,
            consumer=name,
            handler=sender.handle,
            dead_letter_stream=keys.dead_letters(keys.outbound),
            config=ConsumerConfig(
                visibility_timeout_ms=settings.visibility_timeout_ms,
                block_ms=settings.block_ms,
                max_deliveries=settings.max_deliveries,
                concurrency=settings.consumer_concurrency,
            ),
            key_of=customer_of,
            on_dead_letter=sender.on_dead_letter,
        )
        return cls(settings, redis, client, sender, stream_consumer)

    def start(self) -> None:
        """Start the consumer task (call inside the running event loop)."""
        checks = self.probes().readiness
        self.task = asyncio.create_task(
            self.consumer.run_after(lambda: health.wait_until_ready(checks, service="notifier")),
            name="notifier-consumer",
        )

    async def stop(self) -> None:
        """Stop reading, finish what is in hand within the grace period, close the clients."""
        self.consumer.stop()
        self.sender.stop()
        if self.task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self.task), self.settings.shutdown_grace_s)
            except TimeoutError:
                log.warning("consumer did not finish within the grace period; cancelling it")
                self.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self.task
            except Exception:
                log.exception("consumer task had failed")
        await self.client.aclose()
        await self.redis.aclose()

    def probes(self) -> health.Probes:
        """`/ready`: Redis answers PING. `/health`: the consumer task is alive."""

        async def redis_ready() -> str:
            await self.redis.ping()
            return "ok"

        return health.Probes(
            readiness={"redis": redis_ready},
            liveness={"consumer": health.task_liveness(lambda: self.task)},
        )


def create_app(settings: NotifierSettings | None = None) -> Starlette:
    """The notifier app: health and metrics routes, and `lifespan`.

    `settings` default to the environment (raises `SettingsError` when it is incomplete), so
    `uvicorn --factory services.notifier.app:create_app` works. Nothing connects until the
    lifespan starts.
    """
    settings = settings if settings is not None else NotifierSettings.from_env()
    app = Starlette(
        routes=health.routes(_probes, settings.common.metrics_token),
        middleware=[Middleware(HttpMetrics)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Build the `Runtime` for `app.state.settings` and start its consumer; at shutdown stop it
    (see the module docstring for the order)."""
    settings: NotifierSettings = app.state.settings
    # httpx logs every request at INFO; the sender logs each outcome itself.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    runtime = Runtime.build(settings)
    log.info("starting", extra={"consumer": runtime.consumer.consumer})
    app.state.probes = runtime.probes()
    runtime.start()
    log.info("ready to send", extra={"api": settings.api_base_url})
    try:
        # SIGTERM stops reading and cuts waits short at once, while uvicorn drains HTTP.
        with stop_on_signal(runtime.consumer.stop, runtime.sender.stop):
            yield
    finally:
        log.info("stopping")
        await runtime.stop()
        log.info("stopped")


def _probes(request: Request) -> health.Probes:
    probes: health.Probes = request.app.state.probes
    return probes
