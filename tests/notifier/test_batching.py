"""ScriptBatcher: calls in one loop turn share a pipeline; each gets its own answer or error."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from libs.messages import Keys
from services.notifier.batching import ScriptBatcher

INCR = "return redis.call('INCRBY', KEYS[1], tonumber(ARGV[1]))"
FAIL = "if ARGV[1] == 'bad' then return redis.error_reply('refused ' .. ARGV[1]) end return ARGV[1]"


async def test_concurrent_calls_share_one_pipeline_and_get_their_own_answers(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    batcher = ScriptBatcher(redis_client)
    incr, fail = redis_client.register_script(INCR), redis_client.register_script(FAIL)
    await incr(keys=[keys.prefix + ":warm"], args=[0])  # loaded once, as the services do
    await fail(keys=[], args=["ok"])
    key = f"{keys.prefix}:counter"
    sent: list[int] = []
    original = redis_client.pipeline

    def counting(*args: object, **kwargs: object) -> object:
        sent.append(1)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    redis_client.pipeline = counting  # type: ignore[method-assign]
    calls = [batcher.call(incr, keys=[key], args=[i]) for i in range(1, 11)]
    calls += [batcher.call(fail, keys=[], args=["bad"]), batcher.call(fail, keys=[], args=["fine"])]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert len(sent) == 1  # one pipeline for the twelve calls
    assert results[:10] == [sum(range(1, i + 1)) for i in range(1, 11)]  # in the order called
    assert isinstance(results[10], ResponseError) and "refused bad" in str(results[10])
    assert results[11] == b"fine"


async def test_a_script_redis_does_not_know_is_loaded_and_answered(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    batcher = ScriptBatcher(redis_client)
    # A body no server has seen: its EVALSHA in the pipeline meets NOSCRIPT.
    fresh = redis_client.register_script(f"-- {uuid.uuid4()}\nreturn ARGV[1]")
    other = redis_client.register_script(f"-- {uuid.uuid4()}\nreturn ARGV[1] .. '!'")
    assert await asyncio.gather(
        batcher.call(fresh, keys=[], args=["a"]), batcher.call(other, keys=[], args=["b"])
    ) == [b"a", b"b!"]
    assert await batcher.call(fresh, keys=[], args=["alone"]) == b"alone"


async def test_a_connection_error_reaches_every_caller(keys: Keys) -> None:
    broken = aioredis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    batcher = ScriptBatcher(broken)
    script = broken.register_script(INCR)
    results = await asyncio.gather(
        *(batcher.call(script, keys=["k"], args=[1]) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, Exception) for r in results)
    await broken.aclose()
    with pytest.raises(Exception):  # noqa: B017 - alone, the same error
        await batcher.call(script, keys=["k"], args=[1])
