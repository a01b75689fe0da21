-- Functions the frontier's scripts share: the loader (`linkcrawler.frontier.lua`) puts this file in front of
-- every script. Nothing here runs on its own or reads KEYS or ARGV: each function is given the key names and
-- the time it works with.
--
-- Per-site keys are built from a partition's prefix (`linkcrawler.frontier.partitions`): a site's queue
-- `{prefix}:queue:{site}`, its slots in flight `{prefix}:slots:{site}`, its clock `{prefix}:last:{site}` and its
-- own delay `{prefix}:delay:{site}`; `{prefix}:queued` counts the partition's queued requests.

-- The Redis clock, in seconds: every script that reads the time reads it once, first.
local function server_time()
  local clock = redis.call('TIME')
  return tonumber(clock[1]) + tonumber(clock[2]) / 1000000
end

local function site_queue(prefix, site) return prefix .. ':queue:' .. site end
local function site_slots(prefix, site) return prefix .. ':slots:' .. site end
local function site_clock(prefix, site) return prefix .. ':last:' .. site end

local function site_delay(prefix, site, default_delay)
  return tonumber(redis.call('get', prefix .. ':delay:' .. site) or default_delay)
end

local function site_touched(prefix, site, delay, now)
  redis.call('set', site_clock(prefix, site), string.format('%.6f', now), 'PX', math.ceil(delay * 1000))
end

-- A request onto its site's queue, the site onto the heap `sites_key` if absent.
local function enqueue(prefix, sites_key, site, score, data, now)
  if redis.call('zadd', site_queue(prefix, site), score, data) == 1 then
    redis.call('incr', prefix .. ':queued')
  end
  redis.call('zadd', sites_key, 'NX', now, site)
end

-- Puts a site that is ready again ahead of the others by 50 ms per queued request (at most 5 s): when more sites
-- are ready than the workers have room for, the sites with the most work left go first, so the biggest do not
-- finish last (the longest-queue-first rule for a short makespan), while a site that has waited 5 s longer than
-- another goes first whatever their queues (no site starves). On the latency-bound bench web, 10 ms per request
-- (at most 2 s) gave one worker 0.74-0.77 of the bound, 50 ms 0.89-0.90, 500 ms 0.73 (the first links found
-- decide too much).
local function head_start(queued)
  return math.min(queued, 100) / 20
end

-- A lease's value, `site|score|request`: its three parts.
local function lease_parts(value)
  local first = string.find(value, '|', 1, true)
  local second = string.find(value, '|', first + 1, true)
  return string.sub(value, 1, first - 1), tonumber(string.sub(value, first + 1, second - 1)),
    string.sub(value, second + 1)
end

-- A leased request back onto its site's queue, its slot freed and its site due now (the pop checks the site's
-- delay again); 1, or 0 for a lease that is gone.
local function give_back(prefix, sites_key, leases_key, lease, default_delay, now)
  local value = redis.call('hget', leases_key, lease)
  if not value then return 0 end
  local site, score, data = lease_parts(value)
  enqueue(prefix, sites_key, site, score, data, now)
  if redis.call('zrem', site_slots(prefix, site), lease) == 1 then
    local delay = site_delay(prefix, site, default_delay)
    if delay > 0 then site_touched(prefix, site, delay, now) end
  end
  redis.call('zadd', sites_key, 'LT', now, site)
  redis.call('hdel', leases_key, lease)
  return 1
end

-- Free the slot `lease` holds on `site`, and bring the site forward in the heap to when it may be ready: with a
-- delay, the delay after now, the request's end (or later: the worker sends this with its next round trip).
local function release_slot(prefix, sites_key, site, lease, default_delay, now)
  if redis.call('zrem', site_slots(prefix, site), lease) == 0 then return end
  local delay = site_delay(prefix, site, default_delay)
  local ready = now - head_start(redis.call('zcard', site_queue(prefix, site)))
  if delay > 0 then
    site_touched(prefix, site, delay, now)
    ready = now + delay
  end
  redis.call('zadd', sites_key, 'XX', 'LT', ready, site)
end

-- Count one request against its domain's budget (the hash `budgets_key`; no budget for domain '') and queue it
-- on its site: 1 queued, -1 over budget. The queueing scripts return one such result per request, or 0 when it
-- was seen.
local function queue_new(prefix, sites_key, budgets_key, limit, score, data, domain, site, now)
  if domain ~= '' and redis.call('hincrby', budgets_key, domain, 1) > limit then
    return -1
  end
  enqueue(prefix, sites_key, site, score, data, now)
  return 1
end

-- Set the bits `offsets[first..last]` of the Bloom filter partition `key` (created at `size` bytes if missing);
-- 1 when they were all set already.
local function bloom_add(key, size, offsets, first, last)
  if redis.call('EXISTS', key) == 0 then
    redis.call('SETRANGE', key, size - 1, '\0')
  end
  for i = first, last do
    if redis.call('GETBIT', key, offsets[i]) == 0 then
      for j = i, last do
        redis.call('SETBIT', key, offsets[j], 1)
      end
      return 0
    end
  end
  return 1
end
