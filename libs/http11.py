"""A small HTTP/1.1 client for one origin: keep-alive connections, one request each at a time.

Made for the hot calls of the mesh (the notifier's one `POST .../Messages.json` per reply, the
sandbox's status callbacks), where httpx's layers (client, transport, httpcore pool, anyio
streams, h11) cost more CPU than the request itself. Responses are parsed by httptools (the
parser uvicorn uses). Nothing is retried here, ever: the caller decides from what failed.

`Origin.request()` returns a `Response` or raises one of:

    ConnectFailed   no connection could be made within the connect timeout, or none was free
                    within the pool timeout: no byte of the request left this process.
    RequestFailed   anything once the request may have been written (write or read timeout,
                    reset, the peer closing before a whole answer, an unparsable answer): the
                    peer may have processed it.

Timeouts (seconds) mean what httpx's do (https://www.python-httpx.org/advanced/timeouts/):
`connect` for establishing a connection (TLS included), `write` for the request's bytes to be
taken by the socket, `read` for each wait on the answer's bytes, `pool` for a free connection.
An idle connection the peer has closed is noticed before reuse (its protocol saw the close),
and is never written to.

HTTP/1.1: https://www.rfc-editor.org/rfc/rfc9112 (persistent connections: section 9.3).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, cast
from urllib.parse import urlsplit

import httptools

_CRLF: Final = b"\r\n"


class HttpError(Exception):
    """Base of this module's errors."""


class ConnectFailed(HttpError):
    """No connection (connect error or timeout, or none free in time): nothing was sent."""


class RequestFailed(HttpError):
    """The request may have reached the peer, and no whole answer was read."""


@dataclass(frozen=True, slots=True)
class Response:
    """A whole answer: status, reason phrase, headers (names lower-cased; the last of repeated
    names wins) and the body (de-chunked)."""

    status: int
    reason: str
    headers: dict[str, str]
    content: bytes

    @property
    def is_success(self) -> bool:
        """2xx."""
        return 200 <= self.status < 300


class _Connection(asyncio.Protocol):
    """One keep-alive connection, parsing answers as their bytes arrive."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[Response] | None = None
        self._status = 0
        self._reason = ""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._can_write = asyncio.Event()
        self._can_write.set()
        self._timer: asyncio.TimerHandle | None = None
        self._read_s = 0.0

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        # An answer framed by the close itself (no Content-Length, not chunked) ends up here as
        # a failure too; the peers this serves (Twilio, uvicorn) always frame their answers.
        self.closed = True
        self._can_write.set()
        self._fail(RequestFailed(f"connection closed before a whole answer: {exc or 'EOF'}"))

    def eof_received(self) -> bool | None:
        self.closed = True
        return None  # close the transport

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:
            # Bytes nobody asked for: the connection is out of step; never reuse it.
            self.close()
            return
        self._rearm()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(RequestFailed(f"unparsable answer: {exc}"))
            self.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._headers = {}
        self._body = []

    def on_status(self, status: bytes) -> None:
        self._reason = status.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        response = Response(self._parser.get_status_code(), self._reason, self._headers, b"".join(self._body))
        if not self._parser.should_keep_alive():
            self.close()
        waiter, self._waiter = self._waiter, None
        self._disarm()
        if waiter is not None and not waiter.done():
            waiter.set_result(response)

    # the request
    def _rearm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = asyncio.get_running_loop().call_later(self._read_s, self._timed_out)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _timed_out(self) -> None:
        self._timer = None
        self._fail(RequestFailed(f"read timeout ({self._read_s:g} s)"))
        self.close()

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        self._disarm()
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def close(self) -> None:
        """Close the connection (it is not reused)."""
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def exchange(self, request: bytes, *, write_s: float, read_s: float) -> Response:
        """Write `request` and read its answer; raises `RequestFailed`."""
        assert self.transport is not None and self._waiter is None
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Response] = loop.create_future()
        self._waiter = waiter
        self._read_s = read_s
        self.transport.write(request)
        if not self._can_write.is_set():
            # The socket did not take it all at once: the write timeout applies to the rest.
            try:
                async with asyncio.timeout(write_s):
                    await self._can_write.wait()
            except TimeoutError:
                self._fail(RequestFailed(f"write timeout ({write_s:g} s)"))
                self.close()
        if self.closed and not waiter.done():
            self._fail(RequestFailed("connection closed while writing"))
        if not waiter.done():
            self._timer = loop.call_later(read_s, self._timed_out)
        return await waiter


class Origin:
    """Keep-alive connections to one `scheme://host:port` (http or https), at most
    `max_connections` at a time. Close it with `aclose()`."""

    def __init__(
        self,
        url: str,
        *,
        connect_s: float,
        read_s: float,
        write_s: float,
        pool_s: float,
        max_connections: int,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """`url` is any URL of the origin; `headers` are sent with every request."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl: ssl.SSLContext | None = ssl.create_default_context() if parts.scheme == "https" else None
        default_port = self.port == (443 if parts.scheme == "https" else 80)
        host_header = self.host if default_port else f"{self.host}:{self.port}"
        fixed = {"Host": host_header, **(headers or {})}
        self._fixed = b"".join(f"{k}: {v}\r\n".encode("latin-1") for k, v in fixed.items())
        self.connect_s, self.read_s, self.write_s, self.pool_s = connect_s, read_s, write_s, pool_s
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_s):
                _, connection = await loop.create_connection(_Connection, self.host, self.port, ssl=self._ssl)
        except TimeoutError as exc:
            raise ConnectFailed(f"connect timeout ({self.connect_s:g} s)") from exc
        except (OSError, ssl.SSLError) as exc:
            raise ConnectFailed(f"{type(exc).__name__}: {exc}") from exc
        return connection

    async def request(
        self, method: str, target: str, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> Response:
        """Send one request (`target`: path and query) and read its whole answer.

        Raises `ConnectFailed` (nothing sent) or `RequestFailed` (may have been processed).
        """
        head = [f"{method} {target} HTTP/1.1\r\n".encode("latin-1"), self._fixed]
        if headers:
            head.append(b"".join(f"{k}: {v}\r\n".encode("latin-1") for k, v in headers.items()))
        if body or method in ("POST", "PUT", "PATCH"):
            head.append(b"Content-Length: %d\r\n" % len(body))
        head.append(_CRLF)
        data = b"".join(head) + body
        if self._slots.locked():
            try:
                async with asyncio.timeout(self.pool_s):
                    await self._slots.acquire()
            except TimeoutError as exc:
                raise ConnectFailed(f"no free connection within {self.pool_s:g} s") from exc
        else:
            await self._slots.acquire()
        connection: _Connection | None = None
        try:
            while self._idle:
                candidate = self._idle.pop()
                if not candidate.closed:
                    connection = candidate
                    break
                self._open.discard(candidate)
            if connection is None:
                connection = await self._connect()
                self._open.add(connection)
            try:
                response = await connection.exchange(data, write_s=self.write_s, read_s=self.read_s)
            except BaseException:
                connection.close()  # out of step, or cancelled mid-answer: never reused
                raise
            if connection.closed:
                self._open.discard(connection)
            else:
                self._idle.append(connection)
            return response
        except BaseException:
            if connection is not None:
                self._open.discard(connection)
            raise
        finally:
            self._slots.release()

    async def aclose(self) -> None:
        """Close every connection."""
        for connection in list(self._open):
            connection.close()
        self._open.clear()
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports finish closing
