"""What notifier knows about each reply's send, kept in Redis so any replica can pick it up.

One hash per reply at `Keys.send_state(reply_id)`, kept `send_state_ttl_s` (48 h by default,
longer than any redelivery or relay republish can come back):

| field            | meaning                                                                  |
|------------------|--------------------------------------------------------------------------|
| `state`          | `sending`, then one final value: `sent`, `failed`, `ambiguous`           |
| `safe`           | `1` when no attempt so far may have reached Twilio; `0` while one might  |
| `attempt`        | the attempt recorded last; `started_us` when it began (Redis µs); `owner`, its consumer |
| `ended_us`       | when that unsafe attempt was known over (answer unreadable, or owner found dead) |
| `since_us`       | when the first attempt began: the look-up window starts there            |
| `lookup_owner`, `lookup_until_us` | the consumer looking the reply up at Twilio, and until when |
| `attempts`       | calls recorded                                                           |
| `unknown`        | `1` once an attempt's outcome was unknown (a look-up followed)           |
| `not_found`, `found` | look-ups that found nothing; `1` when one found the message          |
| `first_seen_us`  | when a notifier first saw the reply (the order gap timeout counts from it) |
| `sid`, `error_code`, `error_message` | the outcome                                          |

`see()` also marks the reply `s:<seq>` in the customer's cursor (`services.notifier.cursor`),
so replies behind it know it is on its way. Every MessageSid settled `sent` is claimed for its
reply at `Keys.message_claim(sid)`, so a look-up never settles two replies with one message.

The protocol. Twilio's Messages API has no idempotency key
(https://www.twilio.com/docs/usage/requests-to-twilio), so an attempt whose answer was not
read may have created the message; such an attempt is never followed by another call before
Twilio has been asked.
1. `begin()` records `sending` with `safe=0` BEFORE the HTTP call (`go`). It answers `final`
   when the reply is settled, and when an earlier attempt left `safe=0`:
   - `busy` while that attempt may still be running: its owner's consumer lease is alive and it
     began less than a call's length ago, or another consumer holds the look-up;
   - else `reconcile`, taking the look-up for this consumer, with how long to wait first (the
     settle delay after the attempt ended: a dead owner's attempt ended when it was found dead,
     at the latest) and `since`, the start of the look-up window.
2. After an answer that proves nothing was sent (a connect failure, a 429), `mark_safe()` sets
   `safe=1`, which allows another attempt. After an unreadable answer or a 5xx, `mark_unknown()`
   records when the attempt ended; the next `begin()` then says `reconcile`.
3. A look-up that found the message settles it `sent` with that MessageSid; one that found
   nothing calls `absent()` (only the look-up's holder can), which sets `safe=1`: the reply is
   sent again. A look-up that failed is retried, never the send.
4. `settle()` records the final outcome, advances the customer's cursor and XADDs the
   `send_result` envelope to the inbound stream, in one Lua script: the three happen together
   or not at all. A `sent` is never overwritten; `sent` overwrites `ambiguous`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from libs.messages import ENTRY_FIELD, Keys
from services.notifier.batching import ScriptBatcher
from services.notifier.cursor import FINISH_FN
from services.notifier.pacing import TAKE_FN, TokenBucket

SENDING: Final = "sending"
SENT: Final = "sent"
FAILED: Final = "failed"
AMBIGUOUS: Final = "ambiguous"
FINAL_STATES: Final = frozenset({SENT, FAILED, AMBIGUOUS})

_NOW_US: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
"""

# go(state key, now µs, attempt id, me, to, seq, ttl s): record `sending` for a new attempt.
_GO_FN: Final = """
local function go(key, now, attempt, me, to, seq, ttl)
  redis.call('HSET', key, 'state', 'sending', 'safe', '0', 'attempt', attempt, 'owner', me,
    'started_us', string.format('%.0f', now), 'to', to, 'seq', seq)
  redis.call('HDEL', key, 'ended_us', 'lookup_owner', 'lookup_until_us')
  redis.call('HSETNX', key, 'first_seen_us', string.format('%.0f', now))
  redis.call('HSETNX', key, 'since_us', string.format('%.0f', now))
  redis.call('HINCRBY', key, 'attempts', 1)
  redis.call('EXPIRE', key, tonumber(ttl))
end
"""

# KEYS[1] state. ARGV: attempt id, me, busy window µs, settle µs, look-up lease µs, ttl s, to,
# seq, lease key prefix. Returns {verdict, wait_us, since_us, state}: go | final | busy | reconcile.
# The owner's lease key is built here from the prefix (one Redis, no cluster slots).
_BEGIN: Final = (
    _GO_FN
    + _NOW_US
    + """
local st = redis.call('HGET', KEYS[1], 'state')
if st == 'sent' or st == 'failed' or st == 'ambiguous' then
  return {'final', 0, 0, st}
end
local me = ARGV[2]
if st == 'sending' and redis.call('HGET', KEYS[1], 'safe') ~= '1' then
  local looker = redis.call('HGET', KEYS[1], 'lookup_owner')
  local until_us = tonumber(redis.call('HGET', KEYS[1], 'lookup_until_us') or '0')
  if looker and looker ~= me and until_us > now then
    return {'busy', until_us - now, 0, st}
  end
  local busy = tonumber(ARGV[3])
  local ended = tonumber(redis.call('HGET', KEYS[1], 'ended_us') or '0')
  if ended == 0 then
    local started = tonumber(redis.call('HGET', KEYS[1], 'started_us') or '0')
    local owner = redis.call('HGET', KEYS[1], 'owner') or ''
    -- An owner of unknown name (an older notifier) counts as alive.
    local alive = owner ~= me and (owner == '' or redis.call('EXISTS', ARGV[9] .. owner) == 1)
    if alive and now - started < busy then
      return {'busy', started + busy - now, 0, st}
    end
    ended = now
    if alive then ended = started + busy end
    redis.call('HSET', KEYS[1], 'ended_us', string.format('%.0f', ended))
  end
  local wait = math.max(0, ended + tonumber(ARGV[4]) - now)
  redis.call('HSET', KEYS[1], 'lookup_owner', me, 'unknown', '1',
    'lookup_until_us', string.format('%.0f', now + wait + tonumber(ARGV[5])))
  local since = redis.call('HGET', KEYS[1], 'since_us') or redis.call('HGET', KEYS[1], 'started_us') or '0'
  return {'reconcile', wait, since, st}
end
go(KEYS[1], now, ARGV[1], me, ARGV[7], ARGV[8], ARGV[6])
return {'go', 0, 0, 'sending'}
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

# KEYS[1] state. ARGV: attempt id, last error. The attempt is over; Twilio may have created it.
_MARK_UNKNOWN: Final = (
    _NOW_US
    + """
local mine = redis.call('HGET', KEYS[1], 'attempt') == ARGV[1]
if mine and redis.call('HGET', KEYS[1], 'state') == 'sending' then
  redis.call('HSET', KEYS[1], 'ended_us', string.format('%.0f', now), 'last_error', ARGV[2])
  return 1
end
return 0
"""
)

# KEYS[1] state. ARGV: me, look-up lease µs. Extends this consumer's look-up; 0 if not its own.
_HOLD_LOOKUP: Final = (
    _NOW_US
    + """
if redis.call('HGET', KEYS[1], 'lookup_owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'lookup_until_us', string.format('%.0f', now + tonumber(ARGV[2])))
return 1
"""
)

# KEYS[1] state. ARGV: me, note. The look-up found nothing: another attempt may go.
_ABSENT: Final = """
local st = redis.call('HGET', KEYS[1], 'state')
if st ~= 'sending' or redis.call('HGET', KEYS[1], 'lookup_owner') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'safe', '1', 'last_error', ARGV[2])
redis.call('HDEL', KEYS[1], 'lookup_owner', 'lookup_until_us', 'ended_us')
redis.call('HINCRBY', KEYS[1], 'not_found', 1)
return 1
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

# KEYS: state, cursor, inbound stream, claim of the sid. ARGV: mode (record|emit), state, sid,
# code, message, ttl s, seq, force (0|1), cursor ttl s, entry field, envelope, reply id,
# found (1 when a look-up found the message).
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
    if new == 'sent' and ARGV[3] ~= '' then
      redis.call('SET', KEYS[4], ARGV[12], 'EX', tonumber(ARGV[6]))
    end
    if ARGV[13] == '1' then redis.call('HSET', KEYS[1], 'found', '1') end
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


# The whole happy path of a reply before its call, in one round trip: what `get`, `see`,
# `CustomerCursor.turn`, `TokenBucket.take` and `begin` do one after the other, stopping
# (with the effects so far, as those calls would leave them) at the first step that is not
# plain sailing; the caller goes on from there with the separate calls.
# KEYS: state, cursor, bucket. ARGV: ttl s, seq, cursor ttl s, interval µs, tolerance µs,
# max wait µs, attempt id, me, to.
# Returns {verdict, age µs, wait µs, state, sid, error code, error message}:
#   final   settled already (nothing marked); the rest is the recorded outcome
#   unsafe  an earlier attempt may have reached Twilio: `begin` decides (no token taken)
#   turn    its predecessor is not final: wait for the turn (no token taken)
#   pace    no token now (paused, or the next slot too far): take one the usual way
#   paced   a token reserved `wait` µs ahead: sleep, then `begin`
#   go      token taken and `sending` recorded for the attempt: make the call
_PREPARE: Final = (
    TAKE_FN
    + _GO_FN
    + _NOW_US
    + """
local h = redis.call('HMGET', KEYS[1], 'state', 'safe', 'sid', 'error_code', 'error_message')
local st = h[1]
if st == 'sent' or st == 'failed' or st == 'ambiguous' then
  return {'final', 0, 0, st, h[3] or '', h[4] or '', h[5] or ''}
end
redis.call('HSETNX', KEYS[1], 'first_seen_us', string.format('%.0f', now))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
local n = tonumber(ARGV[2])
local cur = tonumber(redis.call('HGET', KEYS[2], 'seq') or '0')
if n > cur then
  redis.call('HSET', KEYS[2], 's:' .. ARGV[2], math.floor(now / 1000000))
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
end
local age = now - tonumber(redis.call('HGET', KEYS[1], 'first_seen_us'))
local st_name = st or ''
if (h[2] or '1') ~= '1' then
  return {'unsafe', age, 0, st_name, '', '', ''}
end
if cur < n - 1 then
  return {'turn', age, 0, st_name, '', '', ''}
end
local status, wait = take_token(KEYS[3], now, tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]))
if status ~= 0 then
  return {'pace', age, 0, st_name, '', '', ''}
end
if wait > 0 then
  return {'paced', age, wait, st_name, '', '', ''}
end
go(KEYS[1], now, ARGV[7], ARGV[8], ARGV[9], ARGV[2], ARGV[1])
return {'go', age, 0, 'sending', '', '', ''}
"""
)


@dataclass(frozen=True, slots=True)
class Prepared:
    """`SendStates.prepare`'s verdict (see `_PREPARE`): `age_s` since the reply was first seen,
    `wait_s` the pace wait of `paced`, `state` the recorded outcome of `final`."""

    verdict: str
    age_s: float
    wait_s: float
    state: SendState


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
    """`SendStates.begin`'s verdict: `go`, `final` (with `state`), `busy` (for about `wait_s`),
    or `reconcile` (wait `wait_s`, then look up messages created since `since_s`, Unix seconds)."""

    verdict: str
    state: str
    wait_s: float
    since_s: float = 0.0


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value


class SendStates:
    """The send-state records of one key prefix; see the module docstring for the protocol."""

    def __init__(
        self,
        redis: aioredis.Redis,
        keys: Keys,
        *,
        ttl_s: int,
        cursor_ttl_s: int,
        lease_prefix: str = "",
        batcher: ScriptBatcher | None = None,
    ) -> None:
        """`lease_prefix` + a consumer's name is that consumer's lease key (`libs.streams.lease_key`);
        with a `batcher`, `prepare` and `settle` share round trips with other replies'."""
        self.redis = redis
        self.batcher = batcher
        self.keys = keys
        self.ttl_s = ttl_s
        self.cursor_ttl_s = cursor_ttl_s
        self.lease_prefix = lease_prefix
        self._begin = redis.register_script(_BEGIN)
        self._mark_safe = redis.register_script(_MARK_SAFE)
        self._mark_unknown = redis.register_script(_MARK_UNKNOWN)
        self._hold_lookup = redis.register_script(_HOLD_LOOKUP)
        self._absent = redis.register_script(_ABSENT)
        self._see = redis.register_script(_SEE)
        self._settle = redis.register_script(_SETTLE)
        self._prepare = redis.register_script(_PREPARE)

    async def _run(self, script: AsyncScript, *, keys: list[Any], args: list[Any]) -> Any:
        if self.batcher is not None:
            return await self.batcher.call(script, keys=keys, args=args)
        return await script(keys=keys, args=args)

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

    async def prepare(
        self, reply_id: str, attempt: str, *, customer: str, seq: int, me: str, bucket: TokenBucket
    ) -> Prepared:
        """See, check the turn, take a token from `bucket` and `begin` `attempt`, in one round trip,
        as far as each step goes without waiting (the verdicts are `_PREPARE`'s).

        The separate calls (`get`, `see`, `CustomerCursor.turn`, `TokenBucket.take`, `begin`)
        remain for every other path. Raises redis errors.
        """
        verdict, age_us, wait_us, state, sid, code, message = await self._run(
            self._prepare,
            keys=[self.keys.send_state(reply_id), self.keys.customer_cursor(customer), bucket.key],
            args=[self.ttl_s, seq, self.cursor_ttl_s, *bucket.script_args(), attempt, me, customer],
        )
        recorded = SendState(
            state=_text(state), sid=_text(sid), error_code=_text(code), error_message=_text(message)
        )
        return Prepared(_text(verdict), max(0, int(age_us)) / 1e6, int(wait_us) / 1e6, recorded)

    async def begin(
        self,
        reply_id: str,
        attempt: str,
        *,
        me: str,
        busy_window_s: float,
        settle_s: float,
        lookup_lease_s: float,
        to: str,
        seq: int,
    ) -> Begin:
        """Record `sending` for `attempt` by consumer `me` before calling Twilio, unless an earlier
        attempt may have reached it (see the module docstring for the verdicts).

        `busy_window_s` is the longest one call can take (connect + write + read timeouts);
        `settle_s` how long Twilio may take to finish a request it received; `lookup_lease_s`
        how long a look-up is this consumer's after the wait.
        """
        verdict, wait_us, since_us, state = await self._begin(
            keys=[self.keys.send_state(reply_id)],
            args=[
                attempt,
                me,
                int(busy_window_s * 1e6),
                int(settle_s * 1e6),
                int(lookup_lease_s * 1e6),
                self.ttl_s,
                to,
                seq,
                self.lease_prefix,
            ],
        )
        return Begin(_text(verdict), _text(state), int(wait_us) / 1e6, int(since_us) / 1e6)

    async def mark_safe(self, reply_id: str, attempt: str, error: str) -> bool:
        """Record that `attempt` provably did not reach Twilio (or was refused); allows a retry."""
        done = await self._mark_safe(keys=[self.keys.send_state(reply_id)], args=[attempt, error[:500]])
        return bool(done)

    async def mark_unknown(self, reply_id: str, attempt: str, error: str) -> bool:
        """Record that `attempt` is over with no readable answer: Twilio may have created it."""
        done = await self._mark_unknown(keys=[self.keys.send_state(reply_id)], args=[attempt, error[:500]])
        return bool(done)

    async def hold_lookup(self, reply_id: str, *, me: str, lease_s: float) -> bool:
        """Keep the look-up `me` holds for `lease_s` more; False when it is no longer `me`'s."""
        done = await self._hold_lookup(keys=[self.keys.send_state(reply_id)], args=[me, int(lease_s * 1e6)])
        return bool(done)

    async def absent(self, reply_id: str, *, me: str, note: str) -> bool:
        """The look-up `me` holds found nothing: allow another attempt. False when not `me`'s."""
        done = await self._absent(keys=[self.keys.send_state(reply_id)], args=[me, note[:500]])
        return bool(done)

    async def claims(self, sids: list[str]) -> dict[str, str]:
        """The reply id each of `sids` was settled for, when it was."""
        if not sids:
            return {}
        values = await self.redis.mget([self.keys.message_claim(sid) for sid in sids])
        return {sid: _text(v) for sid, v in zip(sids, values, strict=True) if v is not None}

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
        found: bool = False,
    ) -> tuple[str, bool]:
        """Record a final `state` (None: record nothing), finish the cursor, emit `envelope`;
        `found` marks a `sent` that a look-up found at Twilio.

        All in one script. Returns (state recorded now, whether the envelope was XADDed to the
        inbound stream); an envelope is not emitted when another attempt had settled the reply
        already with an outcome this one must not replace.
        """
        recorded, emitted = await self._run(
            self._settle,
            keys=[
                self.keys.send_state(reply_id),
                self.keys.customer_cursor(customer),
                self.keys.inbound,
                self.keys.message_claim(sid or "-"),
            ],
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
                reply_id,
                "1" if found else "0",
            ],
        )
        return _text(recorded), bool(emitted)
