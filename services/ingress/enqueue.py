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

Commands go through `RedisPipe`, one auto-pipelined connection: the scripts of every webhook
handled in one event-loop iteration leave in one write (see services.ingress.pipe).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

from redis.exceptions import NoScriptError

from libs.messages import Envelope, Keys
from services.ingress.pipe import RedisPipe

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


class Script:
    """A Lua script run with EVALSHA, falling back to EVAL (which also caches it) on NOSCRIPT."""

    def __init__(self, source: bytes) -> None:
        self.source = source
        self.sha = hashlib.sha1(source, usedforsecurity=False).hexdigest()

    async def __call__(self, pipe: RedisPipe, keys: Sequence[str], args: Sequence[str | bytes]) -> Any:
        """Run on `pipe`; raises what `RedisPipe.execute` raises."""
        try:
            return await pipe.execute("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await pipe.execute("EVAL", self.source, len(keys), *keys, *args)


class Enqueuer:
    """ingress' Redis writes: `enqueue()` a webhook, `count_bad_signature()` of an address.

    Every method raises `RedisError` (connection refused, no reply within the pipe's timeout,
    Redis error reply); the caller answers 503.
    """

    def __init__(
        self,
        pipe: RedisPipe,
        keys: Keys,
        *,
        dedupe_ttl_s: int,
        customer_limit: int,
        customer_window_s: int,
        bad_signature_window_s: int,
    ) -> None:
        self.pipe = pipe
        self.keys = keys
        self._stream = keys.inbound
        self._ttl = str(dedupe_ttl_s)
        self._limit = str(customer_limit)
        self._window_ms = str(customer_window_s * 1000)
        self._bad_window_ms = str(bad_signature_window_s * 1000)
        self._enqueue = Script(ENQUEUE_SCRIPT)
        self._count = Script(COUNT_SCRIPT)

    async def enqueue(self, envelope: Envelope, dedupe_token: str, customer: str | None) -> Result:
        """Dedupe and append `envelope` to the inbound stream in one step.

        `dedupe_token` is MessageSid (messages) or MessageSid:MessageStatus (status callbacks);
        `customer` (From) is counted against the per-customer window when given.
        """
        head, tail = split_envelope(envelope)
        keys = [self.keys.dedupe(dedupe_token), self._stream]
        if customer is not None:
            keys.append(self.keys.rate("customer", customer))
        args = (self._ttl, head, tail, self._limit, self._window_ms)
        reply = await self._enqueue(self.pipe, keys, args)
        if reply[0] == 0:
            return Result(DUPLICATE)
        return Result(ACCEPTED, _text(reply[1]), _text(reply[2]))

    async def count_bad_signature(self, address: str) -> int:
        """Count one failed signature check from `address` in its window; returns the count."""
        count = await self._count(self.pipe, [self.keys.rate("badsig", address)], [self._bad_window_ms])
        return int(count)

    async def ping(self) -> str:
        """Readiness: PING Redis; returns a short detail."""
        reply = await self.pipe.execute("PING")
        return _text(reply)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
