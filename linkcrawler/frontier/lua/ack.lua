-- Done with these leases (ARGV[3..]): each is deleted, and a slot still held under it freed. Unknown ids
-- (already recovered by another worker) are ignored.
local sites_key, leases_key = KEYS[1], KEYS[2]
local prefix, default_delay = ARGV[1], ARGV[2]
local first_lease = 3  -- ARGV[first_lease..]: the lease ids
local now = server_time()

for i = first_lease, #ARGV do
  local value = redis.call('hget', leases_key, ARGV[i])
  if value then
    local site = lease_parts(value)
    release_slot(prefix, sites_key, site, ARGV[i], default_delay, now)
    redis.call('hdel', leases_key, ARGV[i])
  end
end
return 1
