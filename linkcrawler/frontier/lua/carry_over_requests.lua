-- Per (member, site, score, request, partition prefix) in ARGV[2..]: remove the member from the old sorted set
-- or hash `old_key` (`kind` says which) and queue the request on its site in its partition, only if it was
-- still there; how many moved.
local old_key = KEYS[1]
local kind = ARGV[1]
local first_entry = 2  -- ARGV[first_entry..]: the requests, five values each
local now = server_time()

local moved = 0
for i = first_entry, #ARGV, 5 do
  local removed
  if kind == 'zset' then removed = redis.call('zrem', old_key, ARGV[i])
  else removed = redis.call('hdel', old_key, ARGV[i]) end
  if removed == 1 then
    enqueue(ARGV[i + 4], ARGV[i + 4] .. ':sites', ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], now)
    moved = moved + 1
  end
end
return moved
