"""The backlinks spider: fetch a page, record it and every link on it, follow its links.

Seeds come from the shared Redis list `backlinks:start_urls` (pushed by
`linkcrawler seed`); followed requests go through the shared frontier
(`linkcrawler.frontier.scheduler.Scheduler`), so any number of workers split the crawl.
All parsing lives in `linkcrawler.extract.page`; this module only wires it to
Scrapy.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from redis.exceptions import RedisError
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy_redis.spiders import RedisSpider
from twisted.internet import task
from twisted.python.failure import Failure

from linkcrawler import config
from linkcrawler.extract.document import is_html
from linkcrawler.extract.items import PageItem
from linkcrawler.extract.page import Extractor
from linkcrawler.frontier import keys
from linkcrawler.frontier.connection import redis_from_settings
from linkcrawler.frontier.leases import LEASE_META, request_done
from linkcrawler.frontier.scope import DomainFilter
from linkcrawler.frontier.sharedclock import SharedClock
from linkcrawler.frontier.workers import WorkerRegistry
from linkcrawler.internals.scrapy_private import wake_engine


class BacklinksSpider(RedisSpider):
    """Settings read here (besides the extractor's, see `linkcrawler.extract.page`):

    - `ALLOWED_DOMAINS` / `DENIED_DOMAINS` (lists of domains, default empty):
      follow only links whose host is, or is under, an allowed domain, and
      never those under a denied one. Links are stored either way.
    - `IDLE_CLOSE_SECONDS` (default 0 = never): close once the frontier has
      been empty and no worker has fetched anything for this long. Cluster
      workers keep the default and wait for the next crawl run's seeds.
    - `WORKER_HEARTBEAT_SECONDS` (default 1): how often this worker reports
      itself in `backlinks:workers` and, while it has nothing to fetch, looks
      for new work in Redis.
    Depth is Scrapy's own `DEPTH_LIMIT`; the per-domain budget is the
    frontier's `PAGES_PER_DOMAIN`.
    """

    name = keys.SPIDER_NAME
    redis_key = keys.START_URLS_KEY

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> BacklinksSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.server = redis_from_settings(settings)  # scrapy-redis's client would ignore REDIS_RETRIES
        spider.extractor = Extractor.from_settings(settings)
        spider.domain_filter = DomainFilter(
            config.get(settings, "ALLOWED_DOMAINS"), config.get(settings, "DENIED_DOMAINS")
        )
        spider.idle_close_seconds = config.get(settings, "IDLE_CLOSE_SECONDS")
        spider.workers = WorkerRegistry(
            spider.server,
            keys.spider_key(keys.WORKERS_KEY, cls.name),
            pages_key=keys.spider_key(keys.PAGES_PER_MINUTE_KEY, cls.name),
        )
        spider.heartbeat_seconds = config.get(settings, "WORKER_HEARTBEAT_SECONDS")
        spider.shared_clock = SharedClock(spider.server)  # dates pages and links by Redis's clock, not this host's
        spider.last_active = time.time()
        spider.pages_seen = 0
        spider.idle_since: float | None = None
        spider.waiting = False
        crawler.signals.connect(spider.on_opened, signal=signals.spider_opened)
        crawler.signals.connect(spider.on_closed, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        for request in self.next_requests():
            yield request

    def next_requests(self) -> Iterator[Request]:
        """Seeds for the start and for each idle turn.

        Our frontier queues them itself (`linkcrawler.frontier.scheduler.Scheduler.take_seeds`),
        so none waits in this process where a killed worker would lose it;
        any other scheduler (the benchmark's stock scrapy-redis) gets them as
        start requests, the scrapy-redis way.
        """
        take_seeds = getattr(self.crawler.engine.scheduler, "take_seeds", None)
        if take_seeds is None:
            yield from super().next_requests()
        else:
            take_seeds(self.make_request_from_data, self.redis_batch_size)

    def make_request_from_data(self, data: bytes) -> Request | None:
        """A seed is a JSON object with a `url` (as `linkcrawler seed` writes) or a bare URL.

        Anything else pushed onto the start list by hand is logged and dropped.
        """
        text = data.decode("utf-8", "replace").strip()
        try:
            url = json.loads(text).get("url") if text.startswith("{") else text
        except (ValueError, AttributeError):
            url = None
        normalized = self.extractor.normalize_url(url, url) if isinstance(url, str) else None
        if normalized is None:
            self.logger.error("ignoring malformed seed %r", text[:200])
            return None
        return self.page_request(normalized)

    def page_request(self, url: str) -> Request:
        """Redirects are not followed inside the downloader: each hop is a page of its own.

        A hop's target then goes through the shared seen-set like any link, so
        a redirect to a page already crawled is recorded (as a page with its
        redirect link) without fetching that page twice.

        The callback is left to Scrapy's default (`parse`): Scrapy inspects
        the source of a generator callback for a `return` value on every
        response of a request restored from Redis (its cache is keyed by the
        short-lived bound method), a few percent of a worker's time.
        """
        return Request(url, errback=self.failed, meta={"dont_redirect": True})

    def parse(self, response: Response) -> Iterator[Any]:
        self.last_active = time.time()
        self.waiting = False
        self.pages_seen += 1
        headers = response.headers.to_unicode_dict()
        item = PageItem(
            url=self.extractor.normalize_url(response.url, response.url) or response.url,
            fetched_at=self.shared_clock.now(),
            status=response.status,
            content_type=headers.get("Content-Type"),
            ip=str(response.ip_address) if response.ip_address else None,
            size=len(response.body),
            depth=response.meta.get("depth", 0),
            lease=response.meta.get(LEASE_META),
        )
        if 300 <= response.status < 400:
            yield from self.follow_redirect(response, item, headers.get("Location"))
        elif response.status == 200 and isinstance(response, TextResponse):
            yield from self.follow_links(response, item, headers)
        yield item

    def follow_redirect(self, response: Response, item: PageItem, location: str | None) -> Iterator[Request]:
        link = self.extractor.redirect_link(location, response.url) if location else None
        if link is None:
            return
        item.redirect_to = link.target_url
        item.links = [link]
        if self.domain_filter.allows(link.target_host):
            yield self.page_request(link.target_url)

    def follow_links(self, response: TextResponse, item: PageItem, headers: dict[str, str]) -> Iterator[Request]:
        if not is_html(item.content_type, response.body[:1024]):
            return
        page = self.extractor.extract(response.text, response.url, headers)
        item.parsed = True
        item.links = page.links
        item.canonical = page.canonical
        item.robots = page.robots
        item.skipped = page.skipped
        yield from self.follow_once(page.links)

    def follow_once(self, links: list[Any]) -> Iterator[Request]:
        """One request per URL a page links to, however often it does (logo and nav, image and text link).

        The frontier checks a page's requests against the shared seen-set
        together (`linkcrawler.frontier.scheduler.Scheduler.flush`).
        """
        followed = set()
        for link in links:
            if link.target_url not in followed and self.domain_filter.allows(link.target_host):
                followed.add(link.target_url)
                yield self.page_request(link.target_url)

    def failed(self, failure: Failure) -> Iterator[PageItem]:
        """A request that failed for good: record the page with its error (robots.txt refusals are not fetches)."""
        request = failure.request
        if failure.check(IgnoreRequest):
            if LEASE_META in request.meta:
                self.crawler.signals.send_catch_log(request_done, leases=[request.meta[LEASE_META]])
            return
        self.last_active = time.time()
        url = self.extractor.normalize_url(request.url, request.url) or request.url
        message = failure.getErrorMessage().splitlines()[0] if failure.getErrorMessage() else ""
        error = f"{failure.type.__name__}: {message}"
        yield PageItem(
            url=url,
            fetched_at=self.shared_clock.now(),
            depth=request.meta.get("depth", 0),
            error=error,
            lease=request.meta.get(LEASE_META),
        )

    def on_opened(self) -> None:
        self._heartbeat = task.LoopingCall(self._beat)
        self._heartbeat.start(self.heartbeat_seconds)

    def on_closed(self) -> None:
        if self._heartbeat.running:
            self._heartbeat.stop()
        self.workers.beat(self.last_active, self.pages_seen, left=True)

    def _beat(self) -> None:
        """Report this worker; while it waits for work, look for some (seeds or other workers' links).

        Redis out of reach past its client's retries costs one warning a beat,
        never the heartbeat itself: the next beat tries again.
        """
        try:
            self.shared_clock.sync()
            self.workers.beat(self.last_active, self.pages_seen)
            if self.waiting and (self.queued() or self.server.llen(self.redis_key)):
                self.waiting = False
                self.wake_engine()
        except RedisError as error:
            self.logger.warning("heartbeat: Redis out of reach (%s); trying again in %s s", error,
                                self.heartbeat_seconds)  # fmt: skip

    def spider_idle(self) -> None:
        """Pull seeds when idle; close only when the whole crawl, not just this worker, is done.

        Requests leased by any worker count as pending: a dead worker's come
        back to the frontier once its lease expires, and someone must be
        there to fetch them. A worker that cannot see the frontier (Redis out
        of reach past its client's retries) does not close: it cannot know the
        crawl is done.
        """
        try:
            self._idle()
        except RedisError as error:
            self.logger.warning("idle: Redis out of reach (%s); not closing while the frontier cannot be seen", error)
            raise DontCloseSpider from error

    def _idle(self) -> None:
        self.schedule_next_requests()
        queued = self.queued()
        self.waiting = not queued
        if queued:
            self.wake_engine()
        if queued or self.server.llen(self.redis_key) or self.leased():
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
        scheduler = self.crawler.engine.scheduler
        return scheduler.queued() if hasattr(scheduler, "queued") else len(scheduler.queue)

    def leased(self) -> int:
        """Requests leased by any worker (none with stock scrapy-redis's scheduler)."""
        leases = getattr(self.crawler.engine.scheduler, "leases", None)
        return leases.leased() if leases is not None else 0

    def wake_engine(self) -> None:
        """Have the engine ask the frontier for requests now.

        An idle engine asks only every 5 seconds (Scrapy's heartbeat), so
        work queued meanwhile, by other workers or by `spider_idle` taking
        seeds, would wait for it (`linkcrawler.internals.scrapy_private`).
        """
        wake_engine(self.crawler.engine)
