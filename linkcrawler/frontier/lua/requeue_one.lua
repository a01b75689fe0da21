-- One lease back onto its site's queue (`give_back`): 1, or 0 for a lease that is gone.
local sites_key, leases_key = KEYS[1], KEYS[2]
local lease, prefix, default_delay = ARGV[1], ARGV[2], ARGV[3]
local now = server_time()

return give_back(prefix, sites_key, leases_key, lease, default_delay, now)
