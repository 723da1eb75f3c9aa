"""uvicorn's httptools protocol with two limits it lacks: a header deadline and a header size.

uvicorn closes idle keep-alive connections, but has no timer while a request's headers
arrive, and httptools buffers headers without bound: a client sending one header byte a
second, or megabytes of headers, holds a connection and memory for as long as it likes
(slowloris). With this protocol a request's headers must be complete within
`header_timeout_s` of its first byte (or of the connection opening), else the connection is
closed; and more than `max_bytes` received before the headers completed gets a 431 and a
close. Body reads are bounded by the app itself (services.ingress.limits.read_body).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\ncontent-length: 18\r\nconnection: close\r\n\r\n"
    b"headers too large\n"
)


def limited_protocol(header_timeout_s: float, max_bytes: int) -> type[HttpToolsProtocol]:
    """An `HttpToolsProtocol` subclass enforcing the two limits; pass it as uvicorn's `http`.

    One timer sweeps every open connection each `header_timeout_s / 4` (at most 1 s) rather
    than a timer per request: a request then only records when its headers began.
    """
    interval = min(1.0, header_timeout_s / 4)

    class LimitedHttpToolsProtocol(HttpToolsProtocol):
        _live: set[LimitedHttpToolsProtocol] = set()
        _sweeper: asyncio.TimerHandle | None = None
        _headers_since: float | None = None
        _in_headers = True
        _received = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._headers_since = self.loop.time()
            cls = type(self)
            cls._live.add(self)
            if cls._sweeper is None:
                cls._sweeper = self.loop.call_later(interval, cls._sweep, self.loop)

        def connection_lost(self, exc: Exception | None) -> None:
            type(self)._live.discard(self)
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._in_headers:
                self._received += len(data)
                if self._received > max_bytes:
                    self.transport.write(_TOO_LARGE)
                    self.transport.close()
                    return
            super().data_received(data)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._headers_since = self.loop.time()

        def on_headers_complete(self) -> None:
            self._in_headers = False
            self._received = 0
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            # What follows is the next request; idle time until it begins is uvicorn's
            # keep-alive timeout's to bound.
            self._in_headers = True
            self._headers_since = None
            super().on_message_complete()

        @classmethod
        def _sweep(cls, loop: asyncio.AbstractEventLoop) -> None:
            now = loop.time()
            for connection in list(cls._live):
                since = connection._headers_since
                if connection._in_headers and since is not None and now - since > header_timeout_s:
                    connection._headers_since = None
                    connection.transport.close()
            cls._sweeper = loop.call_later(interval, cls._sweep, loop) if cls._live else None

    return LimitedHttpToolsProtocol


def uvicorn_options(header_timeout_s: float, max_header_bytes: int, max_body_bytes: int) -> dict[str, Any]:
    """uvicorn options for ingress: the limited protocol (bytes before the headers complete may
    include the start of the body, hence header + body limits)."""
    return {"http": limited_protocol(header_timeout_s, max_header_bytes + max_body_bytes)}
