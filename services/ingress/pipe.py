"""One auto-pipelined Redis connection for ingress' hot path.

Every concurrent request writes its command to the same connection as soon as it has it; the
writes of one event-loop iteration leave in one `send()`, and replies are matched to callers in
order (Redis answers a connection's commands in order:
https://redis.io/docs/latest/develop/reference/protocol-spec/). Profiling showed an awaited
redis-py command costing about 100 µs of client CPU, most of ingress' budget per webhook;
this costs a few µs, so redis-py stays for everything but the webhook path's round trip.

Failure handling: a refused or timed-out connect fails the callers waiting for it with
`redis.exceptions.ConnectionError`/`TimeoutError`, and the next call connects again (at most
one attempt per `RETRY_AFTER_S`), so the service recovers by itself when Redis returns. A lost
connection fails every caller still waiting. Each call fails with `TimeoutError` once it has
waited `timeout_s` (checked every `WATCH_INTERVAL_S` by one timer per connection, cheaper than
a timer per call); its reply, if it comes, is read and discarded. A connection that stops
answering for twice `timeout_s` while commands are outstanding is dropped.
"""

from __future__ import annotations

import asyncio
import collections
import socket
import ssl
from typing import Any, Final, cast

import hiredis
from redis.asyncio.connection import parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from libs.connections import CONNECT_TIMEOUT_S, READ_TIMEOUT_S

RETRY_AFTER_S: Final = 0.1
WATCH_INTERVAL_S: Final = 0.05

Arg = bytes | str | int


def encode(args: tuple[Arg, ...]) -> bytes:
    """One command as a RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode()
        elif isinstance(arg, int):
            arg = b"%d" % arg
        out.append(b"$%d\r\n" % len(arg))
        out.append(arg)
        out.append(b"\r\n")
    return b"".join(out)


def _error(reply: ResponseError) -> ResponseError:
    message = str(reply)
    if message.startswith("NOSCRIPT"):
        return NoScriptError(message)
    return reply


class _Protocol(asyncio.Protocol):
    """The connection: a FIFO of waiting futures, one per command written."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout_s: float) -> None:
        self._loop = loop
        self._timeout_s = timeout_s
        self._reader = hiredis.Reader(replyError=ResponseError, protocolError=RedisConnectionError)
        # (reply future, deadline), in the order the commands were written.
        self._waiters: collections.deque[tuple[asyncio.Future[Any], float]] = collections.deque()
        self._out: list[bytes] = []
        self._transport: asyncio.Transport | None = None
        self._last_progress = loop.time()
        self._watch_handle: asyncio.TimerHandle | None = None
        self.closed = False
        self.connected: asyncio.Future[None] = loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not registered as asyncio.Transport subclasses.
        self._transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self._watch_handle = self._loop.call_later(WATCH_INTERVAL_S, self._watch)
        if not self.connected.done():
            self.connected.set_result(None)

    def _watch(self) -> None:
        """Fail the calls past their deadline; drop a connection that stopped answering."""
        if self.closed:
            return
        now = self._loop.time()
        if self._waiters and now - self._last_progress > 2 * self._timeout_s:
            self.abort(RedisTimeoutError("Redis stopped answering"))
            return
        for waiter, deadline in self._waiters:
            if deadline > now:
                break
            if not waiter.done():
                waiter.set_exception(RedisTimeoutError(f"no reply from Redis within {self._timeout_s:g}s"))
        self._watch_handle = self._loop.call_later(WATCH_INTERVAL_S, self._watch)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._watch_handle is not None:
            self._watch_handle.cancel()
        error = RedisConnectionError(
            f"connection to Redis lost: {exc!r}" if exc else "connection to Redis closed"
        )
        if not self.connected.done():
            self.connected.set_exception(error)
        while self._waiters:
            waiter, _ = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(error)

    def data_received(self, data: bytes) -> None:
        self._last_progress = self._loop.time()
        self._reader.feed(data)
        try:
            while (reply := self._reader.gets()) is not False:
                if not self._waiters:
                    raise RedisConnectionError("reply without a command")
                waiter, _ = self._waiters.popleft()
                if waiter.done():
                    continue
                if isinstance(reply, ResponseError):
                    waiter.set_exception(_error(reply))
                else:
                    waiter.set_result(reply)
        except RedisConnectionError as exc:
            self.abort(exc)

    def call(self, command: bytes) -> asyncio.Future[Any]:
        """Queue `command` for this iteration's write; returns the future of its reply."""
        if self.closed or self._transport is None:
            raise RedisConnectionError("connection to Redis closed")
        now = self._loop.time()
        if not self._waiters:
            self._last_progress = now
        waiter: asyncio.Future[Any] = self._loop.create_future()
        if not self._out:
            self._loop.call_soon(self._flush)
        self._out.append(command)
        self._waiters.append((waiter, now + self._timeout_s))
        return waiter

    def _flush(self) -> None:
        out, self._out = self._out, []
        if self._transport is not None and not self.closed:
            self._transport.write(b"".join(out))

    def abort(self, exc: Exception) -> None:
        """Drop the connection; waiting callers fail with a connection error."""
        if self._transport is not None and not self.closed:
            self._transport.abort()
        self.connection_lost(exc)


class RedisPipe:
    """An auto-pipelining client on one connection, for `url` (redis://, rediss://, unix://).

    `execute(*args)` returns the reply (bytes, int, list, None) or raises `ResponseError`
    (`NoScriptError` for NOSCRIPT), `ConnectionError` or `TimeoutError` from redis.exceptions,
    the latter after waiting `timeout_s` (connecting included). AUTH and SELECT from the URL
    are sent on connect. Nothing connects until the first call.
    """

    def __init__(self, url: str, *, timeout_s: float = READ_TIMEOUT_S) -> None:
        self._options: dict[str, Any] = dict(parse_url(url))
        self._timeout_s = timeout_s
        self._connect_timeout_s = min(CONNECT_TIMEOUT_S, timeout_s)
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Task[_Protocol] | None = None
        self._retry_at = 0.0
        self._last_error: BaseException | None = None

    async def execute(self, *args: Arg) -> Any:
        """Send one command and wait at most `timeout_s` for its reply."""
        protocol = self._protocol
        if protocol is None or protocol.closed:
            protocol = await self._connect()
        return await protocol.call(encode(args))

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        if self._connecting is None:
            if loop.time() < self._retry_at and self._last_error is not None:
                raise RedisConnectionError(f"Redis unreachable: {self._last_error!r}")
            self._connecting = loop.create_task(self._open())
            self._connecting.add_done_callback(self._connected)
        return await asyncio.shield(self._connecting)

    def _connected(self, task: asyncio.Task[_Protocol]) -> None:
        self._connecting = None
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._last_error = exc
            self._retry_at = asyncio.get_running_loop().time() + RETRY_AFTER_S
        else:
            self._protocol = task.result()

    async def _open(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        options = self._options
        protocol = _Protocol(loop, self._timeout_s)
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                if "path" in options:
                    await loop.create_unix_connection(lambda: protocol, options["path"])
                else:
                    context = None
                    if (
                        options.get("connection_class") is not None
                        and "SSL" in options["connection_class"].__name__
                    ):
                        context = ssl.create_default_context()
                        if str(options.get("ssl_cert_reqs", "")).lower() == "none":
                            context.check_hostname = False
                            context.verify_mode = ssl.CERT_NONE
                    await loop.create_connection(
                        lambda: protocol,
                        options.get("host", "localhost"),
                        int(options.get("port", 6379)),
                        ssl=context,
                    )
                await protocol.connected
                handshake = []
                if options.get("password"):
                    auth: tuple[Arg, ...] = ("AUTH", options["password"])
                    if options.get("username"):
                        auth = ("AUTH", options["username"], options["password"])
                    handshake.append(protocol.call(encode(auth)))
                if int(options.get("db") or 0):
                    handshake.append(protocol.call(encode(("SELECT", int(options["db"])))))
                for reply in handshake:
                    await reply
        except TimeoutError:
            protocol.abort(RedisTimeoutError("connect timed out"))
            raise RedisTimeoutError(
                f"connecting to Redis timed out after {self._connect_timeout_s:g}s"
            ) from None
        except OSError as exc:
            raise RedisConnectionError(f"cannot connect to Redis: {exc}") from None
        except BaseException:
            protocol.abort(RedisConnectionError("handshake failed"))
            raise
        return protocol

    async def close(self) -> None:
        """Close the connection; callers still waiting fail with a connection error."""
        if self._connecting is not None:
            self._connecting.cancel()
        if self._protocol is not None:
            self._protocol.abort(RedisConnectionError("client closed"))
            self._protocol = None
