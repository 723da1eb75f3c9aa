"""Order per customer: each customer's replies reach Twilio in the order orders wrote them.

orders numbers a customer's replies with `seq` = 1, 2, 3, ... (consecutive, from 1). The
customer's cursor, a Redis hash at `Keys.customer_cursor(To)`, holds:

- `seq`: the highest n such that every reply 1..n has a final outcome (sent, failed,
  ambiguous, or dead-lettered); a missing cursor means 0;
- `d:<n>`: final outcomes above `seq` that arrived out of turn (a dead-lettered reply whose
  predecessor was still in flight); the cursor steps over them once the gap before them closes;
- `s:<n>`: reply n has been seen by a notifier and is not final yet (in flight, retrying,
  waiting for its turn, or held while Twilio or Redis is down); the value is when it was last
  seen (Unix seconds, Redis clock).

The rule, applied by every notifier replica:
1. Reply n may be handed to Twilio once `seq >= n - 1` (its predecessor is final).
2. After n's outcome is final, `finish(n)` advances the cursor, atomically with recording the
   outcome; a dead-lettered reply is finished too, so a customer is never stuck behind it.
3. A reply with `n <= seq` that is not final yet was stepped over (a replay of a dead letter,
   or a gap skip below): it is sent at once, without waiting.
4. A reply waits for its predecessor in the handler for a bounded time, then stays pending
   and is delivered again. While any reply between the cursor and n has been seen (`s:`),
   it keeps waiting however long that takes: the earlier reply will end sent, failed or
   dead-lettered. Only when none has been seen for the gap timeout since n was first seen (a
   seq orders never published) is n sent anyway, and the cursor jumps to it
   (`finish(n, force=True)`).
5. A customer with no position at all (no `seq`: a cursor expired after a long idle time, or
   lost with everything else when Redis restarted empty) waits `FIRST_GAP_S` instead of the
   gap timeout: its earlier replies are final or gone, and one published just before n is
   seen within moments (the consumer hands every entry to its lane as soon as it is read).

Cursors expire after a long idle time (30 days by default) so the key space stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import redis.asyncio as aioredis

# A Lua function shared with the send-state script, which finishes a reply atomically with
# recording its outcome. finish_cursor(key, n, force, ttl_s) returns the new contiguous seq.
FINISH_FN: Final = """
local function finish_cursor(key, n, force, ttl)
  local cur = tonumber(redis.call('HGET', key, 'seq') or '0')
  if n > cur then
    if force or n == cur + 1 then
      cur = n
    else
      redis.call('HSET', key, 'd:' .. n, 1)
    end
  end
  redis.call('HDEL', key, 's:' .. n)
  local done = {}
  for _, field in ipairs(redis.call('HKEYS', key)) do
    local kind = string.sub(field, 1, 2)
    if kind == 'd:' or kind == 's:' then
      local m = tonumber(string.sub(field, 3))
      if m == nil or m <= cur then
        redis.call('HDEL', key, field)
      elseif kind == 'd:' then
        done[m] = field
      end
    end
  end
  while done[cur + 1] do
    redis.call('HDEL', key, done[cur + 1])
    cur = cur + 1
  end
  redis.call('HSET', key, 'seq', cur)
  redis.call('EXPIRE', key, ttl)
  return cur
end
"""

# KEYS[1] cursor hash. ARGV: n, force (0|1), ttl_s.
_FINISH: Final = (
    FINISH_FN
    + """
return finish_cursor(KEYS[1], tonumber(ARGV[1]), ARGV[2] == '1', tonumber(ARGV[3]))
"""
)

# How long a reply of a customer without a position waits for a predecessor not seen (rule 5).
FIRST_GAP_S: Final = 2.0

# KEYS[1] cursor hash. ARGV: n, stale_s. Returns {position, replies seen between position and
# n, 1 if the cursor has a position}. A mark older than stale_s is not counted: its reply's
# settling was lost (Redis failed while a dead letter was settled), and the customer must not
# wait on it forever.
_TURN: Final = """
local position = redis.call('HGET', KEYS[1], 'seq')
local cur = tonumber(position or '0')
local n = tonumber(ARGV[1])
local now = tonumber(redis.call('TIME')[1])
local seen = 0
if cur < n - 1 then
  local fields = redis.call('HGETALL', KEYS[1])
  for i = 1, #fields, 2 do
    local field = fields[i]
    if string.sub(field, 1, 2) == 's:' then
      local m = tonumber(string.sub(field, 3))
      local at = tonumber(fields[i + 1]) or 0
      if m ~= nil and m > cur and m < n and now - at < tonumber(ARGV[2]) then seen = seen + 1 end
    end
  end
end
return {cur, seen, position and 1 or 0}
"""


@dataclass(frozen=True, slots=True)
class Turn:
    """Where a customer's cursor stands for reply `seq`: its position, the replies in flight
    before it, and whether the cursor has a position at all (rule 5)."""

    position: int
    seen_before: int
    known: bool = True

    def ready(self, seq: int) -> bool:
        """Rule 1 and 3: the predecessor of `seq` is final (or `seq` was stepped over)."""
        return self.position >= seq - 1


class CustomerCursor:
    """Reads and advances customers' cursors; see the module docstring for the rule."""

    def __init__(self, redis: aioredis.Redis, key_of: Callable[[str], str], *, ttl_s: int) -> None:
        """`key_of(customer)` names the cursor key (`Keys.customer_cursor`)."""
        self.redis = redis
        self.key_of = key_of
        self.ttl_s = ttl_s
        self._finish = redis.register_script(_FINISH)
        self._turn = redis.register_script(_TURN)

    async def position(self, customer: str) -> int:
        """The customer's contiguous final seq (0 when there is no cursor)."""
        raw = await self.redis.hget(self.key_of(customer), "seq")
        return int(raw) if raw is not None else 0

    async def turn(self, customer: str, seq: int, *, stale_s: float) -> Turn:
        """The cursor as reply `seq` sees it (one round trip); marks older than `stale_s` don't count."""
        position, seen, known = await self._turn(keys=[self.key_of(customer)], args=[seq, int(stale_s)])
        return Turn(int(position), int(seen), bool(int(known)))

    async def ready(self, customer: str, seq: int) -> bool:
        """True when reply `seq` may be sent now: its predecessor is final (rules 1 and 3)."""
        return await self.position(customer) >= seq - 1

    async def finish(self, customer: str, seq: int, *, force: bool = False) -> int:
        """Mark reply `seq` final and advance the cursor; returns the new position.

        `SendStates.settle` does the same inside its own script; this one serves replies
        settled without a state change and tests.
        """
        args = [str(seq), "1" if force else "0", str(self.ttl_s)]
        return int(await self._finish(keys=[self.key_of(customer)], args=args))
