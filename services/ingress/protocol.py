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
    """An `HttpToolsProtocol` subclass enforcing the two limits; pass it as uvicorn's `http`."""

    class LimitedHttpToolsProtocol(HttpToolsProtocol):
        _deadline: asyncio.TimerHandle | None = None
        _in_headers = True
        _received = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._in_headers:
                self._received += len(data)
                if self._received > max_bytes:
                    self._disarm()
                    self.transport.write(_TOO_LARGE)
                    self.transport.close()
                    return
            super().data_received(data)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()

        def on_headers_complete(self) -> None:
            self._in_headers = False
            self._received = 0
            self._disarm()
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._in_headers = True  # what follows is the next request's headers
            super().on_message_complete()

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(header_timeout_s, self._expired)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expired(self) -> None:
            self._deadline = None
            if self._in_headers and not self.transport.is_closing():
                self.transport.close()

    return LimitedHttpToolsProtocol


def uvicorn_options(header_timeout_s: float, max_header_bytes: int, max_body_bytes: int) -> dict[str, Any]:
    """uvicorn options for ingress: the limited protocol (bytes before the headers complete may
    include the start of the body, hence header + body limits)."""
    return {"http": limited_protocol(header_timeout_s, max_header_bytes + max_body_bytes)}
