"""Limits that keep bad input from trapping or silently eating a crawl.

Two gaps in Scrapy's own guards, filled here:

- Infinite URL spaces (calendars, faceted search) grow by depth, by length
  and by query parameters. Depth has `DEPTH_LIMIT` and length
  `MAX_URL_LENGTH` (see `linkcrawler.extract`); `QueryParamsMiddleware`
  bounds the third: a link with more parameters than `MAX_QUERY_PARAMS` is
  stored but not followed.
- A compressed body that inflates past `DOWNLOAD_MAXSIZE` makes Scrapy's
  `HttpCompressionMiddleware` raise `IgnoreRequest`, which a spider cannot
  tell from a robots.txt refusal, so the page would vanish without a
  record. `HttpCompressionMiddleware` here raises `ResponseTooLarge`
  instead, and the page is recorded with that error.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware as ScrapyHttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from scrapy.utils.httpobj import urlparse_cached

logger = logging.getLogger(__name__)

DEFAULT_MAX_QUERY_PARAMS = 16
SKIPPED_QUERY_PARAMS = "linkcrawler/skipped/query_params"


class ResponseTooLarge(Exception):
    """A response body (after decompression) over `DOWNLOAD_MAXSIZE`."""


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
        max_params = crawler.settings.getint("MAX_QUERY_PARAMS", DEFAULT_MAX_QUERY_PARAMS)
        if max_params <= 0:
            raise NotConfigured
        return cls(crawler, max_params)

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        query = urlparse_cached(request).query
        if not query or query.count("&") < self.max_params:
            return request
        if sum(1 for part in query.split("&") if part) <= self.max_params:
            return request
        logger.debug("not following %s: more than %d query parameters", request.url, self.max_params)
        self.crawler.stats.inc_value(SKIPPED_QUERY_PARAMS)
        return None


class HttpCompressionMiddleware(ScrapyHttpCompressionMiddleware):
    """Scrapy's, with a body that inflates past `DOWNLOAD_MAXSIZE` failing as `ResponseTooLarge`.

    Replaces `scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware`
    at the same order (590); reads the same settings (`DOWNLOAD_MAXSIZE`, `DOWNLOAD_WARNSIZE`).
    """

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:
            raise ResponseTooLarge(str(exc)) from exc
