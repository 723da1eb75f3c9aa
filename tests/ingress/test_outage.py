"""Redis down, slow or misbehaving: 503, nothing half-written, recovery without a restart."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis
from redis.exceptions import RedisError

from libs import metrics
from libs.messages import Keys
from services.ingress.app import create_app
from services.ingress.enqueue import Script
from services.ingress.pipe import RETRY_AFTER_S, RedisPipe
from tests.conftest import free_port
from tests.ingress.conftest import WEBHOOK, call, inbound_params, make_settings, post_form, running


class RedisProxy:
    """A TCP proxy in front of the test Redis: `forward`, or `hold` (accept, never answer)."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.port = port
        self.target = target
        self.mode = "forward"
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self.mode == "hold":
                await reader.read(-1)
                return
            up_reader, up_writer = await asyncio.open_connection(*self.target)

            async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
                with contextlib.suppress(Exception):
                    while data := await src.read(65536):
                        dst.write(data)
                        await dst.drain()
                with contextlib.suppress(Exception):
                    dst.close()

            await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        except (asyncio.CancelledError, OSError):
            pass
        finally:
            self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()


@contextlib.asynccontextmanager
async def proxy_on(port: int, mode: str = "forward") -> AsyncIterator[RedisProxy]:
    proxy = RedisProxy(port, ("127.0.0.1", 6379))
    proxy.mode = mode
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


def _redis_target(redis_url: str) -> None:
    assert redis_url.startswith("redis://127.0.0.1:6379"), "the proxy tests expect the local test Redis"


def _unavailable() -> float:
    return (
        metrics.REGISTRY.get_sample_value("wa_webhooks_total", {"kind": "message", "outcome": "unavailable"})
        or 0.0
    )


async def test_redis_down_then_back(key_prefix: str, redis_url: str, entries: Any) -> None:
    _redis_target(redis_url)
    port = free_port()
    settings = make_settings(key_prefix, f"redis://127.0.0.1:{port}/0", REDIS_TIMEOUT_SECONDS="1")
    before = _unavailable()
    async with running(create_app(settings)) as app:
        started = time.monotonic()
        down = await post_form(app, WEBHOOK, inbound_params("SM" + "1" * 32))
        assert time.monotonic() - started < 3
        ready_down = await call(app, "/ready", method="GET")
        health_down = await call(app, "/health", method="GET")
        assert (down.status, ready_down.status, health_down.status) == (503, 503, 200)
        assert _unavailable() == before + 1
        async with proxy_on(port):
            await asyncio.sleep(RETRY_AFTER_S * 1.5)  # failed connects are retried at most this often
            up = await post_form(app, WEBHOOK, inbound_params("SM" + "1" * 32))
            ready_up = await call(app, "/ready", method="GET")
        assert (up.status, ready_up.status) == (200, 200)
        down_again = await post_form(app, WEBHOOK, inbound_params("SM" + "2" * 32))
        assert down_again.status == 503
    assert [e.fields["MessageSid"] for e in entries()] == ["SM" + "1" * 32]


async def test_slow_redis_is_503_within_the_bound_then_recovers(
    key_prefix: str, redis_url: str, entries: Any
) -> None:
    _redis_target(redis_url)
    port = free_port()
    settings = make_settings(key_prefix, f"redis://127.0.0.1:{port}/0", REDIS_TIMEOUT_SECONDS="0.3")
    async with proxy_on(port, "hold") as proxy, running(create_app(settings)) as app:
        started = time.monotonic()
        answers = await asyncio.gather(
            *(post_form(app, WEBHOOK, inbound_params(f"SM{i:032x}")) for i in range(5))
        )
        assert time.monotonic() - started < 3
        assert [a.status for a in answers] == [503] * 5
        proxy.mode = "forward"
        deadline = time.monotonic() + 15
        status = 0
        while time.monotonic() < deadline:
            status = (await post_form(app, WEBHOOK, inbound_params("SM" + "f" * 32))).status
            if status == 200:
                break
            await asyncio.sleep(0.2)
        assert status == 200
    assert [e.fields["MessageSid"] for e in entries()] == ["SM" + "f" * 32]


async def test_failed_xadd_writes_nothing(key_prefix: str, redis_url: str) -> None:
    """The script checks and writes in an order that leaves no dedupe key or count behind."""
    keys = Keys(key_prefix)
    client = redis.Redis.from_url(redis_url)
    client.set(keys.inbound, "not a stream")
    try:
        async with running(create_app(make_settings(key_prefix, redis_url))) as app:
            answer = await post_form(app, WEBHOOK, inbound_params("SM" + "3" * 32))
        assert answer.status == 503
        assert not client.exists(keys.dedupe("SM" + "3" * 32))
        assert not client.exists(keys.rate("customer", "whatsapp:+15551230001"))
    finally:
        client.close()


async def test_noscript_falls_back_to_eval(redis_url: str, key_prefix: str) -> None:
    """A script Redis has never seen (as after a restart) runs through EVAL, alone or many at once."""
    pipe = RedisPipe(redis_url)
    script = Script(f"-- {os.urandom(8).hex()}\nreturn redis.call('INCR', KEYS[1])".encode())
    key = f"{key_prefix}:counter"
    try:
        single = await script(pipe, [key], [])
        many = await asyncio.gather(*(script(pipe, [key], []) for _ in range(10)))
        assert single == 1
        assert sorted(many) == list(range(2, 12))
        with pytest.raises(RedisError):
            await Script(b"return redis.call('NOSUCHCOMMAND')")(pipe, [], [])
        assert await pipe.execute("PING") == b"PONG"  # an error reply leaves the connection usable
    finally:
        await pipe.close()
