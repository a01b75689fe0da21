"""The bare Scrapy baseline: settings module and spider in one, run as `scrapy crawl bare`.

What a user would write with Scrapy alone: its in-memory scheduler and
dupefilter, no item pipelines, a spider that follows every `a[href]` with
`response.follow_all`. Everything that sets the pace is taken from our
settings (`settings.base`), so both sides run with the same concurrency,
the same robots.txt obedience (both fetch and obey it), timeouts, retries
and user agent. The synthetic web is reached through our resolver
(`CRAWL_HOSTS`, passed by the benchmark as to our workers); Scrapy caches
each name, so it costs one lookup per host. Redirects are Scrapy's default
(followed in the downloader), error pages are dropped before the spider:
bare Scrapy's defaults, where our worker records both.

The floor, `scrapy crawl floor`, is the same Scrapy with nothing to do
per page: it fetches every URL of a list (`BENCH_URLS_FILE`, a JSON list:
every page of the benchmark's web) and parses none of them. What a page
costs it is what Scrapy itself costs per page (download, middlewares,
scheduler, dupefilter), the least CPU any Scrapy crawler can spend.

`bench.crawl` runs both with `SCRAPY_SETTINGS_MODULE=bench.baseline`; the
seeds come in `BENCH_SEEDS` (a JSON list).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse

from settings.base import (  # noqa: F401 (settings of this module, shared with our workers)
    CONCURRENT_ITEMS,
    CONCURRENT_REQUESTS,
    CONCURRENT_REQUESTS_PER_DOMAIN,
    DOWNLOAD_DELAY,
    DOWNLOAD_MAXSIZE,
    DOWNLOAD_TIMEOUT,
    DOWNLOAD_WARNSIZE,
    LOG_LEVEL,
    RETRY_HTTP_CODES,
    RETRY_TIMES,
    ROBOTSTXT_OBEY,
    ROBOTSTXT_PARSER,
    TELNETCONSOLE_ENABLED,
    TWISTED_DNS_RESOLVER,
    USER_AGENT,
)

BOT_NAME = "bare"
SPIDER_MODULES = ["bench.baseline"]


class BareSpider(scrapy.Spider):
    name = "bare"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in json.loads(self.settings.get("BENCH_SEEDS", "[]")):
            yield scrapy.Request(url)

    def parse(self, response: Response) -> Iterator[Any]:
        if isinstance(response, TextResponse):
            yield from response.follow_all(xpath="//a/@href")


class FloorSpider(scrapy.Spider):
    name = "floor"

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in json.loads(Path(self.settings["BENCH_URLS_FILE"]).read_text()):
            yield scrapy.Request(url)

    def parse(self, response: Response) -> None:
        """Nothing: the floor's pages cost Scrapy's work alone."""
