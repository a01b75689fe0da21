"""The worker's log formatter: Scrapy's per-page DEBUG lines are made only when the log level writes them."""

from __future__ import annotations

import logging

import pytest
from scrapy import Request, Spider
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from linkcrawler.logs import LevelLogFormatter

URL = "http://site.example.com/a"


@pytest.mark.parametrize(
    ("level", "made"), [("INFO", False), ("WARNING", False), ("DEBUG", True), (logging.DEBUG, True)]
)
def test_per_page_debug_lines_are_made_only_at_the_debug_level(level, made):
    crawler = get_crawler(Spider, {"LOG_LEVEL": level})
    formatter = LevelLogFormatter.from_crawler(crawler)
    request = Request(URL)
    response = HtmlResponse(URL, body=b"<a href=/b>b</a>", request=request)
    spider = Spider("probe")

    crawled = formatter.crawled(request, response, spider)
    scraped = formatter.scraped({"url": URL}, response, spider)

    assert (crawled is not None, scraped is not None) == (made, made)
    if made:
        assert crawled["level"] == scraped["level"] == logging.DEBUG
