"""Politeness across all workers together: per-site concurrency and delay, held in Redis.

Scrapy's `CONCURRENT_REQUESTS_PER_DOMAIN` and `DOWNLOAD_DELAY` hold per
process: ten workers are ten times as hard on a site as one. Here every
download first takes a slot of its site in Redis (one Lua script: expired
slots dropped, the slot count and the time since the site's last request
checked, the slot taken), and gives it back when the response or error
comes. A request whose site is busy waits, without blocking the reactor,
until this worker frees a slot of that site or a poll interval passes (for
slots other workers hold; 50 ms doubling up to 400 ms); the frontier keeps
feeding other sites meanwhile.

Time comes from the Redis server (`TIME`), so workers on machines whose
clocks disagree still keep one site's requests apart. A slot expires after
`POLITENESS_SLOT_SECONDS`, so a worker that dies holding slots frees them.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from typing import Any

from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor, task
from twisted.internet.defer import Deferred

from linkcrawler import config
from linkcrawler.errors import UserError
from linkcrawler.extract.urls import split_host
from linkcrawler.frontier import keys
from linkcrawler.frontier.connection import redis_from_settings

CRAWL_DELAY_META = "robots_crawl_delay"
"""`request.meta` key: the Crawl-delay robots.txt sets for the request's site (`linkcrawler.downloader.robots`)."""

SLOT_META = "politeness_slot"

_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[2]) then return -1 end
local delay = tonumber(ARGV[3])
local last = redis.call('get', KEYS[2])
if last and delay > 0 then
  local wait = tonumber(last) + delay - now
  if wait > 0 then return math.ceil(wait * 1000) end
end
redis.call('zadd', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
redis.call('expire', KEYS[1], math.ceil(tonumber(ARGV[4])) + 1)
if delay > 0 then redis.call('set', KEYS[2], string.format('%.6f', now), 'PX', math.ceil(delay * 1000) + 1000) end
return 0
"""


class SiteSlots:
    """The shared slots of each site: `acquire` returns 0 (taken), -1 (site busy) or milliseconds to wait."""

    def __init__(self, server: Any, prefix: str, slot_seconds: float) -> None:
        self.server = server
        self.prefix = prefix
        self.slot_seconds = slot_seconds
        self._acquire = server.register_script(_ACQUIRE)

    def acquire(self, site: str, token: str, concurrency: int, delay: float) -> int:
        keys = [f"{self.prefix}:{site}:slots", f"{self.prefix}:{site}:last"]
        return int(self._acquire(keys=keys, args=[token, concurrency, delay, self.slot_seconds]))

    def release(self, site: str, token: str) -> None:
        self.server.zrem(f"{self.prefix}:{site}:slots", token)


class PolitenessMiddleware:
    """Downloader middleware (after robots.txt, so a refused request never takes a slot).

    Settings read here:

    - `POLITENESS_ENABLED` (bool, default True).
    - `POLITENESS_CONCURRENCY` (int, default 2): requests in flight to one
      site from all workers together.
    - `POLITENESS_DELAY` (seconds, default 0): the least time between two
      requests to one site from all workers together.
    - `POLITENESS_BY` (`host` or `domain`, default `host`): what a site is;
      `domain` counts `a.example.com` and `b.example.com` as one.
    - `ROBOTSTXT_CRAWL_DELAY` (bool, default True): a robots.txt Crawl-delay
      raises the delay for its site, up to `POLITENESS_MAX_DELAY` (default
      30 s) so one robots.txt cannot park the workers.
    - `POLITENESS_SLOT_SECONDS` (default `DOWNLOAD_TIMEOUT` + 30): how long a
      slot outlives a worker that died holding it.
    """

    POLL_SECONDS = 0.05
    MAX_POLL_SECONDS = 0.4

    def __init__(self, slots: SiteSlots, *, concurrency: int, delay: float, by_domain: bool,
                 crawl_delay: bool, max_delay: float, clock: Any = reactor) -> None:  # fmt: skip
        self.slots = slots
        self.clock = clock
        self.concurrency = concurrency
        self.delay = delay
        self.by_domain = by_domain
        self.crawl_delay = crawl_delay
        self.max_delay = max_delay
        self._waiting: dict[str, list[Deferred[None]]] = {}
        self._held: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler: Any) -> PolitenessMiddleware:
        settings = crawler.settings
        if not config.get(settings, "POLITENESS_ENABLED"):
            raise NotConfigured
        by = config.get(settings, "POLITENESS_BY")
        if by not in ("host", "domain"):
            raise UserError(f"POLITENESS_BY: {by!r} is neither 'host' nor 'domain'")
        concurrency = config.get(settings, "POLITENESS_CONCURRENCY")
        if concurrency < 1:
            raise UserError(f"POLITENESS_CONCURRENCY: {concurrency} must be at least 1")
        prefix = keys.spider_key(keys.POLITENESS_KEY, crawler.spidercls.name)
        slot_seconds = config.get(settings, "POLITENESS_SLOT_SECONDS") or config.get(settings, "DOWNLOAD_TIMEOUT") + 30
        return cls(
            SiteSlots(redis_from_settings(settings), prefix, slot_seconds),
            concurrency=concurrency,
            delay=config.get(settings, "POLITENESS_DELAY"),
            by_domain=by == "domain",
            crawl_delay=config.get(settings, "ROBOTSTXT_CRAWL_DELAY"),
            max_delay=config.get(settings, "POLITENESS_MAX_DELAY"),
        )

    async def process_request(self, request: Any) -> None:
        host, domain = split_host(request.url)
        site = domain if self.by_domain else host
        delay = self.delay
        if self.crawl_delay and request.meta.get(CRAWL_DELAY_META):
            delay = max(delay, min(float(request.meta[CRAWL_DELAY_META]), self.max_delay))
        token = uuid.uuid4().hex
        # Slots this worker holds wake it when freed: poll for them only as a fallback.
        poll = self.MAX_POLL_SECONDS if self._held[site] else self.POLL_SECONDS
        if self._held[site] >= self.concurrency:  # this worker alone fills the site: asking Redis now would fail
            await maybe_deferred_to_future(self._slot_freed(site, poll))
        while (wait := self.slots.acquire(site, token, self.concurrency, delay)) != 0:
            if wait > 0:
                await maybe_deferred_to_future(task.deferLater(self.clock, wait / 1000 * random.uniform(1.0, 1.2)))
            else:
                await maybe_deferred_to_future(self._slot_freed(site, poll * random.uniform(1.0, 1.2)))
                poll = min(2 * poll, self.MAX_POLL_SECONDS)
        self._held[site] += 1
        request.meta[SLOT_META] = (site, token)

    def _slot_freed(self, site: str, timeout: float) -> Deferred[None]:
        """Fires when this worker gives back a slot of `site`, or after `timeout` for slots other workers hold.

        Polling alone cost a busy worker several Redis round trips per page.
        """
        freed: Deferred[None] = Deferred()
        waiting = self._waiting.setdefault(site, [])
        waiting.append(freed)
        timer = self.clock.callLater(timeout, freed.callback, None)

        def forget(result: None) -> None:
            if timer.active():
                timer.cancel()
            waiting.remove(freed)
            if not waiting:
                del self._waiting[site]
            return result

        freed.addBoth(forget)
        return freed

    def process_response(self, request: Any, response: Any) -> Any:
        self._release(request)
        return response

    def process_exception(self, request: Any, exception: BaseException) -> None:
        self._release(request)

    def _release(self, request: Any) -> None:
        slot = request.meta.pop(SLOT_META, None)
        if slot is None:
            return
        site, token = slot
        self.slots.release(site, token)
        self._held[site] -= 1
        if not self._held[site]:
            del self._held[site]
        if waiting := self._waiting.get(site):
            waiting[0].callback(None)
