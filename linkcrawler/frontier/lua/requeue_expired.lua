-- The leases of every holder whose deadline is past `now` back onto their sites' queues (`give_back`); how many.
local sites_key, leases_key, holders_key = KEYS[1], KEYS[2], KEYS[3]
local expired_by, prefix, default_delay = ARGV[1], ARGV[2], ARGV[3]
local now = server_time()

local expired = redis.call('zrangebyscore', holders_key, '-inf', expired_by)
if #expired == 0 then return 0 end
local dead = {}
local moved = 0
for _, holder in ipairs(expired) do
  dead[holder] = true
  redis.call('zrem', holders_key, holder)
end
local leases = redis.call('hkeys', leases_key)
for _, lease in ipairs(leases) do
  local holder = string.match(lease, '^(.*)#')
  if holder and dead[holder] then
    moved = moved + give_back(prefix, sites_key, leases_key, lease, default_delay, now)
  end
end
return moved
