-- Pop up to #ARGV - 6 requests from the sites that are ready, leased under the ids ARGV[7..].
--
-- A site with a delay gets one request at a time, and the next only once its delay has passed since the previous
-- one ended (`release_slot`). Idempotent per lease id: a retried call returns what it leased. Replies the
-- leases' values (`site|score|request`, as the leases hash holds them), the seconds until the next site may be
-- ready (-1: no site queued) and the partition's run count (`keys.RUN`).
local sites_key, leases_key, holders_key = KEYS[1], KEYS[2], KEYS[3]
local deadline, holder, prefix = ARGV[1], ARGV[2], ARGV[3]
local concurrency, default_delay, slot_seconds = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local first_lease = 7  -- ARGV[first_lease..]: the lease ids
local now = server_time()

local popped = {}
local n = first_lease
while n <= #ARGV do
  local held = redis.call('hget', leases_key, ARGV[n])
  if not held then break end
  popped[#popped + 1] = held
  n = n + 1
end
local retried = #popped
while n <= #ARGV do
  local ready = redis.call('zrangebyscore', sites_key, '-inf', now, 'LIMIT', 0, #ARGV - n + 1)
  if #ready == 0 then break end
  local progress = false
  for _, site in ipairs(ready) do
    if n > #ARGV then break end
    local queue, slots = site_queue(prefix, site), site_slots(prefix, site)
    local delay = site_delay(prefix, site, default_delay)
    local limit, busy, last = concurrency, 0, 0
    if delay > 0 then limit = math.min(concurrency, 1) end
    if limit > 0 then busy = redis.call('zcount', slots, '(' .. now, '+inf') end
    if delay > 0 then last = tonumber(redis.call('get', site_clock(prefix, site)) or 0) end
    if limit > 0 and busy >= limit then
      redis.call('zremrangebyscore', slots, '-inf', now)
      redis.call('zadd', sites_key, redis.call('zrange', slots, 0, 0, 'WITHSCORES')[2], site)
    elseif last + delay > now then
      redis.call('zadd', sites_key, last + delay, site)
    else
      local top = redis.call('zpopmin', queue)
      if #top == 0 then
        redis.call('zrem', sites_key, site)
      else
        local leased = site .. '|' .. top[2] .. '|' .. top[1]
        redis.call('hset', leases_key, ARGV[n], leased)
        if concurrency > 0 then
          redis.call('zadd', slots, now + slot_seconds, ARGV[n])
          redis.call('pexpire', slots, math.ceil(slot_seconds * 1000) + 1000)
        end
        popped[#popped + 1] = leased
        n = n + 1
        progress = true
        local left = redis.call('zcard', queue)
        if left == 0 then
          redis.call('zrem', sites_key, site)
        elseif limit > 0 and busy + 1 >= limit then
          redis.call('zadd', sites_key, now + slot_seconds, site)
        elseif delay > 0 then
          redis.call('zadd', sites_key, now + delay, site)
        else
          redis.call('zadd', sites_key, now - head_start(left), site)
        end
      end
    end
  end
  if not progress then break end
end
if #popped > retried then redis.call('decrby', prefix .. ':queued', #popped - retried) end
if #popped > 0 then redis.call('zadd', holders_key, deadline, holder) end
local first = redis.call('zrange', sites_key, 0, 0, 'WITHSCORES')
local wait = -1
if #first > 0 then wait = math.max(0, tonumber(first[2]) - now) end
return {popped, tostring(wait), redis.call('get', prefix .. ':run') or '0'}
