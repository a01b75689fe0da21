"""The shared crawl frontier: scrapy-redis's scheduler, made ours where it falls short.

What changes against stock scrapy-redis:

- requests are stored as JSON (`linkcrawler.serializer`), not pickles;
- the frontier always persists: one worker closing must never clear the queue
  or the seen-set that the other workers are still using;
- a per-domain page budget (`PAGES_PER_DOMAIN`) is counted in Redis, so the
  limit holds across all workers together;
- stats are reported without the `spider` argument Scrapy 2.13+ deprecates.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.utils.misc import load_object
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler as RedisScheduler

from linkcrawler import defaults, serializer
from linkcrawler.connection import connect_redis, redis_url_from_settings
from linkcrawler.urls import split_host

DEFAULT_QUEUE_CLASS = "scrapy_redis.queue.PriorityQueue"


class Scheduler(RedisScheduler):
    """Scheduler for `SCHEDULER = "linkcrawler.frontier.Scheduler"`.

    Settings read here:

    - `REDIS_URL`: the shared Redis (see `linkcrawler.connection`).
    - `PAGES_PER_DOMAIN` (int, default 0 = unlimited): the most pages scheduled
      per registered domain in one crawl run, across all workers. Requests
      past it are dropped and counted as `frontier/over_domain_budget`.
    - `SCHEDULER_QUEUE_CLASS` (default scrapy-redis's priority queue) and
      `DUPEFILTER_CLASS`: a subclass of scrapy-redis's `RFPDupeFilter`, built
      as `cls(server, key, debug)`; any other class (such as Scrapy's
      in-memory default) is replaced by scrapy-redis's, since a seen-set that
      is not shared would let workers fetch the same page. A class with a
      `from_frontier(server, key, settings)` constructor (such as
      `linkcrawler.bloom.BloomDupeFilter`) is built by it, to read its own settings.
    """

    def __init__(self, server: Any, *, pages_per_domain: int = 0, budget_key: str, **kwargs: Any):
        super().__init__(server, persist=True, **kwargs)
        self.pages_per_domain = pages_per_domain
        self.budget_key = budget_key

    @classmethod
    def from_crawler(cls, crawler: Any) -> Scheduler:
        settings = crawler.settings
        name = crawler.spidercls.name
        server = connect_redis(redis_url_from_settings(settings))
        dupefilter_cls = load_object(settings.get("DUPEFILTER_CLASS"))
        if not issubclass(dupefilter_cls, RFPDupeFilter):  # Scrapy's in-memory default: no use to a shared frontier
            dupefilter_cls = RFPDupeFilter
        scheduler = cls(
            server,
            pages_per_domain=settings.getint("PAGES_PER_DOMAIN"),
            budget_key=defaults.spider_key(defaults.DOMAIN_PAGES_KEY, name),
            queue_key=defaults.QUEUE_KEY,
            queue_cls=settings.get("SCHEDULER_QUEUE_CLASS") or DEFAULT_QUEUE_CLASS,
            dupefilter=_dupefilter(
                dupefilter_cls,
                server,
                key=defaults.spider_key(defaults.DUPEFILTER_KEY, name),
                settings=settings,
            ),
            serializer=serializer,
        )
        scheduler.stats = crawler.stats
        return scheduler

    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        if not self._within_budget(request):
            self.stats.inc_value("frontier/over_domain_budget")
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self) -> Request | None:
        request = self.queue.pop(self.idle_before_close)
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def _within_budget(self, request: Request) -> bool:
        if not self.pages_per_domain:
            return True
        _, domain = split_host(request.url)
        return self.server.hincrby(self.budget_key, domain, 1) <= self.pages_per_domain


def _dupefilter(cls: type[RFPDupeFilter], server: Any, key: str, settings: Any) -> RFPDupeFilter:
    if hasattr(cls, "from_frontier"):
        return cls.from_frontier(server, key, settings)
    return cls(server, key=key, debug=settings.getbool("DUPEFILTER_DEBUG"))
