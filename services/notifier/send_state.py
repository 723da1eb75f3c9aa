"""What notifier knows about each reply's send, kept in Redis so any replica can pick it up.

One hash per reply at `Keys.send_state(reply_id)`, kept `send_state_ttl_s` (48 h by default,
longer than any redelivery or relay republish can come back):

| field            | meaning                                                                  |
|------------------|--------------------------------------------------------------------------|
| `state`          | `sending`, then one final value: `sent`, `failed`, `ambiguous`           |
| `safe`           | `1` when no attempt so far may have reached Twilio; `0` while one might  |
| `attempt`        | the id of the attempt recorded last; `started_us` when it began (Redis µs) |
| `attempts`       | how many calls were recorded                                             |
| `first_seen_us`  | when a notifier first saw the reply (the order gap timeout counts from it) |

`see()` also marks the reply `s:<seq>` in the customer's cursor (`services.notifier.cursor`),
so replies behind it know it is on its way.
| `sid`, `error_code`, `error_message` | the outcome                                          |

The protocol (issue: "record sending before the call"):
1. `begin()` records `sending` with `safe=0` BEFORE the HTTP call. It refuses when the reply is
   already final, and when an earlier attempt left `safe=0`: that attempt may have reached
   Twilio (https://www.twilio.com/docs/usage/requests-to-twilio has no idempotency key for
   Messages), so the reply is `busy` while that attempt could still be running and
   `ambiguous` after that.
2. After an answer that proves nothing was sent (a connect failure, an HTTP error status),
   `mark_safe()` sets `safe=1`, which allows another attempt.
3. `settle()` records the final outcome, advances the customer's cursor and XADDs the
   `send_result` envelope to the inbound stream, in one Lua script: the three happen together
   or not at all. A `sent` is never overwritten; `sent` overwrites `ambiguous`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import redis.asyncio as aioredis

from libs.messages import ENTRY_FIELD, Keys
from services.notifier.cursor import FINISH_FN

SENDING: Final = "sending"
SENT: Final = "sent"
FAILED: Final = "failed"
AMBIGUOUS: Final = "ambiguous"
FINAL_STATES: Final = frozenset({SENT, FAILED, AMBIGUOUS})

_NOW_US: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
"""

# KEYS[1] state. ARGV: attempt id, busy window µs, ttl s, to, seq.
# Returns {verdict, state, wait_us}: go | final | busy | ambiguous.
_BEGIN: Final = (
    _NOW_US
    + """
local st = redis.call('HGET', KEYS[1], 'state')
if st == 'sent' or st == 'failed' or st == 'ambiguous' then
  return {'final', st, 0}
end
if st == 'sending' and redis.call('HGET', KEYS[1], 'safe') ~= '1' then
  local started = tonumber(redis.call('HGET', KEYS[1], 'started_us') or '0')
  local left = tonumber(ARGV[2]) - (now - started)
  if left > 0 then
    return {'busy', st, left}
  end
  return {'ambiguous', st, 0}
end
redis.call('HSET', KEYS[1], 'state', 'sending', 'safe', '0', 'attempt', ARGV[1],
  'started_us', string.format('%.0f', now), 'to', ARGV[4], 'seq', ARGV[5])
redis.call('HSETNX', KEYS[1], 'first_seen_us', string.format('%.0f', now))
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return {'go', 'sending', 0}
"""
)

# KEYS[1] state. ARGV: attempt id, last error. Only the attempt's own owner may clear `safe`.
_MARK_SAFE: Final = """
local mine = redis.call('HGET', KEYS[1], 'attempt') == ARGV[1]
if mine and redis.call('HGET', KEYS[1], 'state') == 'sending' then
  redis.call('HSET', KEYS[1], 'safe', '1', 'last_error', ARGV[2])
  return 1
end
return 0
"""

# KEYS: state, cursor. ARGV: ttl s, seq, cursor ttl s. Marks the reply seen in both (unless it
# is final already, or the cursor is past it) and returns {state, first_seen_us, now_us}.
_SEE: Final = (
    _NOW_US
    + """
local st = redis.call('HGET', KEYS[1], 'state')
if st == 'sent' or st == 'failed' or st == 'ambiguous' then
  return {st, '0', '0'}
end
redis.call('HSETNX', KEYS[1], 'first_seen_us', string.format('%.0f', now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
local cur = tonumber(redis.call('HGET', KEYS[2], 'seq') or '0')
if tonumber(ARGV[2]) > cur then
  redis.call('HSET', KEYS[2], 's:' .. ARGV[2], math.floor(now / 1000000))
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
end
return {st or '', redis.call('HGET', KEYS[1], 'first_seen_us'), string.format('%.0f', now)}
"""
)

# KEYS: state, cursor, inbound stream. ARGV: mode (record|emit), state, sid, code, message,
# ttl s, seq, force (0|1), cursor ttl s, entry field, envelope.
# Returns {state now recorded, emitted 0|1}.
_SETTLE: Final = (
    FINISH_FN
    + _NOW_US
    + """
local current = redis.call('HGET', KEYS[1], 'state')
local emit = true
if ARGV[1] == 'record' then
  local new = ARGV[2]
  local keep = current == 'sent' or ((current == 'failed' or current == 'ambiguous') and new ~= 'sent')
  if keep then
    emit = false
  else
    redis.call('HSET', KEYS[1], 'state', new, 'sid', ARGV[3], 'error_code', ARGV[4],
      'error_message', ARGV[5], 'settled_us', string.format('%.0f', now))
    redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
    current = new
  end
end
finish_cursor(KEYS[2], tonumber(ARGV[7]), ARGV[8] == '1', tonumber(ARGV[9]))
if emit then
  redis.call('XADD', KEYS[3], '*', ARGV[10], ARGV[11])
end
return {current or '', emit and 1 or 0}
"""
)


@dataclass(frozen=True, slots=True)
class SendState:
    """A reply's recorded state; `state` is '' when nothing was recorded yet."""

    state: str = ""
    safe: bool = True
    attempts: int = 0
    sid: str = ""
    error_code: str = ""
    error_message: str = ""

    @property
    def final(self) -> bool:
        """True once the reply has a final outcome (sent, failed, ambiguous)."""
        return self.state in FINAL_STATES


@dataclass(frozen=True, slots=True)
class Begin:
    """`SendStates.begin`'s verdict: `go`, `final` (with `state`), `busy` (for `wait_s`), `ambiguous`."""

    verdict: str
    state: str
    wait_s: float


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value


class SendStates:
    """The send-state records of one key prefix; see the module docstring for the protocol."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, *, ttl_s: int, cursor_ttl_s: int) -> None:
        self.redis = redis
        self.keys = keys
        self.ttl_s = ttl_s
        self.cursor_ttl_s = cursor_ttl_s
        self._begin = redis.register_script(_BEGIN)
        self._mark_safe = redis.register_script(_MARK_SAFE)
        self._see = redis.register_script(_SEE)
        self._settle = redis.register_script(_SETTLE)

    async def get(self, reply_id: str) -> SendState:
        """The recorded state of `reply_id` (an empty `SendState` when none)."""
        raw = await self.redis.hgetall(self.keys.send_state(reply_id))
        fields = {_text(k): _text(v) for k, v in raw.items()}
        return SendState(
            state=fields.get("state", ""),
            safe=fields.get("safe", "1") == "1",
            attempts=int(fields.get("attempts") or 0),
            sid=fields.get("sid", ""),
            error_code=fields.get("error_code", ""),
            error_message=fields.get("error_message", ""),
        )

    async def see(self, reply_id: str, *, customer: str, seq: int) -> float:
        """Mark the reply seen (send state and customer cursor); returns seconds since first seen.

        Returns 0 for a reply that is final already (nothing is marked then).
        """
        _state, first, now = await self._see(
            keys=[self.keys.send_state(reply_id), self.keys.customer_cursor(customer)],
            args=[self.ttl_s, seq, self.cursor_ttl_s],
        )
        return max(0.0, (int(now) - int(first)) / 1e6)

    async def begin(self, reply_id: str, attempt: str, *, busy_window_s: float, to: str, seq: int) -> Begin:
        """Record `sending` for `attempt` before calling Twilio, unless that would risk a duplicate.

        `busy_window_s` is the longest one call can take (connect + write + read timeouts): an
        unresolved attempt younger than that may still be running, so the verdict is `busy`.
        """
        verdict, state, wait_us = await self._begin(
            keys=[self.keys.send_state(reply_id)],
            args=[attempt, int(busy_window_s * 1e6), self.ttl_s, to, seq],
        )
        return Begin(_text(verdict), _text(state), int(wait_us) / 1e6)

    async def mark_safe(self, reply_id: str, attempt: str, error: str) -> bool:
        """Record that `attempt` provably did not reach Twilio (or was refused); allows a retry."""
        done = await self._mark_safe(keys=[self.keys.send_state(reply_id)], args=[attempt, error[:500]])
        return bool(done)

    async def settle(
        self,
        reply_id: str,
        *,
        customer: str,
        seq: int,
        envelope: bytes,
        state: str | None,
        sid: str = "",
        error_code: str = "",
        error_message: str = "",
        force_cursor: bool = False,
    ) -> tuple[str, bool]:
        """Record a final `state` (None: record nothing), finish the cursor, emit `envelope`.

        All in one script. Returns (state recorded now, whether the envelope was XADDed to the
        inbound stream); an envelope is not emitted when another attempt had settled the reply
        already with an outcome this one must not replace.
        """
        recorded, emitted = await self._settle(
            keys=[self.keys.send_state(reply_id), self.keys.customer_cursor(customer), self.keys.inbound],
            args=[
                "emit" if state is None else "record",
                state or "",
                sid,
                error_code,
                error_message[:500],
                self.ttl_s,
                seq,
                "1" if force_cursor else "0",
                self.cursor_ttl_s,
                ENTRY_FIELD,
                envelope,
            ],
        )
        return _text(recorded), bool(emitted)
