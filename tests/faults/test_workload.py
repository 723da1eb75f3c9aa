"""The load itself under a slow ingress: its open loop must not collapse when answers stall.

When Redis hangs, ingress answers nothing for seconds while the open loop keeps posting, so
hundreds of webhooks are in flight at once. The load has to come back as soon as ingress
does; otherwise the chaos run waits for replies the load never asked for, and reports a
stall of the mesh that is really one of the load.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from tests.conftest import AUTH_TOKEN
from tests.e2e.harness import ACCOUNT_SID
from tests.faults.workload import Load

RATE = 200.0  # messages a second: a hold of HOLD_S leaves this many times HOLD_S in flight
HOLD_S = 3.0
DRAIN_S = 10.0


class StalledIngress:
    """An HTTP server standing in for ingress and the sandbox: answers every webhook 200 and
    every Messages list `[]`, but while `hold()` is on, keeps each answer until `release()`."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="stalled-ingress", daemon=True)
        self._flowing: asyncio.Event | None = None
        self._server: asyncio.Server | None = None
        self.answered = 0
        self._thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        self.url = f"http://127.0.0.1:{self.port}"

    async def _start(self) -> int:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=4096)
        return int(self._server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                body = b"[]" if head.startswith(b"GET /sandbox/messages") else b""
                if head.startswith(b"POST"):
                    await self._flowing.wait()
                    self.answered += 1
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def hold(self) -> None:
        """Keep every webhook's answer from now on."""
        assert self._flowing is not None
        self._loop.call_soon_threadsafe(self._flowing.clear)

    def release(self) -> None:
        """Answer the kept webhooks, and every later one at once."""
        assert self._flowing is not None
        self._loop.call_soon_threadsafe(self._flowing.set)

    def close(self) -> None:
        """Stop serving and end the thread."""

        async def stop() -> None:
            if self._server is not None:
                self._server.close()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture
def stalled_ingress() -> Iterator[StalledIngress]:
    server = StalledIngress()
    try:
        yield server
    finally:
        server.release()
        server.close()


def test_open_loop_recovers_at_once_after_ingress_stalled(stalled_ingress: StalledIngress) -> None:
    server = stalled_ingress
    load = Load(
        ingress_urls=[server.url],
        public_url=server.url,
        sandbox_url=server.url,
        auth_token=AUTH_TOKEN,
        account_sid=ACCOUNT_SID,
        customers=0,
        rate=RATE,
        seed=1,
    ).start()
    try:
        time.sleep(0.5)
        server.hold()
        time.sleep(HOLD_S)
        server.release()
        released = time.monotonic()
        due = list(load.messages)  # every message posted before the answers came again
        assert len(due) > 300, f"only {len(due)} messages posted"  # more than its connections
        deadline = released + DRAIN_S
        while time.monotonic() < deadline and not all(m.accepted for m in due):
            time.sleep(0.1)
        waiting = sum(not m.accepted for m in due)
        assert not waiting, (
            f"{waiting} of {len(due)} webhooks still unanswered {DRAIN_S:g} s after ingress answered "
            f"again ({server.answered} answered so far)"
        )
    finally:
        load.stop()
        load.join(DRAIN_S + 35)
