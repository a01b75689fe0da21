-- A request to a site starts now unless the site's delay forbids it: 0, or the milliseconds to wait first.
-- KEYS[1] (the partition's heap) is only the key a cluster routes the call by.
local prefix, site, default_delay = ARGV[1], ARGV[2], tonumber(ARGV[3])
local now = server_time()

local delay = site_delay(prefix, site, default_delay)
if delay <= 0 then return 0 end
local last = tonumber(redis.call('get', site_clock(prefix, site)) or 0)
if last + delay > now then return math.ceil((last + delay - now) * 1000) end
site_touched(prefix, site, delay, now)
return 0
