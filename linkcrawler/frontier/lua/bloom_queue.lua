-- `set_queue.lua` for Bloom filters: per request (ARGV[5..]), the index in KEYS of its filter partition (0: never
-- filtered), its k bit offsets, then the score, request, budget domain and site. KEYS[3..] are the filter's
-- partitions the requests touch.
local sites_key, budgets_key = KEYS[1], KEYS[2]
local limit, size, k, prefix = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local first_entry = 5  -- ARGV[first_entry..]: the requests, k + 5 values each
local now = server_time()

local results = {}
for i = first_entry, #ARGV, k + 5 do
  local key = tonumber(ARGV[i])
  if key > 0 and bloom_add(KEYS[key], size, ARGV, i + 1, i + k) == 1 then
    results[#results + 1] = 0
  else
    results[#results + 1] = queue_new(prefix, sites_key, budgets_key, limit, ARGV[i + k + 1], ARGV[i + k + 2],
      ARGV[i + k + 3], ARGV[i + k + 4], now)
  end
end
return results
