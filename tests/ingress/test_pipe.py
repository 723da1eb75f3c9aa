"""The auto-pipelined Redis connection: ordering, handshake, timeouts, reconnects."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.ingress.pipe import RETRY_AFTER_S, RedisPipe, encode
from tests.conftest import free_port
from tests.ingress.test_outage import proxy_on


def test_encode() -> None:
    assert encode(("SET", b"k", 12, "é")) == b"*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n12\r\n$2\r\n\xc3\xa9\r\n"


async def test_replies_match_their_commands(redis_url: str, key_prefix: str) -> None:
    pipe = RedisPipe(redis_url)
    try:
        keys = [f"{key_prefix}:k{i}" for i in range(200)]
        await asyncio.gather(*(pipe.execute("SET", k, i) for i, k in enumerate(keys)))
        values = await asyncio.gather(*(pipe.execute("GET", k) for k in keys))
        assert values == [str(i).encode() for i in range(200)]
        with pytest.raises(ResponseError):
            await pipe.execute("INCR", keys[0] + "x", "too", "many")
        assert await pipe.execute("EXISTS", keys[5]) == 1
    finally:
        await pipe.close()


async def test_select_from_url(redis_url: str, key_prefix: str) -> None:
    pipe = RedisPipe(redis_url.rsplit("/", 1)[0] + "/3")
    try:
        await pipe.execute("SET", f"{key_prefix}:db3", "x", "EX", 60)
    finally:
        await pipe.close()
    client = redis.Redis.from_url(redis_url.rsplit("/", 1)[0] + "/3")
    try:
        assert client.get(f"{key_prefix}:db3") == b"x"
        client.delete(f"{key_prefix}:db3")
    finally:
        client.close()


async def test_failed_auth_is_a_redis_error(redis_url: str) -> None:
    pipe = RedisPipe(redis_url.replace("redis://", "redis://:wrong-password@"))
    try:
        with pytest.raises(RedisError):
            await pipe.execute("PING")
    finally:
        await pipe.close()


async def test_refused_then_reconnects(redis_url: str) -> None:
    port = free_port()
    pipe = RedisPipe(f"redis://127.0.0.1:{port}/0", timeout_s=0.5)
    try:
        with pytest.raises(RedisConnectionError):
            await pipe.execute("PING")
        async with proxy_on(port) as proxy:
            await asyncio.sleep(RETRY_AFTER_S * 1.5)
            assert await pipe.execute("PING") == b"PONG"
            await proxy.stop()  # connections dropped: waiting callers fail, the next call reconnects
            with pytest.raises(RedisError):
                await pipe.execute("PING")
            await proxy.start()
            await asyncio.sleep(RETRY_AFTER_S * 1.5)
            assert await pipe.execute("PING") == b"PONG"
    finally:
        await pipe.close()


async def test_calls_time_out_and_a_stuck_connection_is_dropped() -> None:
    port = free_port()
    pipe = RedisPipe(f"redis://127.0.0.1:{port}/0", timeout_s=0.2)
    try:
        async with proxy_on(port, "hold") as proxy:
            started = time.monotonic()
            results = await asyncio.gather(*(pipe.execute("PING") for _ in range(5)), return_exceptions=True)
            assert all(isinstance(r, RedisTimeoutError) for r in results), results
            assert (
                time.monotonic() - started < 1.5
            )  # 0.2 s + the watchdog tick, with slack for a loaded machine
            proxy.mode = "forward"
            await asyncio.sleep(0.5)  # > 2 x timeout without progress: the watchdog drops it
            assert await pipe.execute("PING") == b"PONG"
    finally:
        await pipe.close()
