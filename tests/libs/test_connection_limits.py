"""libs.connection_limits under a real uvicorn server: caps per address (also behind a proxy) and
in total, refusals summarised, the open-file limit, the settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from libs.connection_limits import ConnectionLimits, Refusals, _Coalescing, limited_protocol
from libs.errors import SettingsError
from tests.conftest import ROOT, free_port


async def _echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body, answers 200 with its length."""
    assert scope["type"] == "http"
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = str(size).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]}
    )
    await send({"type": "http.response.body", "body": body})


_OPENED: list[asyncio.StreamWriter] = []


@contextlib.asynccontextmanager
async def _server(limits: ConnectionLimits) -> AsyncIterator[int]:
    """uvicorn with the limited protocol around `_echo` on a free port; the client connections
    the block opened (`_open`) are closed with it."""
    port = free_port()
    config = uvicorn.Config(
        _echo,
        host="127.0.0.1",
        port=port,
        http=limited_protocol(limits),
        lifespan="off",
        log_config=None,
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the server did not start"
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        for writer in _OPENED:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        _OPENED.clear()
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def _open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    _OPENED.append(writer)
    return reader, writer


async def _answer(reader: asyncio.StreamReader) -> bytes:
    """Everything until the server closes (a reset counts as a close); at most 5 s."""
    try:
        return await asyncio.wait_for(reader.read(), 5)
    except ConnectionResetError:
        return b""


def _post(forwarded_for: str, body: bytes = b"", length: int | None = None) -> bytes:
    declared = len(body) if length is None else length
    return (
        b"POST / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: " + forwarded_for.encode() + b", 10.0.0.1\r\n"
        b"Content-Length: " + str(declared).encode() + b"\r\n\r\n" + body
    )


async def test_behind_a_proxy_the_cap_counts_requests_per_forwarded_address() -> None:
    """Every connection comes from the proxy (one peer address); the first X-Forwarded-For hop
    is the client, and one client's requests in progress are capped, not the proxy's."""
    limits = ConnectionLimits(max_per_address=2, trust_proxy_headers=True, body_timeout_s=30)
    async with _server(limits) as port:
        stalled = []
        for _ in range(2):
            reader, writer = await _open(port)
            writer.write(_post("203.0.113.9", length=10))  # headers, then a body that is late
            stalled.append((reader, writer))
        await asyncio.sleep(0.2)
        reader, writer = await _open(port)
        writer.write(_post("203.0.113.9", b"0123456789"))
        assert (await reader.readuntil(b"\r\n")).startswith(b"HTTP/1.1 429 ")
        # The proxy's connection stays usable: its next request may be another client's.
        head = await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(int(head.split(b"content-length: ")[1].split(b"\r\n")[0]))
        writer.write(_post("203.0.113.11", b"abc"))
        assert (await reader.readuntil(b"\r\n")).startswith(b"HTTP/1.1 200 ")
        reader, writer = await _open(port)
        writer.write(_post("203.0.113.10", b"abc"))
        assert (await reader.readuntil(b"\r\n")).startswith(b"HTTP/1.1 200 ")
        # A request that ends frees its place for the same client.
        first_reader, first_writer = stalled[0]
        first_writer.write(b"0123456789")
        assert (await first_reader.readuntil(b"\r\n")).startswith(b"HTTP/1.1 200 ")
        reader, writer = await _open(port)
        writer.write(_post("203.0.113.9", b"xy"))
        assert (await reader.readuntil(b"\r\n")).startswith(b"HTTP/1.1 200 ")
        for _, stalled_writer in stalled:
            stalled_writer.close()


async def test_connections_past_the_total_are_closed_at_once() -> None:
    async with _server(ConnectionLimits(max_connections=3, max_per_address=3)) as port:
        held = [await _open(port) for _ in range(3)]
        reader, _ = await _open(port)
        assert await _answer(reader) == b""
        held.pop()[1].close()
        await asyncio.sleep(0.2)
        reader, writer = await _open(port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert (await reader.readuntil(b"\r\n")).startswith(b"HTTP/1.1 200 ")
        for _, held_writer in held:
            held_writer.close()


async def test_a_body_past_its_deadline_is_408_and_the_app_sees_a_disconnect() -> None:
    async with _server(ConnectionLimits(body_timeout_s=0.5)) as port:
        reader, writer = await _open(port)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab")
        answer = await _answer(reader)
        assert answer.startswith(b"HTTP/1.1 408 ") and answer.endswith(b"body not received in time\n")


def test_refusals_are_logged_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    refusals = Refusals(interval_s=10)
    caplog.set_level(logging.WARNING, logger="libs.connection_limits")
    for _ in range(500):
        refusals.add("address_limit", 100.0)
    refusals.add("body_timeout", 100.5)
    refusals.flush(101.0)
    for _ in range(300):
        refusals.add("address_limit", 102.0)
    refusals.flush(105.0)  # within the interval: nothing
    refusals.flush(111.5)
    refusals.flush(125.0)  # nothing pending: nothing
    lines = [r for r in caplog.records if r.name == "libs.connection_limits"]
    assert [r.refused for r in lines] == [  # type: ignore[attr-defined]
        {"address_limit": 500, "body_timeout": 1},
        {"address_limit": 300},
    ]
    assert lines[0].getMessage() == "refused 501 HTTP connections or requests in the last 1 s"


def test_the_open_file_limit_is_raised_or_the_cap_lowered() -> None:
    """In a child process (limits are per process): soft 600 / hard 700 fits 700 - 256 clients."""
    code = (
        "import resource\n"
        "from libs.connection_limits import fit_file_limit\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (600, 700))\n"
        "print(fit_file_limit(300), fit_file_limit(2048), resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.stdout.split() == ["300", "444", "700"], done.stderr


def test_settings() -> None:
    limits = ConnectionLimits.from_env(
        {"MAX_CONNECTIONS": "800"}, max_body_bytes=4096, trust_proxy_headers=False
    )
    assert (limits.max_connections, limits.max_per_address, limits.max_body_bytes) == (800, 100, 4096)
    assert limits.header_timeout_s == limits.body_timeout_s == 10.0
    with pytest.raises(SettingsError) as caught:
        ConnectionLimits.from_env(
            {"MAX_CONNECTIONS": "10", "MAX_CONNECTIONS_PER_ADDRESS": "11"},
            max_body_bytes=4096,
            trust_proxy_headers=False,
        )
    assert caught.value.name == "MAX_CONNECTIONS_PER_ADDRESS"
    with pytest.raises(SettingsError) as caught:
        ConnectionLimits.from_env(
            {"BODY_TIMEOUT_SECONDS": "0"}, max_body_bytes=4096, trust_proxy_headers=False
        )
    assert caught.value.name == "BODY_TIMEOUT_SECONDS"


class _Recording(asyncio.Transport):
    """A transport that records what is written to it (the socket's side of `_Coalescing`)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


async def test_an_answers_head_and_body_leave_in_one_write_in_order() -> None:
    """uvicorn writes the head and the body apart; the cycle's transport joins the writes of one
    loop turn, keeps their order, and sends what it holds before a close."""
    real = _Recording()
    joined = _Coalescing(real, asyncio.get_running_loop())
    joined.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    joined.write(b"ok")
    assert real.writes == []  # held until the end of this turn
    await asyncio.sleep(0)
    assert real.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]
    joined.write(b"last")
    joined.close()
    assert real.writes[-1] == b"last" and real.closed
    await asyncio.sleep(0)
    assert len(real.writes) == 2  # nothing is written twice


async def test_a_graceful_shutdown_right_after_an_answer_still_sends_it() -> None:
    """uvicorn's shutdown closes the connection at once when the answer is complete: what the
    cycle's transport still holds for this loop turn is sent before that close."""
    written = _Recording()
    written.get_extra_info = lambda name, default=None: {
        "peername": ("127.0.0.1", 5),
        "sockname": ("127.0.0.1", 80),
    }.get(name, default)  # type: ignore[method-assign]
    protocol_class = limited_protocol(ConnectionLimits())
    protocols: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})
        protocols[0].shutdown()  # the server stopping in the same loop turn

    config = uvicorn.Config(app, http=protocol_class, lifespan="off", log_level="warning")
    config.load()
    protocol = protocol_class(config=config, server_state=uvicorn.server.ServerState(), app_state={})
    protocols.append(protocol)
    protocol.connection_made(written)
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    for _ in range(20):
        await asyncio.sleep(0)
    assert written.closed
    assert b"".join(written.writes).endswith(b"\r\n\r\nok")
