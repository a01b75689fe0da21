"""What the crawl follows: users' allowed and denied domain lists, and a bound on infinite URL spaces.

Infinite URL spaces (calendars, faceted search) grow by depth, by length and
by query parameters. Depth has `DEPTH_LIMIT` and length `MAX_URL_LENGTH`
(see `linkcrawler.extract.urls`); `QueryParamsMiddleware` bounds the third: a
link with more parameters than `MAX_QUERY_PARAMS` is stored but not followed
(as are the links the spider hands the frontier in one call,
`linkcrawler.frontier.following`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from scrapy.utils.httpobj import urlparse_cached

from linkcrawler import config

logger = logging.getLogger(__name__)

SKIPPED_QUERY_PARAMS = "linkcrawler/skipped/query_params"


def _clean(domains: Iterable[str]) -> tuple[str, ...]:
    return tuple(d.strip().lower().lstrip(".") for d in domains if d.strip())


class DomainFilter:
    """A host passes when it is, or is under, an allowed domain (if any) and under no denied one."""

    def __init__(self, allowed: Iterable[str] = (), denied: Iterable[str] = ()) -> None:
        self.allowed = _clean(allowed)
        self.denied = _clean(denied)

    def allows(self, host: str) -> bool:
        host = host.lower()
        if self.denied and _under_any(host, self.denied):
            return False
        return not self.allowed or _under_any(host, self.allowed)


def _under_any(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


class QueryParamsMiddleware(BaseSpiderMiddleware):
    """Spider middleware: requests whose URL has more than `MAX_QUERY_PARAMS` query parameters are dropped.

    Settings read here: `MAX_QUERY_PARAMS` (default 16; 0 disables). Real
    pages rarely need more; a faceted or calendar page that adds one
    parameter per click reaches it in a few hops. Dropped requests are
    counted as `linkcrawler/skipped/query_params`; the links themselves are
    still stored, as for other links the crawler does not follow.
    """

    def __init__(self, crawler: Any, max_params: int) -> None:
        super().__init__(crawler)
        self.max_params = max_params

    @classmethod
    def from_crawler(cls, crawler: Any) -> QueryParamsMiddleware:
        max_params = config.get(crawler.settings, "MAX_QUERY_PARAMS")
        if max_params <= 0:
            raise NotConfigured
        return cls(crawler, max_params)

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        if not too_many_query_params(urlparse_cached(request).query, self.max_params):
            return request
        logger.debug("not following %s: more than %d query parameters", request.url, self.max_params)
        self.crawler.stats.inc_value(SKIPPED_QUERY_PARAMS)
        return None


def too_many_query_params(query: str, limit: int) -> bool:
    """Whether a URL's query has more than `limit` parameters (0: no limit); empty ones (`a=1&&b=2`) not counted."""
    if limit <= 0 or not query or query.count("&") < limit:
        return False
    return sum(1 for part in query.split("&") if part) > limit
