"""The backlinks spider: fetch a page, record it and every link on it, follow its links.

Seeds come from the shared Redis list `backlinks:start_urls` (pushed by
`linkcrawler seed`); followed links go to the shared frontier
(`linkcrawler.frontier.scheduler.Scheduler`), a page's in one signal
(`linkcrawler.frontier.following`), so any number of workers split the crawl.
All parsing lives in `linkcrawler.extract.page`; this module only wires it to
Scrapy. Heartbeats, taking seeds and closing when the crawl is done are the
`linkcrawler.frontier.heartbeat.Heartbeat` extension's.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy_redis.spiders import RedisSpider
from twisted.python.failure import Failure

from linkcrawler import config
from linkcrawler.extract.directives import header_values
from linkcrawler.extract.document import RUNAWAY_LIMIT, is_html
from linkcrawler.extract.items import PageItem
from linkcrawler.extract.links import PageLinks
from linkcrawler.extract.page import SKIP_PARSE_TIMEOUT, Extractor
from linkcrawler.frontier import keys
from linkcrawler.frontier.connection import redis_from_settings
from linkcrawler.frontier.following import follow_pages
from linkcrawler.frontier.leases import LEASE_META, request_done
from linkcrawler.frontier.scope import DomainFilter
from linkcrawler.frontier.sharedclock import SharedClock

SAFE_URL = re.compile(r"https?://[a-z0-9._:\[\]-]+(?:/(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-F]{2})*)?")
"""A URL Scrapy sends as it is: a lower-case host (an IPv6 one in brackets), then only characters `safe_url_string`
leaves alone, escapes in upper case."""


class BacklinksSpider(RedisSpider):
    """Settings read here (besides the extractor's, see `linkcrawler.extract.page`):

    - `ALLOWED_DOMAINS` / `DENIED_DOMAINS` (lists of domains, default empty):
      follow only links whose host is, or is under, an allowed domain, and
      never those under a denied one. Links are stored either way.
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
        spider.shared_clock = SharedClock(spider.server)  # dates pages and links by Redis's clock, not this host's
        return spider

    async def start(self) -> AsyncIterator[Request]:
        """No start requests: seeds come from the start list when the crawl opens and at each idle turn
        (`linkcrawler.frontier.heartbeat.Heartbeat.take_seeds`)."""
        return
        yield

    def spider_idle(self) -> None:
        """scrapy-redis's idle turn is replaced by the heartbeat's, which closes once the whole crawl is done
        (scrapy-redis's keeps every worker open)."""

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

        `url` is normalized already (`linkcrawler.extract.urls`: the form
        w3lib's `canonicalize_url` writes). When it holds only characters
        Scrapy would send as they are (`SAFE_URL`), it is taken verbatim:
        making it safe again cost about 2% of a worker's time. The rest (a
        `|` or `[` in a path, which `canonicalize_url` keeps: 10 of the 14,112
        URLs of the shared corpus) are made safe by Scrapy as before.
        """
        verbatim = bool(SAFE_URL.fullmatch(url))
        return Request(url, errback=self.failed, meta={"dont_redirect": True, "verbatim_url": verbatim})

    def parse(self, response: Response) -> Iterator[Any]:
        """The page's item, with the requests for its links.

        Its headers are decoded once, for the item and the extractor (see
        `header_values`: a header that is not UTF-8 does not cost the page),
        and an HTML page's URL is the one its extraction normalized.
        """
        headers = header_values(response.headers)
        page = self.extract(response, headers)
        item = PageItem(
            url=page.url if page else self.extractor.normalize_url(response.url, response.url) or response.url,
            fetched_at=self.shared_clock.now(),
            status=response.status,
            content_type=headers.get("content-type"),
            ip=str(response.ip_address) if response.ip_address else None,
            size=len(response.body),
            depth=response.meta.get("depth", 0),
            lease=response.meta.get(LEASE_META),
        )
        if 300 <= response.status < 400:
            yield from self.follow_redirect(response, item, headers.get("location"))
        elif page is not None:
            yield from self.follow_links(response, item, page)
        yield item
        if self.extractor.parser.runaway() >= RUNAWAY_LIMIT:
            # Each given-up parse holds a core until it ends, maybe never: a fresh process ends them.
            raise CloseSpider("runaway_parses")

    def extract(self, response: Response, headers: dict[str, Any]) -> PageLinks | None:
        """The links of an HTML page fetched whole (status 200), or None for any other response."""
        if response.status != 200 or not isinstance(response, TextResponse):
            return None
        if not is_html(headers.get("content-type"), response.body[:1024]):
            return None
        return self.extractor.extract(response.text, response.url, headers)

    def follow_redirect(self, response: Response, item: PageItem, location: str | None) -> Iterator[Request]:
        link = self.extractor.redirect_link(location, response.url) if location else None
        if link is None:
            return
        item.redirect_to = link.target_url
        item.links = [link]
        if self.domain_filter.allows(link.target_host):
            yield from self.follow([link.target_url], response)

    def follow_links(self, response: TextResponse, item: PageItem, page: PageLinks) -> Iterator[Request]:
        item.parsed = not page.skipped[SKIP_PARSE_TIMEOUT]
        item.links = page.links
        item.canonical = page.canonical
        item.robots = page.robots
        item.skipped = page.skipped
        allows = self.domain_filter.allows
        yield from self.follow(list(dict.fromkeys(link.target_url for link in page.links if allows(link.target_host))),
                               response)  # fmt: skip

    def follow(self, urls: list[str], response: Response) -> Iterator[Request]:
        """The pages `response` links to, each URL once however often it does (logo and nav, image and text link).

        They go to the frontier in one signal (`follow_pages`), not as a
        request each; a scheduler that takes no such signal gets them as
        requests, made by `page_request`.
        """
        if not urls:
            return
        depth = response.meta.get("depth", 0) + 1
        taken = self.crawler.signals.send_catch_log(follow_pages, urls=urls, depth=depth)
        if not any(result is True for _, result in taken):
            yield from map(self.page_request, urls)

    def failed(self, failure: Failure) -> Iterator[PageItem]:
        """A request that failed for good: record the page with its error (robots.txt refusals are not fetches)."""
        request = failure.request
        if failure.check(IgnoreRequest):
            if LEASE_META in request.meta:
                self.crawler.signals.send_catch_log(request_done, leases=[request.meta[LEASE_META]])
            return
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
