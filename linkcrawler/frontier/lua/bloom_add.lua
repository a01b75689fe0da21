-- Set a fingerprint's bits (ARGV[2..]) in the filter partition KEYS[1] of `size` bytes; 1 when they were all set
-- already.
local partition_key = KEYS[1]
local size = tonumber(ARGV[1])
local first_offset = 2  -- ARGV[first_offset..]: the bit offsets

return bloom_add(partition_key, size, ARGV, first_offset, #ARGV)
