"""The backlinks spider on one response, without a crawl: what it records and what it follows."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from linkcrawler.extract.items import PageItem
from spiders.backlinks import BacklinksSpider

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
