-- Move up to `count` seeds from the start list to this worker's list, unless that list still holds seeds a
-- failed attempt took: then those again. Pushed 1,000 at a time: Lua's `unpack` fails past about 8,000 values
-- (its C stack), and the seeds popped before that error were lost.
local start_key, taken_key, seed_holders_key = KEYS[1], KEYS[2], KEYS[3]
local count, deadline, holder = ARGV[1], ARGV[2], ARGV[3]

local taken = redis.call('lrange', taken_key, 0, -1)
if #taken == 0 then
  taken = redis.call('lpop', start_key, count)
  if not taken then return {} end
  for i = 1, #taken, 1000 do redis.call('rpush', taken_key, unpack(taken, i, math.min(i + 999, #taken))) end
end
redis.call('zadd', seed_holders_key, deadline, holder)
return taken
