"""The backlinks spider on one response, without a crawl: what it records and what it follows."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from scrapy_redis.dupefilter import RFPDupeFilter

from bench.extract import real_pages
from linkcrawler.extract.items import PageItem
from linkcrawler.extract.links import Link
from linkcrawler.extract.urls import split_host
from linkcrawler.frontier.queueing import page_fingerprint
from spiders.backlinks import BacklinksSpider
from tests.test_extract_corpus import CASES

PAGE = b"""<html><body>
<header><a href="/"><img src="/logo.png" alt="Home"></a><a href="/">Home</a></header>
<p><a href="http://other.example.org/x">Other</a> and <a href="http://other.example.org/x#top">again</a>
<a href="/post">Post</a></p>
</body></html>"""


def test_a_page_linking_one_url_several_times_records_every_link_and_follows_it_once(redis_url):
    crawler = get_crawler(BacklinksSpider, {"REDIS_URL": redis_url})
    spider = BacklinksSpider.from_crawler(crawler)
    url = "http://site.example.com/a"
    response = HtmlResponse(url, body=PAGE, headers={"Content-Type": "text/html"}, request=Request(url))

    output = list(spider.parse(response))

    requests = [r.url for r in output if isinstance(r, Request)]
    [item] = [i for i in output if isinstance(i, PageItem)]
    assert sorted(requests) == [
        "http://other.example.org/x",
        "http://site.example.com/",
        "http://site.example.com/post",
    ]
    assert len(item.links) == 5


ODD_HREFS = """<a href="/a b/ä?q=ü&x=[1]|^`{}">spaces and more</a><a href="http://Bücher.example/ß?%7e=%41">idn</a>
<a href="//h.example:8080/%zz%2f/./x/../y?b=2&a=1&a=&c">escapes</a><a href="?q=%E2%82%AC €">euro</a>
<a href="http://[::1]:81/p;params?x#f">ipv6</a><a href="/ '\\"<>/">quotes</a>"""


def corpus_links(spider: BacklinksSpider) -> list[Link]:
    """Every link the spider's extractor gives on the hand-written cases, odd hrefs and the shared corpus's pages."""
    pages = [(html, url) for _, html, url, _, _ in CASES] + [(ODD_HREFS, "http://site.example.com/dir/page")]
    pages += [(html, url) for url, html in real_pages()]
    return [link for html, url in pages for link in spider.extractor.extract(html, url).links]


def corpus_urls(spider: BacklinksSpider) -> set[str]:
    return {link.target_url for link in corpus_links(spider)}


def test_the_spider_requests_every_link_at_the_url_scrapy_would_make_of_it(redis_url):
    """Page requests take their URL verbatim (Scrapy's making it safe again cost about 2% of a worker): every
    normalized URL must already be what Scrapy would send, or be made safe as before."""
    spider = BacklinksSpider.from_crawler(get_crawler(BacklinksSpider, {"REDIS_URL": redis_url}))
    urls = corpus_urls(spider)

    assert len(urls) > 100
    assert [url for url in sorted(urls) if spider.page_request(url).url != Request(url).url] == []


def test_a_page_is_fingerprinted_from_its_url_as_scrapy_redis_fingerprints_its_request(redis_url):
    """The frontier fingerprints a page without making its request or canonicalizing its URL again: the seen-set
    key must be the one scrapy-redis gives the page's request, or a URL queued both ways would be fetched twice."""
    spider = BacklinksSpider.from_crawler(get_crawler(BacklinksSpider, {"REDIS_URL": redis_url}))
    dupefilter = RFPDupeFilter(server=None, key="seen")
    urls = corpus_urls(spider)

    assert len(urls) > 100
    assert [url for url in sorted(urls)
            if page_fingerprint(url) != dupefilter.request_fingerprint(spider.page_request(url))] == []  # fmt: skip


def test_the_frontier_reads_the_host_of_every_link_as_it_is_stored(redis_url):
    """Politeness and the frontier's partitions take a link's site from its URL (`split_host`), reading a
    normalized URL's origin without normalizing it again: it must be the host and domain stored with the link."""
    spider = BacklinksSpider.from_crawler(get_crawler(BacklinksSpider, {"REDIS_URL": redis_url}))
    links = corpus_links(spider)

    assert len(links) > 100
    assert [link for link in links if split_host(link.target_url) != (link.target_host, link.target_domain)] == []


def test_a_page_with_a_header_that_is_not_utf8_is_recorded_with_its_links(redis_url):
    """Scrapy's `Headers.to_unicode_dict` raises on such a header, which would lose the page."""
    spider = BacklinksSpider.from_crawler(get_crawler(BacklinksSpider, {"REDIS_URL": redis_url}))
    url = "http://site.example.com/a"
    headers = {"Content-Type": "text/html", "Content-Disposition": b"inline; filename=caf\xe9.html"}
    response = HtmlResponse(url, body=PAGE, headers=headers, request=Request(url))

    [item] = [i for i in spider.parse(response) if isinstance(i, PageItem)]

    assert (item.url, item.content_type, item.parsed, len(item.links)) == (url, "text/html", True, 5)
