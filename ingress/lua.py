"""The Lua scripts the ingress runs in Redis (atomic, one round trip each)."""

from __future__ import annotations

# KEYS: 1 ip bucket, 2 user bucket, 3 idempotency record, 4 open-holds zset, 5 the item's
# cached availability ("" = not used). ARGV: 1 charge rates (1/0), 2 lock record, 3 hold
# member, 4 quantity. The configuration (period, limits,
# lock ttl, cap, stale age) is written into the script text: fewer arguments per call.
ADMISSION = """
local PERIOD, LIMITS, LOCK_MS = $period_us, {$ip_rate, $user_rate}, $lock_ms
local CAP, STALE_MS = $holds_cap, $stale_ms
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit, remaining, reset, retry = 0, -1, 0, 0
if ARGV[1] == '1' then
  local period, ok, tats = PERIOD, true, {}
  for i = 1, 2 do
    local key = KEYS[i]
    if key ~= '' then
      local lim = LIMITS[i]
      local interval = math.max(1, math.floor(period / lim))
      local tat = tonumber(redis.call('GET', key) or now)
      if tat < now then tat = now end
      local new_tat = tat + interval
      local wait = new_tat - period - now
      local rem, rst
      if wait > 0 then
        ok = false
        if wait > retry then retry = wait end
        rem, rst = 0, tat - now
      else
        rem, rst = math.floor((period - (new_tat - now)) / interval), new_tat - now
      end
      tats[i] = new_tat
      if remaining < 0 or rem < remaining then limit, remaining, reset = lim, rem, rst end
    end
  end
  local rate = {limit, remaining, math.ceil(reset / 1000000), math.ceil(retry / 1000000)}
  if not ok then return {1, rate} end
  for i = 1, 2 do
    if KEYS[i] ~= '' then
      local ttl = math.ceil((tats[i] - now) / 1000) + 1
      redis.call('SET', KEYS[i], string.format('%.0f', tats[i]), 'PX', ttl)
    end
  end
end
local rate = {limit, remaining, math.ceil(reset / 1000000), 0}
local claimed = false
if KEYS[3] ~= '' then
  if not redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', LOCK_MS) then
    local existing = redis.call('GET', KEYS[3])
    -- our own lock record (its owner token is unique): a retry of a call whose reply was lost
    if existing ~= ARGV[2] then return {2, rate, existing} end
  end
  claimed = true
end
if KEYS[5] ~= '' then
  local raw = redis.call('GET', KEYS[5])
  if raw then
    local ok, item = pcall(cjson.decode, raw)
    if ok and type(item) == 'table' and type(item.available) == 'number'
        and item.available < tonumber(ARGV[4]) then
      if claimed then redis.call('DEL', KEYS[3]) end
      return {4, rate}
    end
  end
end
if KEYS[4] ~= '' then
  local now_ms = math.floor(now / 1000)
  -- take the slot first (NX: a retry keeps its own); only a set over the cap is worth
  -- purging of entries older than the hold TTL, and counted again
  if redis.call('ZADD', KEYS[4], 'NX', now_ms, ARGV[3]) == 1 then
    if redis.call('ZCARD', KEYS[4]) > CAP then
      redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now_ms - STALE_MS)
      if redis.call('ZCARD', KEYS[4]) > CAP then
        redis.call('ZREM', KEYS[4], ARGV[3])
        if claimed then redis.call('DEL', KEYS[3]) end
        return {3, rate}
      end
    end
    redis.call('PEXPIRE', KEYS[4], STALE_MS)
  end
end
return {0, rate}
"""


# One round trip after the handler. KEYS: 1 record, 2 holds zset ('' = none), 3.. the
# handler's writes. ARGV: 1 'store'|'release', 2 owner token, 3 record, 4 record ttl,
# 5 hold member, 6 give the hold back ('1'), then (value, ttl) per write.
# Release deletes only our own lock (owner token inside), never a stored response.
FINISH = """
for i = 3, #KEYS do
  redis.call('SET', KEYS[i], ARGV[5 + 2 * (i - 2)], 'EX', ARGV[6 + 2 * (i - 2)])
end
if ARGV[1] == 'store' then
  redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4])
else
  local raw = redis.call('GET', KEYS[1])
  if raw and string.find(raw, ARGV[2], 1, true) then redis.call('DEL', KEYS[1]) end
end
if KEYS[2] ~= '' and ARGV[6] == '1' then redis.call('ZREM', KEYS[2], ARGV[5]) end
return 1
"""
