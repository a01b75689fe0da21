"""A page's links onto the frontier in one call, not a Request each.

A page links to dozens of pages, nearly all of them seen already. Yielded as
requests, each link cost a `Request` (its URL escaped again), a pass through
every spider middleware, an engine step and a `request_scheduled` signal:
about a fifth of a worker's CPU on the crawl bench (py-spy), several times
what parsing the page cost. So the backlinks spider sends a page's links
with one signal, `follow_pages`, and the frontier's scheduler queues them as
pages (`linkcrawler.frontier.serializer.Page`: a URL and a depth), made into
requests by the spider's `page_request` only once popped.

The rules the spider middlewares apply to a request apply here, once per
link (`Following`): Scrapy's `DEPTH_LIMIT` and `DEPTH_PRIORITY`, as its
`DepthMiddleware` applies them, and `MAX_QUERY_PARAMS`
(`linkcrawler.frontier.scope`). Spider middlewares of a project's own do not
see these links. A scheduler that does not answer the signal (stock
scrapy-redis's, Scrapy's own) gets a request per link from the spider.
"""

from __future__ import annotations

import logging
from typing import Any

from linkcrawler import config
from linkcrawler.frontier.scope import SKIPPED_QUERY_PARAMS, too_many_query_params
from linkcrawler.frontier.serializer import Page

logger = logging.getLogger(__name__)

follow_pages = object()
"""Signal a spider sends with `urls` (a page's links to follow, once each) and `depth` (theirs: the page's plus
one). A receiver that queued them returns True; a spider sending it makes its page requests with
`page_request(url)`."""


class Following:
    """Which of a page's links the crawl follows, and their priority.

    Settings read here: Scrapy's `DEPTH_LIMIT` (0: no limit),
    `DEPTH_PRIORITY` (a request's priority is minus its depth times it) and
    `DEPTH_STATS_VERBOSE`, and `MAX_QUERY_PARAMS`. The stats are those the
    middlewares keep: `depth/request_ignored_count`, `request_depth_max`
    (and `request_depth_count/N`), `linkcrawler/skipped/query_params`.
    """

    def __init__(self, stats: Any, *, depth_limit: int = 0, depth_priority: int = 0, depth_stats: bool = False,
                 max_query_params: int = 0) -> None:  # fmt: skip
        self.stats = stats
        self.depth_limit = depth_limit
        self.depth_priority = depth_priority
        self.depth_stats = depth_stats
        self.max_query_params = max_query_params

    @classmethod
    def from_crawler(cls, crawler: Any) -> Following:
        settings = crawler.settings
        return cls(
            crawler.stats,
            depth_limit=config.get(settings, "DEPTH_LIMIT"),
            depth_priority=settings.getint("DEPTH_PRIORITY"),
            depth_stats=settings.getbool("DEPTH_STATS_VERBOSE"),
            max_query_params=config.get(settings, "MAX_QUERY_PARAMS"),
        )

    def pages(self, urls: list[str], depth: int) -> list[Page]:
        """The pages of `urls` to follow at `depth`."""
        if self.depth_limit and depth > self.depth_limit:
            logger.debug("Ignoring %d link(s) (depth > %d)", len(urls), self.depth_limit)
            self.stats.inc_value("depth/request_ignored_count", len(urls))
            return []
        pages = [Page(url, depth) for url in urls if not self._too_many_params(url)]
        if pages:
            self.stats.max_value("request_depth_max", depth)
            if self.depth_stats:
                self.stats.inc_value(f"request_depth_count/{depth}", len(pages))
        return pages

    def priority(self, page: Page) -> int:
        return -page.depth * self.depth_priority

    def _too_many_params(self, url: str) -> bool:
        query = url.partition("?")[2].partition("#")[0]
        if not too_many_query_params(query, self.max_query_params):
            return False
        logger.debug("not following %s: more than %d query parameters", url, self.max_query_params)
        self.stats.inc_value(SKIPPED_QUERY_PARAMS)
        return True
