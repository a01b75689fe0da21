-- Downloads are over: free each slot (ARGV[3..], pairs of site and lease id) in the partition of the heap
-- KEYS[1], and bring its site forward to when it may be ready (`release_slot`).
local sites_key = KEYS[1]
local prefix, default_delay = ARGV[1], ARGV[2]
local first_slot = 3  -- ARGV[first_slot..]: site, lease id, site, lease id...
local now = server_time()

for i = first_slot, #ARGV, 2 do release_slot(prefix, sites_key, ARGV[i], ARGV[i + 1], default_delay, now) end
