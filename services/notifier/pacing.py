"""The outbound pace: one token bucket per sender in Redis, shared by every notifier replica.

WhatsApp senders are limited to a messages-per-second rate (80 by default,
https://www.twilio.com/docs/whatsapp/api#rate-limiting ; going over surfaces as error 63018,
https://www.twilio.com/docs/api/errors/63018). The bucket lives in one Redis hash,
`Keys.token_bucket(sender)`, updated by one Lua script, so all replicas draw from the same
tokens and the Redis clock (`TIME`) is the only clock.

The bucket is kept in its "virtual scheduling" form (GCRA, equivalent to a token bucket of
`burst` tokens refilled at `rate` per second): the hash stores `tat`, the time at which the
bucket will be full again. Taking a token reserves the next free slot and returns how long to
wait for it, so callers sleep exactly once instead of polling. A reservation further away than
`max_wait_s` is not made (the caller backs off and asks again).

The same hash holds `paused_until`: after Twilio's daily cap (63038) every replica stops
sending from that sender until then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import redis.asyncio as aioredis

# take_token(key, now µs, interval µs, tolerance µs, max wait µs) returns status, micros:
# 0 = token taken, wait micros; 1 = too far, retry in micros (nothing reserved); 2 = paused for
# micros. Shared with the per-reply script of `services.notifier.send_state`.
TAKE_FN: Final = """
local function take_token(key, now, interval, tolerance, max_wait)
  local paused = tonumber(redis.call('HGET', key, 'paused_until') or '0')
  if paused > now then
    return 2, paused - now
  end
  local tat = tonumber(redis.call('HGET', key, 'tat') or '0')
  if tat < now then tat = now end
  local wait = tat - now - tolerance
  if wait < 0 then wait = 0 end
  if wait > max_wait then
    return 1, wait - max_wait
  end
  local new_tat = tat + interval
  redis.call('HSET', key, 'tat', string.format('%.0f', new_tat))
  local ttl_ms = math.ceil((math.max(new_tat, paused) - now) / 1000) + 1000
  redis.call('PEXPIRE', key, ttl_ms)
  return 0, wait
end
"""

# KEYS[1] bucket hash. ARGV: interval_us, burst_us (tolerance), max_wait_us.
# Returns {status, micros} as take_token.
_TAKE: Final = (
    TAKE_FN
    + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local status, micros = take_token(KEYS[1], now, tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
return {status, micros}
"""
)

# KEYS[1] bucket hash. ARGV: pause_us. Extends, never shortens, a pause.
_PAUSE: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local untl = now + tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'paused_until') or '0')
if untl > current then
  redis.call('HSET', KEYS[1], 'paused_until', string.format('%.0f', untl))
  local ttl = redis.call('PTTL', KEYS[1])
  local want = math.ceil(tonumber(ARGV[1]) / 1000) + 1000
  if ttl < want then redis.call('PEXPIRE', KEYS[1], want) end
  return untl - now
end
return current - now
"""


@dataclass(frozen=True, slots=True)
class Grant:
    """The answer of `TokenBucket.take`, in seconds.

    `wait_s`: when `granted`, how long to sleep before sending (the reserved slot); otherwise
    how long to back off before asking again. `paused` is True while the sender is paused.
    """

    granted: bool
    wait_s: float
    paused: bool = False


class TokenBucket:
    """`rate` tokens per second, at most `burst` at once, for the sender whose key is `key`."""

    def __init__(
        self, redis: aioredis.Redis, key: str, *, rate: float, burst: int, max_wait_s: float = 5.0
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.redis = redis
        self.key = key
        self.rate = rate
        self.burst = burst
        self.max_wait_s = max_wait_s
        self._take = redis.register_script(_TAKE)
        self._pause = redis.register_script(_PAUSE)

    def script_args(self) -> list[str]:
        """`TAKE_FN`'s interval, tolerance and max wait (µs, as strings) for this bucket."""
        interval_us = 1_000_000 / self.rate
        tolerance_us = interval_us * (self.burst - 1)
        return [f"{interval_us:.0f}", f"{tolerance_us:.0f}", str(int(self.max_wait_s * 1e6))]

    async def take(self) -> Grant:
        """Reserve one token. Raises redis errors (the caller treats Redis as unavailable)."""
        status, micros = await self._take(keys=[self.key], args=self.script_args())
        seconds = int(micros) / 1e6
        if int(status) == 0:
            return Grant(granted=True, wait_s=seconds)
        return Grant(granted=False, wait_s=seconds, paused=int(status) == 2)

    async def pause(self, seconds: float) -> float:
        """Stop every replica taking tokens for `seconds` (extends, never shortens, a pause).

        Returns the seconds left on the pause now in force.
        """
        left = await self._pause(keys=[self.key], args=[int(seconds * 1e6)])
        return int(left) / 1e6

    async def paused_for(self) -> float:
        """Seconds left on the current pause (0 when not paused), for operators and tests."""
        seconds, micros = await self.redis.time()
        now_us = int(seconds) * 1_000_000 + int(micros)
        raw = await self.redis.hget(self.key, "paused_until")
        if raw is None:
            return 0.0
        return max(0.0, (int(raw) - now_us) / 1e6)
