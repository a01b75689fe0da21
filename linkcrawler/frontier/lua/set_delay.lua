-- Record a site's own delay for `keep_seconds`; it counts from now.
-- KEYS[1] (the partition's heap) is only the key a cluster routes the call by.
local prefix, site, delay, keep_seconds = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now = server_time()

redis.call('set', prefix .. ':delay:' .. site, delay, 'EX', keep_seconds)
site_touched(prefix, site, tonumber(delay), now)
return 0
