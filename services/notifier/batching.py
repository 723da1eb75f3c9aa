"""Scripts called by many replies at once go to Redis together: one pipeline per loop turn.

Each reply runs two scripts (`SendStates.prepare` before its call, `SendStates.settle` after
it). Under load many lanes call them in the same turn of the event loop; `ScriptBatcher`
queues those calls and sends the queue as one non-transactional pipeline of `EVALSHA`s on the
next turn: one socket write and one read for the batch instead of one each per call. Every
script stays atomic by itself, and each caller gets its own script's answer or error, as if it
had called alone; the batch only shares the round trip
(https://redis.io/docs/latest/develop/use/pipelining/).

A script Redis does not know (`NOSCRIPT`: a restarted or flushed server) is called again on
its own, which loads it. A connection error fails every call of the batch with that error:
the callers treat it as they would their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

Call = tuple[AsyncScript, Sequence[Any], Sequence[Any], "asyncio.Future[Any]"]


class ScriptBatcher:
    """Queues script calls and sends them in one pipeline per event-loop turn."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._queue: list[Call] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def call(self, script: AsyncScript, *, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        """Run `script` with `keys` and `args` in the next batch; its answer, or its error."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append((script, keys, args, future))
        if len(self._queue) == 1:
            loop.call_soon(self._start)
        return await future

    def _start(self) -> None:
        batch, self._queue = self._queue, []
        if len(batch) == 1:
            script, keys, args, future = batch[0]
            task = asyncio.ensure_future(self._alone(script, keys, args, future))
        else:
            task = asyncio.ensure_future(self._flush(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _alone(
        script: AsyncScript, keys: Sequence[Any], args: Sequence[Any], future: asyncio.Future[Any]
    ) -> None:
        try:
            result = await script(keys=keys, args=args)
        except Exception as exc:  # handed to the caller, whatever it is
            if not future.done():
                future.set_exception(exc)
            return
        except BaseException:
            future.cancel()
            raise
        if not future.done():
            future.set_result(result)

    async def _flush(self, batch: list[Call]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for script, keys, args, _ in batch:
            # EVALSHA straight on the pipeline: a pipeline that knows its scripts asks
            # SCRIPT EXISTS first on every execute, a second round trip.
            pipe.evalsha(script.sha, len(keys), *keys, *args)
        try:
            results = await pipe.execute(raise_on_error=False)
        except Exception as exc:  # every caller gets the batch's error
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:
            for *_, future in batch:
                future.cancel()
            raise
        for (script, keys, args, future), result in zip(batch, results, strict=True):
            if isinstance(result, NoScriptError):
                await self._alone(script, keys, args, future)
            elif isinstance(result, Exception):
                if not future.done():
                    future.set_exception(result)
            elif not future.done():
                future.set_result(result)
