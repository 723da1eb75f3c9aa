"""Limits on HTTP connections that uvicorn lacks: deadlines for headers and bodies, connection caps.

uvicorn (httptools) closes idle keep-alive connections, but has no timer while a request's
headers or body arrive, buffers headers without bound and accepts every connection: one client
sending a byte now and then, or declaring a body it never sends, holds a connection, its memory
and a file descriptor for as long as it likes, and enough of them shut everyone else out.
`limited_protocol(limits)` is uvicorn's `HttpToolsProtocol` with these limits (pass it as
uvicorn's `http`; `libs.server.serve` does):

What a connection gets, and the reason counted for it (metric label, log summary):

- it opens while `max_connections` are open: closed at once (`connection_limit`);
- it comes from an address holding `max_per_address` connections: closed at once
  (`address_limit`);
- a request's headers are not complete `header_timeout_s` after their first byte (or after the
  connection opened): closed (`header_timeout`); bytes between requests count as a first byte;
- more than `max_header_bytes + max_body_bytes` arrive before the headers end: 431, closed
  (`headers_too_large`);
- the body is not complete `body_timeout_s` after the headers: 408 unless an answer started,
  closed (`body_timeout`); the app's pending read sees a disconnect;
- it declares a body over `max_body_bytes` (or a chunked one, of unknown size): whatever the
  answer (the app's 413), it says `connection: close` and the connection ends after it, so
  no byte sent afterwards keeps it open (not a refusal);
- the app answered before a body within the limit was read to its end (a 415, a 401): the
  rest is read and dropped as it comes, under the same body deadline, and the connection
  stays usable;
- malformed HTTP: uvicorn's 400 and close (`invalid_request`).

A connection ended after an answer lingers first (as nginx's `lingering_close` does): its
sending side is shut (the client reads the answer, then the end), and what the client still
sends is read and dropped for `LINGER_S`, then it is closed. Closing at once with unread
bytes would make the kernel answer with a reset, which can destroy the answer before the
client has read it.

Behind a proxy that sets X-Forwarded-For (`trust_proxy_headers`), every connection comes from
the proxy, so the address cap cannot apply when a connection opens; it applies to requests
instead: a request whose first X-Forwarded-For hop already has `max_per_address` requests in
progress is answered 429 (`address_limit`); the proxy's connection stays usable for others.

A connection over a cap is closed without an answer: answering would mean reading its request,
which is the wait the cap exists to avoid. Refusals are counted in `wa_http_refused_total{reason}`
and logged as one summary line per `SUMMARY_INTERVAL_S` (never one per connection or request),
so a flood cannot fill the logs. One timer sweeps every open connection each `sweep_s` (at most
1 s) rather than a timer per request: a request only records its deadline.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import resource
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from libs import metrics
from libs.settings import env_float, env_int

log = logging.getLogger("libs.connection_limits")

SUMMARY_INTERVAL_S: Final = 10.0
LINGER_S: Final = 1.0
# File descriptors kept for everything but client connections: PostgreSQL and Redis pools,
# log files, the listening socket.
RESERVED_FILES: Final = 256
REASONS: Final = (
    "connection_limit",
    "address_limit",
    "header_timeout",
    "headers_too_large",
    "body_timeout",
    "invalid_request",
)
# uvicorn's per-request warnings for refusals it makes itself; counted, not logged one by one.
_UVICORN_REFUSALS: Final = {
    "Invalid HTTP request received.": "invalid_request",
    "Exceeded concurrency limit.": "connection_limit",
}


def _canned(status: bytes, text: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(text)).encode() + b"\r\nconnection: close\r\n\r\n" + text
    )


_TOO_LARGE: Final = _canned(b"431 Request Header Fields Too Large", b"headers too large\n")
_TOO_SLOW: Final = _canned(b"408 Request Timeout", b"body not received in time\n")
_ADDRESS_BUSY: Final = b"too many requests in progress from this address\n"


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """The limits of one HTTP server. Times in seconds, sizes in bytes.

    `max_per_address` is how many connections one client address may hold (with
    `trust_proxy_headers`: requests in progress per first X-Forwarded-For hop); it is at most
    `max_connections`, by default an eighth of it.
    """

    header_timeout_s: float = 10.0
    body_timeout_s: float = 10.0
    max_header_bytes: int = 16 * 1024
    max_body_bytes: int = 64 * 1024
    max_connections: int = 2048
    max_per_address: int = 256
    trust_proxy_headers: bool = False

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str], *, max_body_bytes: int, trust_proxy_headers: bool
    ) -> ConnectionLimits:
        """Read HEADER_TIMEOUT_SECONDS, BODY_TIMEOUT_SECONDS, MAX_HEADER_BYTES, MAX_CONNECTIONS
        and MAX_CONNECTIONS_PER_ADDRESS; the body limit and proxy trust are the service's.

        Raises `libs.errors.SettingsError` naming the first bad variable.
        """
        max_connections = env_int(environ, "MAX_CONNECTIONS", 2048, minimum=1, maximum=1_000_000)
        per_address = env_int(
            environ,
            "MAX_CONNECTIONS_PER_ADDRESS",
            max(1, max_connections // 8),
            minimum=1,
            maximum=max_connections,
        )
        return cls(
            header_timeout_s=env_float(environ, "HEADER_TIMEOUT_SECONDS", 10.0, minimum=0.1, maximum=3600),
            body_timeout_s=env_float(environ, "BODY_TIMEOUT_SECONDS", 10.0, minimum=0.1, maximum=3600),
            max_header_bytes=env_int(environ, "MAX_HEADER_BYTES", 16 * 1024, minimum=1024),
            max_body_bytes=max_body_bytes,
            max_connections=max_connections,
            max_per_address=per_address,
            trust_proxy_headers=trust_proxy_headers,
        )

    @property
    def sweep_s(self) -> float:
        """How often deadlines are checked: a quarter of the shortest, at most 1 s."""
        return min(1.0, self.header_timeout_s / 4, self.body_timeout_s / 4)


def fit_file_limit(max_connections: int) -> int:
    """Raise this process' open-file limit (RLIMIT_NOFILE) to fit `max_connections` clients
    plus `RESERVED_FILES`, as far as the hard limit allows; returns how many connections fit.

    Past the file limit, accept() fails for everyone and PostgreSQL/Redis connections with it
    (EMFILE), so the connection cap must stay under it.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max_connections + RESERVED_FILES
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
            soft = ceiling
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return max_connections
    return max(1, min(max_connections, soft - RESERVED_FILES))


class Refusals:
    """Refused connections and requests by reason: counted in `wa_http_refused_total` at once,
    logged as one warning line per `interval_s` with the counts since the last line."""

    def __init__(self, interval_s: float = SUMMARY_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self.pending: collections.Counter[str] = collections.Counter()
        self._since: float | None = None
        self._logged_at = -math.inf
        self._counters = {reason: metrics.HTTP_REFUSED.labels(reason) for reason in REASONS}

    def add(self, reason: str, now: float) -> None:
        """Count one refusal for `reason` (one of `REASONS`) at loop time `now`."""
        self._counters[reason].inc()
        if self._since is None:
            self._since = now
        self.pending[reason] += 1

    def flush(self, now: float) -> None:
        """Log the pending counts if there are any and the last line is `interval_s` old."""
        if not self.pending or now - self._logged_at < self.interval_s:
            return
        since = self._since if self._since is not None else now
        total = sum(self.pending.values())
        log.warning(
            "refused %d HTTP connections or requests in the last %.0f s",
            total,
            max(1.0, now - since),
            extra={"refused": dict(self.pending)},
        )
        self.pending.clear()
        self._since = None
        self._logged_at = now


class UvicornRefusalFilter(logging.Filter):
    """Turns uvicorn's per-request refusal warnings into `Refusals` counts (installed on the
    `uvicorn.error` logger); every other record passes."""

    def __init__(self, refusals: Refusals, loop_time: Any) -> None:
        super().__init__()
        self.refusals = refusals
        self.loop_time = loop_time

    def filter(self, record: logging.LogRecord) -> bool:
        """False (dropped, counted) for a refusal warning; True otherwise."""
        reason = _UVICORN_REFUSALS.get(record.msg) if isinstance(record.msg, str) else None
        if reason is None:
            return True
        self.refusals.add(reason, self.loop_time())
        return False


def _client(forwarded: bytes | None, peer: tuple[str, int] | None) -> str:
    """The first X-Forwarded-For hop (the client as the proxy saw it), else the peer."""
    if forwarded is not None:
        return forwarded.split(b",", 1)[0].strip()[:64].decode("latin-1")
    return peer[0] if peer else ""


class _Lingering:
    """The transport as one request's cycle sees it when the connection ends after the answer:
    writes go through, and uvicorn's close() lingers (`end_after_answer`) rather than resetting
    a client that is still sending the body."""

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self._transport: asyncio.Transport = protocol.transport

    def write(self, data: bytes) -> None:
        """Send `data` (the answer)."""
        self._transport.write(data)

    def is_closing(self) -> bool:
        """True once the connection is ending."""
        return self._transport.is_closing() or bool(self._protocol.lingering)

    def close(self) -> None:
        """End the connection after the answer, lingering."""
        self._protocol.end_after_answer()


class _Coalescing:
    """The transport as one request's cycle sees it: the writes of one event-loop turn go out
    as one `write`. uvicorn writes an answer's head and its body separately, and uvloop sends
    each at once: two system calls per answer, a fifth of ingress' CPU at saturation; joined,
    one. Bytes keep their order; `close()` sends what is held first."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []

    def write(self, data: bytes) -> None:
        """Hold `data` until the end of this loop turn."""
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(data)

    def flush(self) -> None:
        """Send what is held now (before anything closes the connection under the cycle)."""
        held, self._held = self._held, []
        if held and not self._transport.is_closing():
            self._transport.write(b"".join(held))

    def is_closing(self) -> bool:
        """True once the connection is ending."""
        return self._transport.is_closing()

    def close(self) -> None:
        """Send what is held, then close."""
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


async def _address_busy(scope: Scope, receive: Receive, send: Send) -> None:
    """The answer to a request over the per-address cap behind a proxy: 429. The connection
    is the proxy's, shared by clients: it stays open unless the body is left unread."""
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(_ADDRESS_BUSY)).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": _ADDRESS_BUSY})


class _Connections:
    """What every connection of one server shares: the open ones, counts per address, the
    sweep timer and the refusals."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.live: set[Any] = set()
        self.per_address: collections.Counter[str] = collections.Counter()
        self.sweeper: asyncio.TimerHandle | None = None
        self.refusals = Refusals()
        self.loop: asyncio.AbstractEventLoop | None = None

    def time(self) -> float:
        """The event loop's clock (monotonic), or 0 before the first connection."""
        return self.loop.time() if self.loop is not None else 0.0

    def claim(self, connection: Any, address: str) -> bool:
        """Count `connection` against `address`; False (nothing counted) when it is full."""
        if connection.address == address:
            return True
        self.release(connection)
        if self.per_address[address] >= self.limits.max_per_address:
            return False
        self.per_address[address] += 1
        connection.address = address
        return True

    def release(self, connection: Any) -> None:
        """Stop counting `connection` against its address."""
        address = connection.address
        if address is None:
            return
        connection.address = None
        self.per_address[address] -= 1
        if self.per_address[address] <= 0:
            del self.per_address[address]

    def start_sweeping(self, loop: asyncio.AbstractEventLoop) -> None:
        """Make sure the sweep timer runs."""
        self.loop = loop
        if self.sweeper is None:
            self.sweeper = loop.call_later(self.limits.sweep_s, self.sweep)

    def sweep(self) -> None:
        """Expire every connection past its deadline, log the refusals due, and re-arm while
        there are connections or refusals left to log."""
        assert self.loop is not None
        now = self.loop.time()
        for connection in list(self.live):
            deadline = connection.deadline
            if deadline is not None and now > deadline:
                connection.expire()
        self.refusals.flush(now)
        if self.live or self.refusals.pending:
            self.sweeper = self.loop.call_later(self.limits.sweep_s, self.sweep)
        else:
            self.sweeper = None


# Phases of a connection's current request, and what bounds each.
_HEADERS: Final = 0  # header_timeout_s, from the first byte (or the connection opening)
_BODY: Final = 1  # body_timeout_s, from the end of the headers
_ANSWER: Final = 2  # the request is read: the app answers; idle time after is keep-alive's


def limited_protocol(limits: ConnectionLimits) -> type[HttpToolsProtocol]:
    """An `HttpToolsProtocol` subclass enforcing `limits`; pass it as uvicorn's `http` option.

    Installs a filter on the `uvicorn.error` logger that counts uvicorn's own per-request
    refusal warnings ("Invalid HTTP request received.") instead of logging each.
    """
    shared = _Connections(limits)
    uvicorn_log = logging.getLogger("uvicorn.error")
    for old in [f for f in uvicorn_log.filters if isinstance(f, UvicornRefusalFilter)]:
        uvicorn_log.removeFilter(old)
    uvicorn_log.addFilter(UvicornRefusalFilter(shared.refusals, shared.time))
    # Counted from the end of the previous headers: may include that request's body.
    max_head_bytes = limits.max_header_bytes + limits.max_body_bytes

    class LimitedHttpToolsProtocol(HttpToolsProtocol):
        deadline: float | None = None
        phase = _HEADERS
        received = 0
        address: str | None = None
        lingering = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            now = self.loop.time()
            self.deadline = now + limits.header_timeout_s
            shared.live.add(self)
            shared.start_sweeping(self.loop)
            if len(shared.live) > limits.max_connections:
                self._refuse("connection_limit")
            elif not limits.trust_proxy_headers and self.client and not shared.claim(self, self.client[0]):
                self._refuse("address_limit")

        def connection_lost(self, exc: Exception | None) -> None:
            shared.live.discard(self)
            shared.release(self)
            self.deadline = None
            super().connection_lost(exc)

        def _refuse(self, reason: str, answer: bytes = b"") -> None:
            shared.refusals.add(reason, self.loop.time())
            self.deadline = None
            if answer:
                self.transport.write(answer)
                self._linger()
            else:
                self.transport.close()

        def _linger(self) -> None:
            """End the connection after what was written: shut its sending side, drop what
            still arrives, close after `LINGER_S` (or when the client closes first)."""
            self.lingering = True
            self.deadline = self.loop.time() + LINGER_S
            if self.transport.can_write_eof():
                self.transport.write_eof()
            self.transport.resume_reading()  # flow control may have paused it: keep draining

        def data_received(self, data: bytes) -> None:
            if self.lingering:
                return  # nothing more of this connection is wanted
            if self.phase != _BODY:
                if self.deadline is None:  # the first byte of the next request
                    self.deadline = self.loop.time() + limits.header_timeout_s
                self.received += len(data)
            super().data_received(data)
            # Checked once the parser has seen the bytes: one read may hold whole headers and a
            # large body, which is the app's to refuse (413), not a header overflow.
            if self.phase == _HEADERS and self.received > max_head_bytes and not self.transport.is_closing():
                self._refuse("headers_too_large", _TOO_LARGE)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.phase = _HEADERS
            if self.deadline is None:
                self.deadline = self.loop.time() + limits.header_timeout_s

        def on_headers_complete(self) -> None:
            self.phase = _BODY
            self.received = 0
            self.deadline = self.loop.time() + limits.body_timeout_s
            oversized = False
            forwarded: bytes | None = None
            for name, value in self.headers:
                if name == b"content-length":
                    oversized = not value.isdigit() or int(value) > limits.max_body_bytes
                elif name == b"transfer-encoding":
                    oversized = True  # chunked: its size is unknown until it ends
                elif name == b"x-forwarded-for" and forwarded is None:
                    forwarded = value
            if limits.trust_proxy_headers and not shared.claim(self, _client(forwarded, self.client)):
                shared.refusals.add("address_limit", self.loop.time())
                app, self.app = self.app, _address_busy
                try:
                    super().on_headers_complete()
                finally:
                    self.app = app
            else:
                super().on_headers_complete()
            if self.cycle is not None:
                self.cycle.transport = _Coalescing(self.transport, self.loop)  # type: ignore[assignment]
            if oversized and self.cycle is not None:
                # The answer will come before most of the body (the app's 413): it says
                # `connection: close`, and uvicorn's close after it lingers instead.
                self.cycle.keep_alive = False
                self.cycle.transport = _Lingering(self)  # type: ignore[assignment]

        def on_message_complete(self) -> None:
            self.phase = _ANSWER
            self.deadline = None
            super().on_message_complete()

        def end_after_answer(self) -> None:
            """What uvicorn's close after a `connection: close` answer does here: linger."""
            if not self.lingering:
                self._linger()

        def shutdown(self) -> None:
            # uvicorn closes the connection itself when the answer is complete: send what
            # the cycle's transport holds for this loop turn first.
            cycle = self.cycle
            if cycle is not None and isinstance(cycle.transport, _Coalescing):
                cycle.transport.flush()
            super().shutdown()

        def on_response_complete(self) -> None:
            if limits.trust_proxy_headers:
                shared.release(self)
            super().on_response_complete()

        def expire(self) -> None:
            """The current phase is past its deadline: 408 for a body, then close."""
            if self.lingering:
                self.transport.close()
                return
            if self.phase != _BODY:
                self._refuse("header_timeout")
                return
            cycle = self.cycle
            if cycle is not None and not cycle.response_started and not self.pipeline:
                # The app's next receive() sees a disconnect and its sends are dropped.
                cycle.disconnected = True
                cycle.message_event.set()
                self._refuse("body_timeout", _TOO_SLOW)
            else:
                self._refuse("body_timeout")

    return LimitedHttpToolsProtocol


def uvicorn_options(limits: ConnectionLimits) -> dict[str, Any]:
    """uvicorn options enforcing `limits`: the limited protocol, with the connection cap
    lowered to what the open-file limit allows (raised first as far as it can be)."""
    fitted = fit_file_limit(limits.max_connections)
    if fitted < limits.max_connections:
        log.warning(
            "the open-file limit allows %d connections, not MAX_CONNECTIONS=%d",
            fitted,
            limits.max_connections,
        )
        limits = replace(limits, max_connections=fitted, max_per_address=min(limits.max_per_address, fitted))
    return {"http": limited_protocol(limits)}
