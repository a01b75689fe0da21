"""What the downloader tells the shared frontier about each site, so politeness holds across all workers.

The frontier hands out only requests whose site is ready
(`linkcrawler.frontier.sites`), so a request normally starts the moment it
is popped. This middleware covers the rest:

- a request that did not start right after its pop (it waited for its
  site's robots.txt), one popped before this worker recorded its site's
  Crawl-delay, and a request the frontier never handed out (robots.txt
  itself) check in first, and wait if the site's delay has not passed
  since its last request; the end of one the frontier never handed out
  restarts its site's delay, as a popped request's end does;
- a robots.txt Crawl-delay becomes its site's delay for every worker (with
  `ROBOTSTXT_CRAWL_DELAY`), at least `POLITENESS_DELAY`. A Crawl-delay over
  `POLITENESS_MAX_DELAY` is not shortened: the site is not crawled past its
  robots.txt, its requests dropped as a robots.txt refusal would drop them
  (`politeness/crawl_delay_over_max`). Redis keeps it a day
  (`SITE_DELAY_SECONDS`): a worker writes it again after half of that.

A request leaving the downloader frees its site's slot: the scheduler
sends that with its next round trip (`Scheduler.request_left`).

Time comes from the Redis server, so workers whose clocks disagree still
keep one site's requests apart.
"""

from __future__ import annotations

import random
import time
from typing import Any

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor, task

from linkcrawler import config
from linkcrawler.frontier.connection import redis_from_settings
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.frontier.sites import SITE_DELAY_SECONDS, SLOT_META, Politeness, SiteClock

CRAWL_DELAY_META = "robots_crawl_delay"
"""`request.meta` key: the Crawl-delay robots.txt sets for the request's site (`linkcrawler.downloader.robots`)."""

LATE_SECONDS = 0.05
"""A popped request reaching the downloader later than this after its pop checks its site's delay again."""
CHECKED_IN_META = "politeness_checked_in"
"""`request.meta` key of a request the frontier never handed out that checked in: its end restarts the delay."""


class PolitenessMiddleware:
    """Downloader middleware, after robots.txt (so a refused request never counts). Settings: see `Politeness`."""

    def __init__(self, clock: SiteClock, politeness: Politeness, stats: Any, timer: Any = reactor) -> None:
        self.clock = clock
        self.politeness = politeness
        self.stats = stats
        self.timer = timer
        self._delays: dict[str, tuple[float, float]] = {}
        """Site -> (its own delay, `time.monotonic()` when this worker last wrote it to Redis)."""
        self._touched: dict[str, float] = {}
        """Site -> `time.monotonic()` when this worker last moved its clock outside a pop: it recorded the site's
        delay, or started a request the frontier never handed out (robots.txt)."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> PolitenessMiddleware:
        settings = crawler.settings
        politeness = Politeness.from_settings(settings)
        if not config.get(settings, "POLITENESS_ENABLED"):
            raise NotConfigured
        name = crawler.spidercls.name
        clock = SiteClock(redis_from_settings(settings), Partitions.from_settings(settings, name), politeness.delay)
        return cls(clock, politeness, crawler.stats)

    async def process_request(self, request: Any) -> None:
        site = self.politeness.site_of(request.url)
        if self.politeness.crawl_delay and request.meta.get(CRAWL_DELAY_META):
            self._record_crawl_delay(site, float(request.meta[CRAWL_DELAY_META]))
        slot = request.meta.get(SLOT_META)
        if slot is not None and self._on_time(site, slot.at):
            return
        if self.politeness.delay <= 0 and site not in self._delays:
            return
        while (wait := self.clock.check_in(site)) > 0:
            await maybe_deferred_to_future(task.deferLater(self.timer, wait * random.uniform(1.0, 1.1)))
        if slot is None:
            request.meta[CHECKED_IN_META] = True
            self._touched[site] = time.monotonic()

    def process_response(self, request: Any, response: Any) -> Any:
        self._ended(request)
        return response

    def process_exception(self, request: Any, exception: Exception) -> None:
        self._ended(request)

    def _ended(self, request: Any) -> None:
        """A popped request's end reaches Redis with its slot (`Scheduler.request_left`); robots.txt's here."""
        if request.meta.pop(CHECKED_IN_META, False):
            self.clock.ended(self.politeness.site_of(request.url))

    def _on_time(self, site: str, popped_at: float) -> bool:
        """Whether a popped request may start without asking: it comes right after its pop, and since that pop
        this worker neither recorded its site's delay (the pop may not have known it) nor sent its site a request
        of its own (its robots.txt, fetched for this one)."""
        return popped_at > self._touched.get(site, float("-inf")) and time.monotonic() - popped_at <= LATE_SECONDS

    def _record_crawl_delay(self, site: str, crawl_delay: float) -> None:
        if crawl_delay > self.politeness.max_delay:
            self.stats.inc_value("politeness/crawl_delay_over_max")
            raise IgnoreRequest(
                f"robots.txt asks for a Crawl-delay of {crawl_delay:g} s, over POLITENESS_MAX_DELAY "
                f"({self.politeness.max_delay:g} s)"
            )
        delay = max(self.politeness.delay, crawl_delay)
        known, written = self._delays.get(site, (None, float("-inf")))
        now = time.monotonic()
        if known != delay or now - written > SITE_DELAY_SECONDS / 2:
            self.clock.set_delay(site, delay)
            self._delays[site] = (delay, now)
            self._touched[site] = now
