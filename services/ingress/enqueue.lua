-- Dedupe, per-customer window count and XADD of one webhook, atomically (one EVALSHA).
--
-- KEYS[1] dedupe key, KEYS[2] stream, KEYS[3] (messages only) the customer's window counter
-- ARGV[1] dedupe TTL (s), ARGV[2] envelope JSON up to and including `"fields":{`,
-- ARGV[3] the rest of the envelope, ARGV[4] messages per window, ARGV[5] window (ms)
-- Returns {0} for a duplicate, else {1, entry id, flag} with flag '', 'first' or 'yes'.
--
-- Redis runs a script alone and does not roll it back on error, so every check and the
-- command that can fail (XADD: wrong type, OOM) come before any key is written.
-- XADD has no MAXLEN: the consumers trim with MINID below their oldest unacked entry, and
-- MAXLEN here could drop entries no one has processed yet.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0}
end
local flag = ''
local n = 0
if #KEYS >= 3 then
  n = tonumber(redis.call('GET', KEYS[3]) or '0') + 1
  local limit = tonumber(ARGV[4])
  if n == limit + 1 then
    flag = 'first'
  elseif n > limit + 1 then
    flag = 'yes'
  end
end
local entry
if flag == '' then
  entry = ARGV[2] .. ARGV[3]
else
  entry = ARGV[2] .. '"_throttled":"' .. flag .. '",' .. ARGV[3]
end
local id = redis.call('XADD', KEYS[2], '*', 'e', entry)
if n > 0 then
  redis.call('INCR', KEYS[3])
  if n == 1 then
    redis.call('PEXPIRE', KEYS[3], ARGV[5])
  end
end
redis.call('SET', KEYS[1], id, 'EX', ARGV[1])
return {1, id, flag}
