-- The seeds taken by holders whose deadline is past `now` back to the head of the start list; how many.
-- A holder's seeds are in `{seeds_prefix}:{holder}`, in the start list's hash slot.
local start_key, seed_holders_key, seeds_prefix = KEYS[1], KEYS[2], KEYS[3]
local expired_by = ARGV[1]

local expired = redis.call('zrangebyscore', seed_holders_key, '-inf', expired_by)
local moved = 0
for _, holder in ipairs(expired) do
  redis.call('zrem', seed_holders_key, holder)
  while redis.call('lmove', seeds_prefix .. ':' .. holder, start_key, 'RIGHT', 'LEFT') do moved = moved + 1 end
end
return moved
