"""libs.http11 against small raw servers: keep-alive, framing, and which failure is which."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from libs.http11 import ConnectFailed, Origin, RequestFailed

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def server(handler: Handler) -> AsyncIterator[tuple[str, list[int]]]:
    """A TCP server on a free port; yields its URL and a list counting its connections."""
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        with contextlib.suppress(ConnectionError):
            await handler(reader, writer)
        writer.close()

    srv = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    async with srv:
        yield f"http://127.0.0.1:{port}", connections


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head, await reader.readexactly(length)


def origin(url: str, **kw: float) -> Origin:
    options = {"connect_s": 1.0, "read_s": 1.0, "write_s": 1.0, "pool_s": 1.0, "max_connections": 2}
    options.update(kw)
    return Origin(url, headers={"Authorization": "Basic eDp5"}, **options)  # type: ignore[arg-type]


async def keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        _head, body = await read_request(reader)
        answer = b'{"echo": "%s"}' % body
        writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer))
        await writer.drain()


async def test_requests_share_one_keep_alive_connection() -> None:
    async with server(keep_alive) as (url, connections):
        client = origin(url)
        for i in range(5):
            response = await client.request("POST", "/x.json", b"a=%d" % i)
            assert (response.status, response.reason) == (201, "Created")
            assert response.content == b'{"echo": "a=%d"}' % i
            assert response.headers["content-length"] == str(len(response.content))
        assert len(connections) == 1
        await client.aclose()


async def test_the_request_carries_host_auth_and_length() -> None:
    seen: list[bytes] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head, body = await read_request(reader)
        seen.append(head + body)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        await writer.drain()

    async with server(record) as (url, _):
        client = origin(url)
        response = await client.request("POST", "/2010-04-01/M.json", b"To=x")
        assert response.content == b"abcde"  # de-chunked
        port = url.rsplit(":", 1)[1]
        assert seen[0].startswith(b"POST /2010-04-01/M.json HTTP/1.1\r\n")
        assert f"Host: 127.0.0.1:{port}\r\n".encode() in seen[0]
        assert b"Authorization: Basic eDp5\r\n" in seen[0] and b"Content-Length: 4\r\n" in seen[0]
        assert seen[0].endswith(b"\r\n\r\nTo=x")
        await client.aclose()


async def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()  # then closes: an idle keep-alive timeout on the server's side

    async with server(once) as (url, connections):
        client = origin(url)
        assert (await client.request("POST", "/", b"1")).content == b"ok"
        await asyncio.sleep(0.1)
        # Never written to the closed connection (that would be an unknown outcome): a new one.
        assert (await client.request("POST", "/", b"2")).content == b"ok"
        assert len(connections) == 2
        await client.aclose()


async def test_connection_close_answer_is_not_reused() -> None:
    async def closing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await asyncio.sleep(1)

    async with server(closing) as (url, connections):
        client = origin(url)
        await client.request("POST", "/", b"1")
        await client.request("POST", "/", b"2")
        assert len(connections) == 2
        await client.aclose()


async def test_refused_connection_is_connect_failed() -> None:
    async with server(keep_alive) as (url, _):
        pass  # closed: nothing listens there now
    with pytest.raises(ConnectFailed):
        await origin(url).request("POST", "/", b"x")


@pytest.mark.parametrize(
    "answer",
    [b"", b'HTTP/1.1 201 Created\r\nContent-Length: 50\r\n\r\n{"sid"', b"NOT HTTP AT ALL\r\n\r\n"],
    ids=["closed-without-answer", "truncated", "unparsable"],
)
async def test_failures_after_writing_are_request_failed(answer: bytes) -> None:
    async def bad(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer)
        await writer.drain()

    async with server(bad) as (url, _):
        with pytest.raises(RequestFailed):
            await origin(url).request("POST", "/", b"x")


async def test_silence_is_a_read_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(2)

    async with server(silent) as (url, _):
        started = asyncio.get_running_loop().time()
        with pytest.raises(RequestFailed, match="read timeout"):
            await origin(url, read_s=0.3).request("POST", "/", b"x")
        assert 0.25 <= asyncio.get_running_loop().time() - started < 1.0


async def test_no_free_connection_in_time_is_connect_failed() -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(0.8)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()

    async with server(slow) as (url, _):
        client = origin(url, max_connections=1, pool_s=0.2)
        first = asyncio.create_task(client.request("POST", "/", b"1"))
        await asyncio.sleep(0.05)
        with pytest.raises(ConnectFailed, match="no free connection"):
            await client.request("POST", "/", b"2")
        assert (await first).status == 200
        await client.aclose()
