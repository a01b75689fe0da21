"""Requests wait in Redis per site, and a pop hands out only what may start now: politeness, shared by all workers.

A site is a host, or a registered domain with `POLITENESS_BY=domain`. Each
site has its own sorted set of requests (`{prefix}:queue:{site}`, best
first: scored by minus the priority, so by depth with Scrapy's
`DEPTH_PRIORITY`), and `{prefix}:sites` is the heap of sites with queued
work, scored by the time each may next be fetched, as Mercator's and
Heritrix's frontiers keep it. A pop (one Lua script, timed by the Redis
clock) walks the sites whose time has come, oldest first, and takes each
one's best request while the site has fewer than `POLITENESS_CONCURRENCY`
requests in flight (`{prefix}:slots:{site}`, lease ids scored by when the
slot expires) and its delay has passed (`POLITENESS_DELAY`, or the
robots.txt Crawl-delay recorded for it in
`{prefix}:delay:{site}`). A site with a delay gets one request at a time,
and its next only once the delay has passed since that one ended
(`{prefix}:last:{site}`, written when a request ends and expiring with the
delay): the server then never sees two of its requests closer than the
delay, however late a request left its worker. A site served goes to the
back of the heap: pops rotate over the sites, and a worker never holds a
request its site is not ready for. A site that is full or waiting on its
delay is rescored to the time it may be ready; a response frees its slot
(`SiteClock.release_calls`) and brings the site forward again.

`{prefix}` is one partition's (`linkcrawler.frontier.partitions`): every
script here touches the keys of one partition, one hash slot of a Redis
Cluster. `{prefix}:queued` counts the partition's queued requests.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from linkcrawler import config
from linkcrawler.errors import UserError
from linkcrawler.extract.urls import split_host
from linkcrawler.frontier import keys
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.frontier.roundtrips import Call

SLOT_META = "frontier_slot"
"""`request.meta` key of a popped request: (lease id its site's slot is held under, `time.monotonic()` of the pop)."""
SITE_DELAY_SECONDS = 86_400
"""How long a site's own delay (its robots.txt Crawl-delay) is kept after a worker last wrote it: a day, as long as
a robots.txt is shared (`ROBOTSTXT_SHARE_SECONDS`' default). Workers write it again after half of that."""

SITE_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local function site_queue(prefix, site) return prefix .. ':queue:' .. site end
local function site_slots(prefix, site) return prefix .. ':slots:' .. site end
local function site_clock(prefix, site) return prefix .. ':last:' .. site end
local function site_delay(prefix, site, default_delay)
  return tonumber(redis.call('get', prefix .. ':delay:' .. site) or default_delay)
end
local function site_touched(prefix, site, delay)
  redis.call('set', site_clock(prefix, site), string.format('%.6f', now), 'PX', math.ceil(delay * 1000))
end
local function enqueue(prefix, sites, site, score, data)
  if redis.call('zadd', site_queue(prefix, site), score, data) == 1 then
    redis.call('incr', prefix .. ':queued')
  end
  redis.call('zadd', sites, 'NX', now, site)
end
local function head_start(queued)
  return math.min(queued, 100) / 20
end
local function lease_parts(value)
  local first = string.find(value, '|', 1, true)
  local second = string.find(value, '|', first + 1, true)
  return string.sub(value, 1, first - 1), tonumber(string.sub(value, first + 1, second - 1)),
    string.sub(value, second + 1)
end
local function give_back(prefix, sites, leases, lease, default_delay)
  local value = redis.call('hget', leases, lease)
  if not value then return 0 end
  local site, score, data = lease_parts(value)
  enqueue(prefix, sites, site, score, data)
  if redis.call('zrem', site_slots(prefix, site), lease) == 1 then
    local delay = site_delay(prefix, site, default_delay)
    if delay > 0 then site_touched(prefix, site, delay) end
  end
  redis.call('zadd', sites, 'LT', now, site)
  redis.call('hdel', leases, lease)
  return 1
end
"""
"""Lua shared by every script that touches the per-site queues: the Redis clock as `now`, the key names, and
`enqueue` (a request onto its site's queue, the site onto the heap if absent) and `give_back` (a leased request,
stored as `site|score|request`, back onto its site's queue, its slot freed and its site due now: the pop checks
the site's delay again). `head_start` puts a site that is ready again ahead of the others by 50 ms per
queued request (at most 5 s): when more sites are ready than the workers have room for, the sites with the
most work left go first, so the biggest do not finish last (the longest-queue-first rule for a short
makespan), while a site that has waited 5 s longer than another goes first whatever their queues (no site
starves). On the latency-bound bench web, 10 ms per request (at most 2 s) gave one worker 0.74-0.77 of the
bound, 50 ms 0.89-0.90, 500 ms 0.73 (the first links found decide too much)."""

POP = """
local prefix, sites, leases = ARGV[3], KEYS[1], KEYS[2]
local concurrency, default_delay, slot_seconds = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local popped = {}
local n = 7
while n <= #ARGV do
  local held = redis.call('hget', leases, ARGV[n])
  if not held then break end
  local _, _, data = lease_parts(held)
  popped[#popped + 1] = data
  n = n + 1
end
local retried = #popped
while n <= #ARGV do
  local ready = redis.call('zrangebyscore', sites, '-inf', now, 'LIMIT', 0, #ARGV - n + 1)
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
      redis.call('zadd', sites, redis.call('zrange', slots, 0, 0, 'WITHSCORES')[2], site)
    elseif last + delay > now then
      redis.call('zadd', sites, last + delay, site)
    else
      local top = redis.call('zpopmin', queue)
      if #top == 0 then
        redis.call('zrem', sites, site)
      else
        redis.call('hset', leases, ARGV[n], site .. '|' .. top[2] .. '|' .. top[1])
        if concurrency > 0 then
          redis.call('zadd', slots, now + slot_seconds, ARGV[n])
          redis.call('pexpire', slots, math.ceil(slot_seconds * 1000) + 1000)
        end
        popped[#popped + 1] = top[1]
        n = n + 1
        progress = true
        local left = redis.call('zcard', queue)
        if left == 0 then
          redis.call('zrem', sites, site)
        elseif limit > 0 and busy + 1 >= limit then
          redis.call('zadd', sites, now + slot_seconds, site)
        elseif delay > 0 then
          redis.call('zadd', sites, now + delay, site)
        else
          redis.call('zadd', sites, now - head_start(left), site)
        end
      end
    end
  end
  if not progress then break end
end
if #popped > retried then redis.call('decrby', prefix .. ':queued', #popped - retried) end
if #popped > 0 then redis.call('zadd', KEYS[3], ARGV[1], ARGV[2]) end
local first = redis.call('zrange', sites, 0, 0, 'WITHSCORES')
local wait = -1
if #first > 0 then wait = math.max(0, tonumber(first[2]) - now) end
return {popped, tostring(wait), redis.call('get', prefix .. ':run') or '0'}
"""
"""Pop up to #ARGV - 6 requests, leased under the ids ARGV[7..]: ARGV[1] the holder's deadline, ARGV[2] the
holder, ARGV[3] the key prefix, ARGV[4..6] concurrency (0: none), default delay and slot seconds; KEYS are the
heap, the lease hash and the holders. A site with a delay gets one request at a time, and the next only once its
delay has passed since the previous one ended (`release_slot`). Idempotent per lease id: a retried call returns
what it leased. Replies the requests, the seconds until the next site may be ready (-1:
no site queued) and the partition's run count (`keys.RUN`)."""

RELEASE_SLOT = """
local function release_slot(prefix, sites, site, lease, default_delay)
  if redis.call('zrem', site_slots(prefix, site), lease) == 0 then return end
  local delay = site_delay(prefix, site, default_delay)
  local ready = now - head_start(redis.call('zcard', site_queue(prefix, site)))
  if delay > 0 then
    site_touched(prefix, site, delay)
    ready = now + delay
  end
  redis.call('zadd', sites, 'XX', 'LT', ready, site)
end
"""
"""Lua: free the slot `lease` holds on `site`, and bring the site forward in the heap to when it may be ready: with
a delay, the delay after now, the request's end (or later: the worker sends this with its next round trip)."""

_RELEASE = """
for i = 3, #ARGV, 2 do release_slot(ARGV[1], KEYS[1], ARGV[i], ARGV[i + 1], ARGV[2]) end
"""

_CHECK_IN = """
local prefix, site = ARGV[1], ARGV[2]
local delay = site_delay(prefix, site, tonumber(ARGV[3]))
if delay <= 0 then return 0 end
local last = tonumber(redis.call('get', site_clock(prefix, site)) or 0)
if last + delay > now then return math.ceil((last + delay - now) * 1000) end
site_touched(prefix, site, delay)
return 0
"""

_ENDED = """
local delay = site_delay(ARGV[1], ARGV[2], tonumber(ARGV[3]))
if delay > 0 then site_touched(ARGV[1], ARGV[2], delay) end
return 0
"""

_SET_DELAY = """
redis.call('set', ARGV[1] .. ':delay:' .. ARGV[2], ARGV[3], 'EX', ARGV[4])
site_touched(ARGV[1], ARGV[2], tonumber(ARGV[3]))
return 0
"""


class SiteClock:
    """What the downloader tells the frontier about a site: a slot freed, a request starting late or ending, a
    Crawl-delay.

    A site's clock (`{prefix}:last:{site}`: when its last request started
    or ended, whichever is later) is kept only while it matters: written
    only for a site with a delay, and expiring once that delay has passed.
    Its own delay (`{prefix}:delay:{site}`) expires `SITE_DELAY_SECONDS`
    after a worker last wrote it.
    """

    def __init__(self, server: Any, partitions: Partitions, delay: float) -> None:
        self.server = server
        self.partitions = partitions
        self.delay = delay
        self._release = server.register_script(SITE_LUA + RELEASE_SLOT + _RELEASE)
        self._check_in = server.register_script(SITE_LUA + _CHECK_IN)
        self._ended = server.register_script(SITE_LUA + _ENDED)
        self._set_delay = server.register_script(SITE_LUA + _SET_DELAY)

    def _call(self, script: Any, site: str, *args: Any) -> Any:
        """Run a site script in the site's partition (its heap as the key a cluster routes it by)."""
        n = self.partitions.of_site(site)
        return script(keys=[self.partitions.key(n, keys.SITES)], args=[self.partitions.prefix(n), site, *args])

    def release_calls(self, slots: list[tuple[str, str]]) -> list[Call]:
        """Downloads are over: each `(site, lease id)` slot is free, and its site may be ready sooner.

        One script per partition; the scheduler sends them with its next
        round trip (`linkcrawler.frontier.roundtrips.Outbox`).
        """
        by_partition: dict[int, list[str]] = defaultdict(list)
        for site, lease in slots:
            by_partition[self.partitions.of_site(site)].extend((site, lease))
        calls: list[Call] = []
        for n, pairs in by_partition.items():
            calls.append((self._release, [self.partitions.key(n, keys.SITES)],
                          [self.partitions.prefix(n), self.delay, *pairs]))  # fmt: skip
        return calls

    def check_in(self, site: str) -> float:
        """A request to `site` starts now unless the site's delay forbids it: 0, or seconds to wait first.

        Called for requests that did not start right after their pop (one
        that waited for its site's robots.txt) and for requests the frontier
        never handed out (robots.txt itself), so the delay holds between all
        requests a site sees.
        """
        return int(self._call(self._check_in, site, self.delay)) / 1000

    def ended(self, site: str) -> None:
        """A request the frontier never handed out (robots.txt) is over: the site's delay counts from now."""
        self._call(self._ended, site, self.delay)

    def set_delay(self, site: str, delay: float) -> None:
        """Record a site's own delay (its robots.txt Crawl-delay, at least `POLITENESS_DELAY`) for every worker,
        for `SITE_DELAY_SECONDS`; it counts from now, when the robots.txt asking for it has just been read."""
        self._call(self._set_delay, site, delay, SITE_DELAY_SECONDS)


@dataclass(frozen=True)
class Politeness:
    """How hard the crawl may press one site, from all workers together.

    Settings read here:

    - `POLITENESS_ENABLED` (bool, default True): off, pops still rotate over
      sites but hold none back.
    - `POLITENESS_CONCURRENCY` (default 2): requests in flight to one site
      without a delay; a site with a delay gets one at a time.
    - `POLITENESS_DELAY` (seconds, default 0): the least time from the end
      of one request to a site (its response, or its failure) to the start
      of the next, as Heritrix counts it: counted from the starts, a
      request that left its worker late (a busy event loop, a slow
      connect) reached the server less than the delay before the next.
    - `POLITENESS_BY` (`host` or `domain`, default `host`): what a site is;
      `domain` counts `a.example.com` and `b.example.com` as one.
    - `ROBOTSTXT_CRAWL_DELAY` (bool, default True) and `POLITENESS_MAX_DELAY`
      (default 30 s): a robots.txt Crawl-delay raises its site's delay; a
      site asking for more than the maximum is not crawled past its
      robots.txt (see `linkcrawler.downloader.politeness`).
    - `POLITENESS_SLOT_SECONDS` (default `DOWNLOAD_TIMEOUT` + 30): how long a
      slot outlives a worker that died holding it.
    """

    concurrency: int
    delay: float
    by_domain: bool
    crawl_delay: bool
    max_delay: float
    slot_seconds: float

    @classmethod
    def from_settings(cls, settings: Any) -> Politeness:
        by = config.get(settings, "POLITENESS_BY")
        if by not in ("host", "domain"):
            raise UserError(f"POLITENESS_BY: {by!r} is neither 'host' nor 'domain'")
        concurrency = config.get(settings, "POLITENESS_CONCURRENCY")
        if concurrency < 1:
            raise UserError(f"POLITENESS_CONCURRENCY: {concurrency} must be at least 1")
        enabled = config.get(settings, "POLITENESS_ENABLED")
        return cls(
            concurrency=concurrency if enabled else 0,
            delay=config.get(settings, "POLITENESS_DELAY") if enabled else 0.0,
            by_domain=by == "domain",
            crawl_delay=enabled and config.get(settings, "ROBOTSTXT_CRAWL_DELAY"),
            max_delay=config.get(settings, "POLITENESS_MAX_DELAY"),
            slot_seconds=config.get(settings, "POLITENESS_SLOT_SECONDS")
            or config.get(settings, "DOWNLOAD_TIMEOUT") + 30,
        )

    def site_of(self, url: str) -> str:
        return self.site(*split_host(url))

    def site(self, host: str, domain: str) -> str:
        return domain if self.by_domain else host

    def pop_arguments(self) -> tuple[int, float, float]:
        return self.concurrency, self.delay, self.slot_seconds
