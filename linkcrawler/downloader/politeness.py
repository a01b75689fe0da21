"""What the downloader tells the shared frontier about each site, so politeness holds across all workers.

The frontier hands out only requests whose site is ready
(`linkcrawler.frontier.sites`), so a request normally starts the moment it
is popped. This middleware covers the rest:

- a request that did not start right after its pop (it waited for its
  site's robots.txt) and a request the frontier never handed out
  (robots.txt itself) check in first, and wait if the site's delay has not
  passed since its last request;
- a robots.txt Crawl-delay becomes its site's delay for every worker (with
  `ROBOTSTXT_CRAWL_DELAY`), at least `POLITENESS_DELAY`. A Crawl-delay over
  `POLITENESS_MAX_DELAY` is not shortened: the site is not crawled past its
  robots.txt, its requests dropped as a robots.txt refusal would drop them
  (`politeness/crawl_delay_over_max`);
- a request leaving the downloader (response, error, or a retry to come)
  frees its site's slot, which brings the site forward in the frontier.
  The slots freed in one reactor turn go to Redis together, on the next
  turn: the release was a page's most frequent round trip (1.0 of 1.7),
  and responses arrive in bursts.

Time comes from the Redis server, so workers whose clocks disagree still
keep one site's requests apart.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any

from redis.exceptions import RedisError
from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor, task

from linkcrawler import config
from linkcrawler.frontier.connection import redis_from_settings
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.frontier.sites import SLOT_META, Politeness, SiteClock

logger = logging.getLogger(__name__)

CRAWL_DELAY_META = "robots_crawl_delay"
"""`request.meta` key: the Crawl-delay robots.txt sets for the request's site (`linkcrawler.downloader.robots`)."""

LATE_SECONDS = 0.05
"""A popped request reaching the downloader later than this after its pop checks its site's delay again."""


class PolitenessMiddleware:
    """Downloader middleware, after robots.txt (so a refused request never counts). Settings: see `Politeness`."""

    def __init__(self, clock: SiteClock, politeness: Politeness, stats: Any, timer: Any = reactor) -> None:
        self.clock = clock
        self.politeness = politeness
        self.stats = stats
        self.timer = timer
        self._delays: dict[str, float] = {}
        self._freed: list[tuple[str, str]] = []
        self._send_call: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> PolitenessMiddleware:
        settings = crawler.settings
        politeness = Politeness.from_settings(settings)
        if not config.get(settings, "POLITENESS_ENABLED"):
            raise NotConfigured
        name = crawler.spidercls.name
        clock = SiteClock(redis_from_settings(settings), Partitions.from_settings(settings, name), politeness.delay)
        middleware = cls(clock, politeness, crawler.stats)
        crawler.signals.connect(middleware.request_left, signal=signals.request_left_downloader)
        crawler.signals.connect(middleware.send_freed_slots, signal=signals.spider_closed)
        return middleware

    async def process_request(self, request: Any) -> None:
        site = self.politeness.site_of(request.url)
        if self.politeness.crawl_delay and request.meta.get(CRAWL_DELAY_META):
            self._record_crawl_delay(site, float(request.meta[CRAWL_DELAY_META]))
        slot = request.meta.get(SLOT_META)
        if slot is not None and time.monotonic() - slot[1] <= LATE_SECONDS:
            return
        if self.politeness.delay <= 0 and site not in self._delays:
            return
        while (wait := self.clock.check_in(site)) > 0:
            await maybe_deferred_to_future(task.deferLater(self.timer, wait * random.uniform(1.0, 1.1)))

    def request_left(self, request: Any, spider: Any = None) -> None:
        """Handler of `request_left_downloader`: sent for every outcome, retries included."""
        slot = request.meta.pop(SLOT_META, None)
        if slot is not None and self.politeness.concurrency:
            self._freed.append((self.politeness.site_of(request.url), slot[0]))
            if self._send_call is None:
                self._send_call = self.timer.callLater(0, self.send_freed_slots)

    def send_freed_slots(self, **_: Any) -> None:
        """Free the slots gathered since the last call (also at close), in one round trip.

        A failure past the Redis client's retries is one warning: those
        slots free themselves after `POLITENESS_SLOT_SECONDS`.
        """
        if self._send_call is not None and self._send_call.active():
            self._send_call.cancel()
        self._send_call = None
        freed, self._freed = self._freed, []
        if not freed:
            return
        try:
            self.clock.release(freed)
        except RedisError as error:
            logger.warning(
                "Could not free %d politeness slot(s) in Redis (%s): they free themselves after "
                "POLITENESS_SLOT_SECONDS",
                len(freed),
                error,
            )

    def _record_crawl_delay(self, site: str, crawl_delay: float) -> None:
        if crawl_delay > self.politeness.max_delay:
            self.stats.inc_value("politeness/crawl_delay_over_max")
            raise IgnoreRequest(
                f"robots.txt asks for a Crawl-delay of {crawl_delay:g} s, over POLITENESS_MAX_DELAY "
                f"({self.politeness.max_delay:g} s)"
            )
        delay = max(self.politeness.delay, crawl_delay)
        if self._delays.get(site) != delay:
            self.clock.set_delay(site, delay)
            self._delays[site] = delay
