-- A request the frontier never handed out (robots.txt) is over: the site's delay counts from now.
-- KEYS[1] (the partition's heap) is only the key a cluster routes the call by.
local prefix, site, default_delay = ARGV[1], ARGV[2], tonumber(ARGV[3])
local now = server_time()

local delay = site_delay(prefix, site, default_delay)
if delay > 0 then site_touched(prefix, site, delay, now) end
return 0
