-- Mark seen in the set `seen_key`, count and queue each request (ARGV[3..], five values each: fingerprint, ''
-- for one never filtered; score; request; registered domain, '' when no budget applies; site). Per request,
-- `queue_new`'s result, or 0 when it was seen.
local sites_key, budgets_key, seen_key = KEYS[1], KEYS[2], KEYS[3]
local limit, prefix = tonumber(ARGV[1]), ARGV[2]
local first_entry = 3  -- ARGV[first_entry..]: the requests, five values each
local now = server_time()

local results = {}
for i = first_entry, #ARGV, 5 do
  if ARGV[i] ~= '' and redis.call('sadd', seen_key, ARGV[i]) == 0 then
    results[#results + 1] = 0
  else
    results[#results + 1] = queue_new(prefix, sites_key, budgets_key, limit, ARGV[i + 1], ARGV[i + 2], ARGV[i + 3],
      ARGV[i + 4], now)
  end
end
return results
