"""A page whose parse runs away (markup crafted against the HTML5 tree builder) cannot stall a worker."""

from __future__ import annotations

import time

from scrapy import Request
from scrapy.exceptions import CloseSpider
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from linkcrawler.extract.document import INLINE_LENGTH, RUNAWAY_LIMIT
from linkcrawler.extract.items import PageItem
from linkcrawler.extract.page import SKIP_PARSE_TIMEOUT, Extractor
from spiders.backlinks import BacklinksSpider

URL = "http://site.example.com/page"


def crafted(n: int) -> str:
    """Formatting elements left open, each with attributes of its own, then text closing them one by one: the
    tree builder reconstructs the open ones for every text node (lexbor issue 340); cubic in `n`, about 2 s of
    Lexbor at 1,500 here, where lxml takes milliseconds."""
    opened = "".join(f"<b {i}>" for i in range(n)) + "".join(f"<i {i}>" for i in range(n))
    return f'<html><body><a href="http://early.example/">early</a>{opened}{"x</b>" * n}</body></html>'


def long_page(links: int) -> str:
    rows = "".join(f'<li><a href="/post/{n}" rel="{"nofollow" if n % 3 else ""}">Post <b>{n}</b></a></li>'
                   for n in range(links))  # fmt: skip
    return f"<html><head><title>t</title></head><body><nav><a href='/'>Home</a></nav><ul>{rows}</ul></body></html>"


def wait_until_no_runaway(extractor: Extractor, timeout: float = 120) -> None:
    """The given-up parses end by themselves; wait for them, so that no thread outlives the test."""
    deadline = time.monotonic() + timeout
    while extractor.parser.runaway() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert extractor.parser.runaway() == 0


def test_a_page_past_the_parse_timeout_keeps_its_header_links_and_the_next_page_is_read_in_full():
    extractor = Extractor(parse_timeout=0.2)
    headers = {"Link": '<http://site.example.com/canonical>; rel="canonical"'}

    given_up = extractor.extract(crafted(1500), URL, headers)
    runaway_after = extractor.parser.runaway()
    page = long_page(400)
    after = extractor.extract(page, URL)

    assert given_up.skipped[SKIP_PARSE_TIMEOUT] == 1
    assert [(link.target_url, link.link_type) for link in given_up.links] == [
        ("http://site.example.com/canonical", "canonical")
    ]
    assert runaway_after == 1
    assert len(page) > INLINE_LENGTH
    assert after.links == Extractor(parse_timeout=0).extract(page, URL).links  # parsed in the calling thread
    assert len(after.links) == 401 and not after.skipped
    wait_until_no_runaway(extractor)


def test_a_worker_holding_as_many_runaway_parses_as_allowed_closes_after_storing_the_page(redis_url):
    crawler = get_crawler(BacklinksSpider, {"REDIS_URL": redis_url, "PARSE_TIMEOUT": 0.2})
    spider = BacklinksSpider.from_crawler(crawler)
    outputs = []
    for n in range(RUNAWAY_LIMIT):
        url = f"{URL}/{n}"
        response = HtmlResponse(url, body=crafted(1800 + n).encode(), headers={"Content-Type": "text/html"},
                                request=Request(url))  # fmt: skip
        output = []
        try:
            output.extend(spider.parse(response))
        except CloseSpider as close:
            output.append(close)
        outputs.append(output)

    *first, last = outputs
    for output in first:
        assert [type(o) for o in output] == [PageItem]
    assert [type(o) for o in last] == [PageItem, CloseSpider]
    assert last[1].reason == "runaway_parses"
    assert [item.skipped[SKIP_PARSE_TIMEOUT] for item, *_ in outputs] == [1] * RUNAWAY_LIMIT
    wait_until_no_runaway(spider.extractor)
