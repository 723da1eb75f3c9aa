"""Running a service: HTTP metrics middleware and the uvicorn start-up every service shares.

`serve()` runs uvicorn on uvloop + httptools with the access log off (it halves throughput),
a graceful-shutdown timeout shorter than Render's 30 s kill, and exits 0 on SIGTERM once the
lifespan has finished (https://www.uvicorn.org/settings/#timeouts).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs import logs, metrics
from libs.errors import SettingsError
from libs.settings import CommonSettings

GRACEFUL_SHUTDOWN_S = 20


class HttpMetrics:
    """Raw ASGI middleware counting requests and timing them by route template and status.

    The route label is the matched route's path template (`/api/v1/orders/{number}`), or
    `unmatched`, so label cardinality stays bounded whatever paths clients send.
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
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or scope.get("route_name") or "unmatched"
            metrics.HTTP_REQUESTS.labels(name, scope["method"], str(status)).inc()
            metrics.HTTP_DURATION.labels(name).observe(time.perf_counter() - started)


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
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


def serve(app: ASGIApp, common: CommonSettings, service: str, **uvicorn_options: Any) -> None:
    """Run `app` with uvicorn on `common.host:common.port` until SIGINT/SIGTERM, then exit 0."""
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
    options.update(uvicorn_options)
    config = uvicorn.Config(app, **options)
    server = _Server(config)
    server.run()
    if not server.started:
        raise SystemExit(3)
