"""A worker's heartbeat: it reports itself, looks for work while it waits, and closes once the whole crawl is done.

A Scrapy extension (`EXTENSIONS` in settings/base.py), as Scrapy's own
`CloseSpider` is, so the spider only parses. At every heartbeat
(`WORKER_HEARTBEAT_SECONDS`) it sets the spider's clock to Redis's
(`linkcrawler.frontier.sharedclock`), reports this worker in
`backlinks:workers` (`linkcrawler.frontier.workers`) and, while the worker
waits for work, wakes the engine as soon as some is queued: an idle engine
asks the scheduler only every 5 seconds (`linkcrawler.internals.scrapy_private`).
It takes seeds when the crawl opens and whenever the engine is idle, and
closes the spider only when the whole crawl, not just this worker, is done
(`IDLE_CLOSE_SECONDS`).

It works with the frontier's scheduler (`linkcrawler.frontier.scheduler`)
and, for the benchmark, with stock scrapy-redis's: the spider's start list
and the scheduler's queue are what it counts then, and nothing is leased.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from redis.exceptions import RedisError
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from twisted.internet import task

from linkcrawler import config
from linkcrawler.downloader.robots import is_robots_request
from linkcrawler.frontier import keys
from linkcrawler.frontier.connection import redis_from_settings
from linkcrawler.frontier.scheduler import Scheduler
from linkcrawler.frontier.workers import WorkerRegistry
from linkcrawler.internals.scrapy_private import wake_engine

logger = logging.getLogger(__name__)


class Heartbeat:
    """Settings read here:

    - `IDLE_CLOSE_SECONDS` (default 0 = never): close once the frontier has
      been empty and no worker has fetched anything for this long. Cluster
      workers keep the default and wait for the next crawl run's seeds.
    - `WORKER_HEARTBEAT_SECONDS` (default 1): how often this worker reports
      itself in `backlinks:workers` and, while it has nothing to fetch, looks
      for new work in Redis.

    The spider is a scrapy-redis `RedisSpider` (its start list, its
    `make_request_from_data`) with a `shared_clock` it dates pages by.
    """

    def __init__(self, crawler: Any, server: Any, workers: WorkerRegistry, *, heartbeat_seconds: float,
                 idle_close_seconds: float) -> None:  # fmt: skip
        self.crawler = crawler
        self.server = server
        self.workers = workers
        self.heartbeat_seconds = heartbeat_seconds
        self.idle_close_seconds = idle_close_seconds
        self.last_active = time.time()
        self.pages_seen = 0
        self.idle_since: float | None = None
        self.waiting = False
        self._beats: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> Heartbeat:
        spider = crawler.spider
        if not hasattr(spider, "shared_clock") or not hasattr(spider, "redis_key"):
            raise NotConfigured("the heartbeat watches a RedisSpider that dates pages by a shared clock")
        settings = crawler.settings
        server = redis_from_settings(settings)
        name = spider.name
        workers = WorkerRegistry(server, keys.spider_key(keys.WORKERS_KEY, name),
                                 pages_key=keys.spider_key(keys.PAGES_PER_MINUTE_KEY, name))  # fmt: skip
        heartbeat = cls(
            crawler,
            server,
            workers,
            heartbeat_seconds=config.get(settings, "WORKER_HEARTBEAT_SECONDS"),
            idle_close_seconds=config.get(settings, "IDLE_CLOSE_SECONDS"),
        )
        crawler.signals.connect(heartbeat.opened, signal=signals.spider_opened)
        crawler.signals.connect(heartbeat.closed, signal=signals.spider_closed)
        crawler.signals.connect(heartbeat.idle, signal=signals.spider_idle)
        crawler.signals.connect(heartbeat.response_received, signal=signals.response_received)
        crawler.signals.connect(heartbeat.request_left, signal=signals.request_left_downloader)
        return heartbeat

    def opened(self) -> None:
        self.take_seeds()
        self._beats = task.LoopingCall(self.beat)
        self._beats.start(self.heartbeat_seconds)

    def closed(self) -> None:
        if self._beats is not None and self._beats.running:
            self._beats.stop()
        self.workers.beat(self.last_active, self.pages_seen, left=True)

    def response_received(self, request: Request, **_: Any) -> None:
        """A page reached this worker (robots.txt is not one)."""
        if not is_robots_request(request):
            self.last_active = time.time()
            self.waiting = False
            self.pages_seen += 1

    def request_left(self, request: Request, **_: Any) -> None:
        """A download ended, answered or failed: this worker is at work."""
        if not is_robots_request(request):
            self.last_active = time.time()

    def beat(self) -> None:
        """Report this worker; while it waits for work, look for some (seeds or other workers' links).

        Redis out of reach past its client's retries costs one warning a beat,
        never the heartbeat itself: the next beat tries again.
        """
        try:
            self.crawler.spider.shared_clock.sync()
            self.workers.beat(self.last_active, self.pages_seen)
            if self.waiting and (self.queued() or self.server.llen(self.crawler.spider.redis_key)):
                self.waiting = False
                wake_engine(self.crawler.engine)
        except RedisError as error:
            logger.warning("heartbeat: Redis out of reach (%s); trying again in %s s", error, self.heartbeat_seconds)

    def idle(self) -> None:
        """Take seeds when idle; close only when the whole crawl, not just this worker, is done.

        Requests leased by any worker count as pending: a dead worker's come
        back to the frontier once its lease expires, and someone must be
        there to fetch them. A worker that cannot see the frontier (Redis out
        of reach past its client's retries) does not close: it cannot know the
        crawl is done.
        """
        try:
            self._idle()
        except RedisError as error:
            logger.warning("idle: Redis out of reach (%s); not closing while the frontier cannot be seen", error)
            raise DontCloseSpider from error

    def take_seeds(self) -> None:
        """A batch of seeds from the start list (`REDIS_START_URLS_BATCH_SIZE`), when the crawl opens and at each
        idle turn.

        The frontier queues them itself (`Scheduler.take_seeds`), so none
        waits in this process where a killed worker would lose it; stock
        scrapy-redis's scheduler (the benchmark's) gets them as requests,
        the scrapy-redis way (`RedisSpider.schedule_next_requests`).
        """
        spider, frontier = self.crawler.spider, self._frontier()
        if frontier is not None:
            frontier.take_seeds(spider.make_request_from_data, spider.redis_batch_size)
        else:
            spider.schedule_next_requests()

    def _idle(self) -> None:
        self.take_seeds()
        queued = self.queued()
        self.waiting = not queued
        if queued:
            wake_engine(self.crawler.engine)
        if queued or self.server.llen(self.crawler.spider.redis_key) or self.leased():
            self.idle_since = None
            raise DontCloseSpider
        if self.idle_close_seconds <= 0:
            raise DontCloseSpider
        now = time.time()
        self.idle_since = self.idle_since or now
        quiet_since = now - self.idle_close_seconds
        if self.idle_since > quiet_since or self.workers.others_active_since(quiet_since):
            raise DontCloseSpider

    def queued(self) -> int:
        """Requests on the frontier: our frontier's count, or stock scrapy-redis's queue (the benchmark's)."""
        frontier = self._frontier()
        return frontier.queued() if frontier is not None else len(self.crawler.engine.scheduler.queue)

    def leased(self) -> int:
        """Requests leased by any worker (none with stock scrapy-redis's scheduler)."""
        frontier = self._frontier()
        return frontier.leases.leased() if frontier is not None else 0

    def _frontier(self) -> Scheduler | None:
        """The engine's scheduler if it is the frontier's, else None (stock scrapy-redis's, the benchmark's).

        Not `isinstance`: Scrapy's `BaseScheduler` takes any class with its
        methods for a subclass, stock scrapy-redis's scheduler included.
        """
        scheduler = self.crawler.engine.scheduler
        return scheduler if Scheduler in type(scheduler).__mro__ else None
