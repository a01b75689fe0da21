-- Whether each fingerprint's bits are all set, changing nothing: per fingerprint (ARGV[2..]), the index in KEYS of
-- its filter partition, then its k bit offsets; 1 or 0 each.
local k = tonumber(ARGV[1])
local first_fingerprint = 2  -- ARGV[first_fingerprint..]: the fingerprints, k + 1 values each

local results = {}
for i = first_fingerprint, #ARGV, k + 1 do
  local key, found = KEYS[tonumber(ARGV[i])], 1
  for j = i + 1, i + k do
    if redis.call('GETBIT', key, ARGV[j]) == 0 then
      found = 0
      break
    end
  end
  results[#results + 1] = found
end
return results
