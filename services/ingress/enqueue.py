"""Dedupe and enqueue a webhook in one atomic Redis step, and count failed signatures.

`enqueue.lua` runs as one EVALSHA (EVAL when Redis answers NOSCRIPT, e.g. after a restart or
a failover; https://redis.io/docs/latest/develop/interact/programmability/eval-intro/):

1. the dedupe key exists -> duplicate, nothing written;
2. for inbound messages, the customer's counter for the current window (`Keys.rate("customer",
   From)`, a fixed window of `CUSTOMER_WINDOW_SECONDS`) decides a flag: within
   `CUSTOMER_MESSAGE_LIMIT` none; the first message over it `first`; later ones `yes`;
3. XADD of the envelope to `Keys.inbound`, with `fields["_throttled"] = flag` when flagged;
4. the counter is incremented and the dedupe key (`Keys.dedupe(token)`, value: the entry id)
   written with a TTL of at least 24 h, so a replayed or redelivered webhook within that window
   is a duplicate.

Either all of it happens or none (Redis runs a script alone; it writes only after the XADD
succeeded). orders ignores a `_throttled` message, and for `first` sends one "please slow
down" reply, so a flooding customer gets at most one such reply per window while Twilio still
gets its 200 and does not retry.

Concurrent calls within one event-loop iteration are sent as one pipeline (micro-batching):
one client round trip for many webhooks, which is where a redis-py command's CPU goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, RedisError

from libs.messages import Envelope, Keys

log = logging.getLogger("services.ingress.enqueue")

ENQUEUE_SCRIPT: Final = resources.files(__package__).joinpath("enqueue.lua").read_bytes()
# INCR with a TTL set on the first increment: a fixed-window counter.
COUNT_SCRIPT: Final = (
    b"local n = redis.call('INCR', KEYS[1]) "
    b"if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end "
    b"return n"
)
_FIELDS_KEY: Final = b'"fields":{'

ACCEPTED: Final = "accepted"
DUPLICATE: Final = "duplicate"


@dataclass(frozen=True, slots=True)
class Result:
    """What the script did: `outcome` accepted or duplicate; `entry_id` of the new entry;
    `throttled` "" (not throttled), "first" or "yes"."""

    outcome: str
    entry_id: str = ""
    throttled: str = ""


def split_envelope(envelope: Envelope) -> tuple[bytes, bytes]:
    """The encoded envelope cut right after `"fields":{`, so the script can insert a field.

    `fields` must not be empty (a webhook always has MessageSid and From). In orjson's output
    a `"` inside a string is always escaped, so the first `"fields":{` is the key itself.
    """
    data = envelope.encode()
    cut = data.index(_FIELDS_KEY) + len(_FIELDS_KEY)
    return data[:cut], data[cut:]


class ScriptBatcher:
    """Runs one Lua script for many concurrent callers, one pipeline per event-loop iteration.

    `call(keys, args)` returns a future resolved with the script's reply, or failed with the
    `RedisError` of the round trip. Callers bound their wait (`asyncio.timeout`); a reply for
    a caller that gave up is dropped.
    """

    def __init__(self, client: aioredis.Redis, source: bytes) -> None:
        self._client = client
        self._source = source
        self._sha = hashlib.sha1(source, usedforsecurity=False).hexdigest()
        self._pending: list[
            tuple[Sequence[str | bytes], Sequence[str | bytes | int], asyncio.Future[Any]]
        ] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def call(self, keys: Sequence[str | bytes], args: Sequence[str | bytes | int]) -> asyncio.Future[Any]:
        """Queue one script call for the next flush; returns its future."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((keys, args, future))
        return future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.get_running_loop().create_task(self._run(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self, batch: list[tuple[Sequence[str | bytes], Sequence[str | bytes | int], asyncio.Future[Any]]]
    ) -> None:
        try:
            results = await self._execute("EVALSHA", self._sha, batch)
            missing = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
            if missing:
                retried = await self._execute("EVAL", self._source, [batch[i] for i in missing])
                for i, result in zip(missing, retried, strict=True):
                    results[i] = result
        except Exception as exc:  # every caller learns of it; nothing else may be lost here
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, RedisError) else RedisError(repr(exc)))
            return
        for (_, _, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _execute(
        self,
        command: str,
        script: str | bytes,
        batch: list[tuple[Sequence[str | bytes], Sequence[str | bytes | int], asyncio.Future[Any]]],
    ) -> list[Any]:
        if len(batch) == 1:
            keys, args, _ = batch[0]
            try:
                reply = await self._client.execute_command(  # type: ignore[no-untyped-call]
                    command, script, len(keys), *keys, *args
                )
                return [reply]
            except NoScriptError as exc:
                return [exc]
        pipe = self._client.pipeline(transaction=False)
        for keys, args, _ in batch:
            pipe.execute_command(command, script, len(keys), *keys, *args)
        results: list[Any] = await pipe.execute(raise_on_error=False)
        return results

    async def close(self) -> None:
        """Wait for the pipelines in flight (at most their socket timeout)."""
        for task in list(self._tasks):
            with contextlib.suppress(Exception):
                await task


class Enqueuer:
    """ingress' Redis writes: `enqueue()` a webhook, `count_bad_signature()` of an address.

    Every method raises `RedisError` (connection refused, timeout, Redis error reply) and
    `TimeoutError` when Redis did not answer within `timeout_s`; the caller answers 503.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        *,
        dedupe_ttl_s: int,
        customer_limit: int,
        customer_window_s: int,
        bad_signature_window_s: int,
        timeout_s: float,
    ) -> None:
        self.client = client
        self.keys = keys
        self._stream = keys.inbound
        self._ttl = str(dedupe_ttl_s)
        self._limit = str(customer_limit)
        self._window_ms = str(customer_window_s * 1000)
        self._bad_window_ms = str(bad_signature_window_s * 1000)
        self._timeout_s = timeout_s
        self._enqueue = ScriptBatcher(client, ENQUEUE_SCRIPT)
        self._count = ScriptBatcher(client, COUNT_SCRIPT)

    async def enqueue(self, envelope: Envelope, dedupe_token: str, customer: str | None) -> Result:
        """Dedupe and append `envelope` to the inbound stream in one step.

        `dedupe_token` is MessageSid (messages) or MessageSid:MessageStatus (status callbacks);
        `customer` (From) is counted against the per-customer window when given.
        """
        head, tail = split_envelope(envelope)
        keys: list[str | bytes] = [self.keys.dedupe(dedupe_token), self._stream]
        if customer is not None:
            keys.append(self.keys.rate("customer", customer))
        args = (self._ttl, head, tail, self._limit, self._window_ms)
        async with asyncio.timeout(self._timeout_s):
            reply = await self._enqueue.call(keys, args)
        if reply[0] == 0:
            return Result(DUPLICATE)
        return Result(ACCEPTED, _text(reply[1]), _text(reply[2]))

    async def count_bad_signature(self, address: str) -> int:
        """Count one failed signature check from `address` in its window; returns the count."""
        async with asyncio.timeout(self._timeout_s):
            count = await self._count.call([self.keys.rate("badsig", address)], [self._bad_window_ms])
        return int(count)

    async def ping(self) -> str:
        """Readiness: PING Redis within the timeout; returns a short detail."""
        async with asyncio.timeout(self._timeout_s):
            await self.client.ping()
        return "PONG"

    async def close(self) -> None:
        """Let pipelines in flight finish."""
        await self._enqueue.close()
        await self._count.close()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
