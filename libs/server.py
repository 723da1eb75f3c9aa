"""Running a service: HTTP metrics middleware and the uvicorn start-up every service shares.

`serve()` runs uvicorn on uvloop + httptools with the access log off (it halves throughput),
a graceful-shutdown timeout shorter than Render's 30 s kill, and exits 0 on SIGTERM once the
lifespan has finished (https://www.uvicorn.org/settings/#timeouts).

Shutdown budget (Render sends SIGTERM and kills 30 s later unless `maxShutdownDelaySeconds`
says otherwise, https://render.com/docs/deploys#zero-downtime-deploys): uvicorn drains HTTP for
at most `GRACEFUL_SHUTDOWN_S`, then the lifespan finishes the stream work in hand within its
own bound (orders 15 s consumer + 5 s relay, notifier `SHUTDOWN_GRACE_SECONDS` <= 20 s), so
the worst case stays under 30 s. Consumers must stop *reading* at the signal, not only once
the HTTP drain is over: `stop_on_signal()` runs their `stop()` as soon as SIGTERM arrives, so
the drain and the consumers' last batch overlap instead of adding up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs import logs, metrics
from libs.connection_limits import ConnectionLimits
from libs.connection_limits import uvicorn_options as limited_options
from libs.errors import SettingsError
from libs.settings import CommonSettings

log = logging.getLogger("libs.server")

# Seconds uvicorn waits for open HTTP requests after SIGTERM (webhooks take milliseconds; a
# long-lived dashboard stream is cut after this).
GRACEFUL_SHUTDOWN_S = 8

_SIGNAL_HOOKS: list[Callable[[], None]] = []


@contextlib.contextmanager
def stop_on_signal(*callbacks: Callable[[], None]) -> Iterator[None]:
    """While inside, run `callbacks` on the event loop as soon as SIGTERM/SIGINT arrives.

    For a lifespan: `with stop_on_signal(consumer.stop): yield`. Without a signal (tests, the
    lifespan ending for another reason) nothing runs; the lifespan stops its tasks itself.
    """
    _SIGNAL_HOOKS.extend(callbacks)
    try:
        yield
    finally:
        for callback in callbacks:
            _SIGNAL_HOOKS.remove(callback)


# Status recorded for a request whose client went away before it was read (nginx's convention).
CLIENT_CLOSED = 499


class HttpMetrics:
    """Raw ASGI middleware counting requests and timing them by route template and status.

    The route label is the matched route's path template (`/api/v1/orders/{number}`), or
    `unmatched`, so label cardinality stays bounded whatever paths clients send.

    A client that disconnects while its body is read (starlette's `ClientDisconnect`, also
    what a body past its deadline looks like to the app) is no error of ours: the request is
    counted with status 499 and logged at DEBUG, with no traceback and no answer (there is no
    one left to answer).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except ClientDisconnect:
            status = CLIENT_CLOSED
            log.debug("client disconnected before its request was read", extra={"path": scope["path"]})
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or scope.get("route_name") or "unmatched"
            metrics.HTTP_REQUESTS.labels(name, scope["method"], str(status)).inc()
            metrics.HTTP_DURATION.labels(name, str(status)).observe(time.perf_counter() - started)


def load_settings(factory: Callable[[], Any]) -> Any:
    """Call `factory()`; on `SettingsError`, print one readable line and exit with status 2."""
    try:
        return factory()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


class _Server(uvicorn.Server):
    """uvicorn's server, minus re-raising SIGTERM/SIGINT after a clean shutdown.

    uvicorn re-raises the captured signal once it has drained, so the process would die
    "by signal 15"; a service that finished its work exits 0 instead, as the platform expects.
    """

    def handle_exit(self, sig: int, frame: Any) -> None:
        first = not self.should_exit
        super().handle_exit(sig, frame)
        self._captured_signals.clear()
        if first:
            _run_signal_hooks()


def _run_signal_hooks() -> None:
    """Schedule the registered hooks; called from the signal handler, hence call_soon_threadsafe
    (the handler may interrupt the loop anywhere; the self-pipe wake-up is the safe way in)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    for callback in list(_SIGNAL_HOOKS):
        loop.call_soon_threadsafe(callback)


def serve(
    app: ASGIApp,
    common: CommonSettings,
    service: str,
    limits: ConnectionLimits | None = None,
    **uvicorn_options: Any,
) -> None:
    """Run `app` with uvicorn on `common.host:common.port` until SIGINT/SIGTERM, then exit 0.

    With `limits`, connections are bounded as `libs.connection_limits` describes (every
    public-facing service passes them); without, uvicorn's own behaviour applies.
    """
    logs.configure(service, common.log_level)
    options: dict[str, Any] = {
        "host": common.host,
        "port": common.port,
        "loop": "uvloop",
        "http": "httptools",
        "lifespan": "on",
        "access_log": False,
        "log_config": None,
        "server_header": False,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_S,
        "timeout_keep_alive": 75,  # longer than the proxy's idle timeout, per Render's advice
        "proxy_headers": False,
    }
    if limits is not None:
        options.update(limited_options(limits))
    options.update(uvicorn_options)
    config = uvicorn.Config(app, **options)
    server = _Server(config)
    server.run()
    if not server.started:
        raise SystemExit(3)
