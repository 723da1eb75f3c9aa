"""A TCP proxy that breaks connections on demand, put between the services and Redis or PostgreSQL.

`FaultProxy` forwards every connection it accepts to `target` and can, at any moment:

| call               | what the client sees                                                   |
|--------------------|------------------------------------------------------------------------|
| `cut()`            | every open connection closed at once (a restart, a network reset)       |
| `down()` / `up()`  | open connections closed and new ones refused (the server is down)       |
| `hold()`/`release()` | bytes stop flowing both ways and wait, then flow again (a hung server, |
|                    | a partition that heals): nothing fails until the client's own timeout   |

`ProxyThread` runs one in a background event loop with a blocking interface, for tests and
scripts that are not async themselves (the mesh tests, the chaos run).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
CHUNK = 65536


class FaultProxy:
    """Forward 127.0.0.1:`port` to `target`; see the module docstring for the faults."""

    def __init__(self, target: tuple[str, int], port: int = 0) -> None:
        self.target = target
        self.port = port
        self._server: asyncio.Server | None = None
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self.accepted = 0

    async def start(self) -> None:
        """Listen (on a free port the first time when `port` is 0)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        await self.down()

    async def cut(self) -> int:
        """Close every open connection (both sides, without flushing); returns how many."""
        pairs, self._pairs = list(self._pairs), set()
        for client, upstream in pairs:
            for writer in (client, upstream):
                writer.transport.abort()
        return len(pairs)

    async def down(self) -> None:
        """Refuse new connections and cut the open ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        await self.cut()

    async def up(self) -> None:
        """Accept connections again on the same port."""
        if self._server is None:
            await self.start()

    def hold(self) -> None:
        """Stop moving bytes in both directions; connections stay open and silent."""
        self._flowing.clear()

    def release(self) -> None:
        """Move the held bytes on and keep forwarding."""
        self._flowing.set()

    @property
    def open_connections(self) -> int:
        """Connections forwarded right now."""
        return len(self._pairs)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        pair = (writer, up_writer)
        self._pairs.add(pair)
        try:
            await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        except asyncio.CancelledError:
            pass  # the loop is shutting down; the connection goes with it
        finally:
            self._pairs.discard(pair)
            for w in pair:
                w.transport.abort()

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await src.read(CHUNK):
                await self._flowing.wait()
                dst.write(data)
                await dst.drain()
        # One side finished: end the other too, as a real connection would.
        dst.transport.abort()


class ProxyThread:
    """A `FaultProxy` on its own event loop thread, driven by blocking calls; a context manager."""

    def __init__(self, target: tuple[str, int], port: int = 0) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        self.proxy = self._call(self._make(target, port))
        self._call(self.proxy.start())

    @staticmethod
    async def _make(target: tuple[str, int], port: int) -> FaultProxy:
        return FaultProxy(target, port)  # built on the loop: its Event binds there

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    @property
    def port(self) -> int:
        """The port clients connect to."""
        return self.proxy.port

    def cut(self) -> int:
        """Close every open connection; returns how many were open."""
        return self._call(self.proxy.cut())

    def down(self) -> None:
        """Refuse new connections and cut the open ones."""
        self._call(self.proxy.down())

    def up(self) -> None:
        """Accept connections again."""
        self._call(self.proxy.up())

    def hold(self) -> None:
        """Stop moving bytes; connections stay open."""
        self._loop.call_soon_threadsafe(self.proxy.hold)

    def release(self) -> None:
        """Move bytes again."""
        self._loop.call_soon_threadsafe(self.proxy.release)

    def close(self) -> None:
        """Stop the proxy and its thread."""
        with contextlib.suppress(Exception):
            self._call(self.proxy.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> ProxyThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
