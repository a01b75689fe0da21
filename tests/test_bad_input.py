"""Bad input from the web, each kind served by the synthetic web to a real crawl (two worker processes).

One crawl of a small synthetic web runs with every kind of bad input at once,
each on pages of its own (see `BAD`), under tight limits; each test then
checks what happened to its pages. The crawl itself must end on its own with
both workers exiting cleanly, whatever the web threw at it.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from linkcrawler.frontier.connection import connect_redis
from linkcrawler.local.demo import LocalCrawl
from linkcrawler.local.synthweb import WebServer, fetchable_pages, generate_web
from tests.conftest import REAL_MONGO_URI

pytestmark = [pytest.mark.faults, pytest.mark.slow]

PNG = "\x89PNG\r\n\x1a\n" + "\x00\x10IHDR" + "".join(map(chr, range(256))) + '<a href="http://x.example/">x</a>'
BROKEN_UTF8 = (
    '<html><head><meta charset="utf-8"></head><body>caf\xe9 \xff\xfe\xc3('
    '<a href="http://invalid-encoding-target.example/landing">d\xe9j\xe0 vu \xff</a></body></html>'
)
LATIN1_LOCATION = "http://latin1-location.example/caf\xe9"
"""Sent as one byte 0xE9, not UTF-8: servers that write Latin-1 into headers exist."""
MALFORMED_ROBOTS = "\x00\xff\xfeUser-agent *\nDisallow\n::::\n<html>not robots</html>\nCrawl-delay: soon\n" * 50
HUGE = (
    '<html><body><a href="http://before-the-cut.example/">early</a>'
    + "<p>" + "filler " * 20_000 + "</p>"
    + '<a href="http://after-the-cut.example/">late</a></body></html>'
)  # fmt: skip
RUNAWAY = (
    '<html><body><a href="http://before-the-runaway.example/">early</a>'
    + "".join(f"<b {i}>" for i in range(3000)) + "".join(f"<i {i}>" for i in range(3000)) + "x</b>" * 3000
    + "</body></html>"
)  # fmt: skip
"""Formatting elements left open with attributes of their own (lexbor issue 340): cut at MAX_DOCUMENT_LENGTH, about
10 s of parsing, growing with the cube of the page."""
SETTINGS = {
    "DEPTH_LIMIT": 6,
    "MAX_QUERY_PARAMS": 3,
    "MAX_URL_LENGTH": 400,
    "DOWNLOAD_MAXSIZE": 1024 * 1024,
    "DOWNLOAD_WARNSIZE": 256 * 1024,
    "DOWNLOAD_TIMEOUT": 2,
    "RETRY_TIMES": 1,
    "MAX_DOCUMENT_LENGTH": 50_000,
    "PARSE_TIMEOUT": 1,
}


def pick_pages(web, count):
    """Regular HTML pages (not seeds), each on a different site, in a stable order."""
    seeds, chosen, hosts = set(web.seeds), [], set()
    for url in sorted(fetchable_pages(web)):
        page = web.pages[url]
        if url in seeds or page.kind != "html" or page.status != 200 or page.host in hosts:
            continue
        chosen.append(url)
        hosts.add(page.host)
    return chosen[:count]


@pytest.fixture(scope="module")
def outcome(redis_url):
    """Run the crawl once; hand each test the pages it set up, the server's hits, the store and worker logs."""
    web = generate_web(seed=7, sites=12, pages_per_site=6)
    database = f"linkcrawler_bad_{uuid.uuid4().hex[:8]}"
    redis = connect_redis(redis_url)
    redis.flushdb()
    with LocalCrawl(redis_url, REAL_MONGO_URI, database=database) as crawl:
        with WebServer(web) as server:
            loop_a, loop_b, calendar, bomb, binary, encoding, slow, hang, huge, runaway, latin1 = pick_pages(
                server.web, 11
            )
            robots_site = next(site for site in server.web.sites if site.has_robots and not site.disallow)
            pages = {"loop_a": loop_a, "loop_b": loop_b, "calendar": calendar, "bomb": bomb, "binary": binary,
                     "encoding": encoding, "slow": slow, "hang": hang, "huge": huge, "runaway": runaway,
                     "latin1": latin1,
                     "robots": server.url(robots_site.host, "/robots.txt")}  # fmt: skip
            server.set_behaviour(loop_a, "redirect", location=loop_b)
            server.set_behaviour(loop_b, "redirect", location=loop_a)
            server.set_behaviour(calendar, "calendar")
            server.set_behaviour(bomb, "gzip_bomb", size=32 * 1024 * 1024)
            server.set_behaviour(binary, "body", text=PNG)
            server.set_behaviour(encoding, "body", text=BROKEN_UTF8, content_type="text/html; charset=utf-8")
            server.set_behaviour(slow, "slow", seconds=6)
            server.set_behaviour(hang, "hang")
            server.set_behaviour(huge, "body", text=HUGE)
            server.set_behaviour(runaway, "body", text=RUNAWAY)
            server.set_behaviour(latin1, "redirect", location=LATIN1_LOCATION)
            server.set_behaviour(pages["robots"], "body", text=MALFORMED_ROBOTS, content_type="text/plain")
            result = crawl.crawl(server.seeds, server.hosts, workers=2, timeout=240, settings=SETTINGS)
            hits = server.hits()
            web_served = server.web
        stored = {
            "stored": {doc["_id"]: doc for doc in crawl.store.pages.find()},
            "links": list(crawl.store.links.find()),
        }
        logs = "\n".join(path.read_text(errors="replace") for path in Path(crawl.workdir).glob("worker-*.log"))
        crawl.store.db.client.drop_database(database)
    redis.flushdb()
    redis.close()
    yield {"bad": pages, "hits": hits, "result": result, "web": web_served, "logs": logs, **stored}


def test_the_crawl_ends_by_itself_with_clean_workers(outcome):
    """Injects: all the bad input below at once. Proves: both workers close on their own, exit status 0."""
    assert outcome["result"].worker_exit_codes == [0, 0], outcome["result"].logs


def test_a_redirect_loop_ends_after_one_fetch_of_each_hop(outcome):
    """Injects: two pages redirecting to each other. Proves: each is fetched once and stored with its redirect."""
    a, b = outcome["bad"]["loop_a"], outcome["bad"]["loop_b"]
    assert outcome["hits"].get(a) == 1 and outcome["hits"].get(b) == 1
    stored = outcome["stored"]
    assert stored[a]["status"] == 302 and stored[a]["redirect_to"] == b
    assert stored[b]["status"] == 302 and stored[b]["redirect_to"] == a


def test_an_infinite_calendar_is_bounded_by_depth_url_length_and_query_parameters(outcome):
    """Injects: a calendar whose every page links the next month, one more query parameter and a longer URL.

    Proves: the crawl of it stops on all three axes: depth (DEPTH_LIMIT),
    query parameters (MAX_QUERY_PARAMS, counted as skipped) and URL length
    (MAX_URL_LENGTH, counted as too_long).
    """
    base = outcome["bad"]["calendar"]
    fetched = [url for url in outcome["hits"] if url.startswith(base)]
    assert 5 < len(fetched) < 200
    assert all(url.count("&") + 1 <= SETTINGS["MAX_QUERY_PARAMS"] for url in fetched if "?" in url)
    assert all(len(url) <= SETTINGS["MAX_URL_LENGTH"] for url in fetched)
    months = {int(url.split("month=")[1].split("&")[0]) for url in fetched if "month=" in url}
    assert max(months) <= SETTINGS["DEPTH_LIMIT"]
    assert "'linkcrawler/skipped/query_params'" in outcome["logs"]
    assert "'linkcrawler/skipped/too_long'" in outcome["logs"]


def test_a_gzip_bomb_is_cut_at_the_size_limit_and_recorded_as_an_error(outcome):
    """Injects: 32 MiB of HTML gzipped to about 32 KB. Proves: DOWNLOAD_MAXSIZE stops the inflation, and the
    page is stored with a ResponseTooLarge error instead of vanishing like a robots.txt refusal."""
    page = outcome["stored"][outcome["bad"]["bomb"]]
    assert page["error"].startswith("ResponseTooLarge") and "DOWNLOAD_MAXSIZE" in page["error"]


def test_binary_bytes_labelled_html_are_recorded_and_not_parsed(outcome):
    """Injects: a PNG (with an anchor tag inside) served as text/html. Proves: stored as a page, not parsed."""
    url = outcome["bad"]["binary"]
    page = outcome["stored"][url]
    assert page["status"] == 200 and page["parsed"] is False and page["outlinks"] == 0
    assert not [link for link in outcome["links"] if link["source_url"] == url]


def test_invalid_encoding_still_yields_its_links(outcome):
    """Injects: a page declared UTF-8 with bytes that are not UTF-8. Proves: it is parsed and its link stored."""
    url = outcome["bad"]["encoding"]
    [link] = [link for link in outcome["links"] if link["source_url"] == url]
    assert link["target_url"] == "http://invalid-encoding-target.example/landing"
    assert link["anchor"].startswith("d") and "vu" in link["anchor"]
    assert outcome["stored"][url]["parsed"] is True


def test_a_header_that_is_not_utf8_is_read_as_a_browser_reads_it(outcome):
    """Injects: a redirect whose Location holds a Latin-1 byte. Proves: the page is stored with its redirect link,
    the byte percent-encoded as browsers and Scrapy's redirect middleware write it."""
    url = outcome["bad"]["latin1"]
    [link] = [link for link in outcome["links"] if link["source_url"] == url]
    assert link["target_url"] == "http://latin1-location.example/caf%E9"
    assert outcome["stored"][url]["redirect_to"] == "http://latin1-location.example/caf%E9"


def test_slow_and_hanging_servers_hit_the_download_timeout_and_are_recorded(outcome):
    """Injects: a page answering after 6 s and one never answering, DOWNLOAD_TIMEOUT 2 s, one retry.

    Proves: both are given up after the timeout (fetched twice: first try
    and retry) and stored with a timeout error; the rest of the crawl goes on.
    """
    for name in ("slow", "hang"):
        url = outcome["bad"][name]
        assert outcome["hits"].get(url) == 2
        assert "Timeout" in outcome["stored"][url]["error"], outcome["stored"][url]


def test_an_oversized_document_is_cut_at_max_document_length(outcome):
    """Injects: a 140 KB page with MAX_DOCUMENT_LENGTH 50,000. Proves: links before the cut are stored, those
    after it are not, and the cut is counted as linkcrawler/skipped/truncated."""
    url = outcome["bad"]["huge"]
    targets = {link["target_url"] for link in outcome["links"] if link["source_url"] == url}
    assert targets == {"http://before-the-cut.example/"}
    assert "'linkcrawler/skipped/truncated'" in outcome["logs"]


def test_a_page_whose_parse_runs_away_is_given_up_and_recorded(outcome):
    """Injects: markup crafted against the HTML5 tree builder, about 10 s of parsing, with PARSE_TIMEOUT 1.
    Proves: the page is stored, its body's links are not, one warning names it, and the crawl goes on (the
    crawl test above: it ends by itself with clean workers)."""
    url = outcome["bad"]["runaway"]
    assert outcome["stored"][url]["parsed"] is False
    assert not [link for link in outcome["links"] if link["source_url"] == url]
    assert outcome["logs"].count(f"gave up parsing {url}") == 1
    assert "'linkcrawler/skipped/parse_timeout': 1" in outcome["logs"]


def test_a_malformed_robots_txt_does_not_break_the_crawl_of_its_site(outcome):
    """Injects: binary junk and broken directives as robots.txt. Proves: the site's pages are still crawled."""
    robots = outcome["bad"]["robots"]
    host = robots.split("/")[2]
    site_pages = {url for url in fetchable_pages(outcome["web"]) if url.split("/")[2] == host}
    assert outcome["hits"].get(robots, 0) >= 1
    assert site_pages and site_pages <= set(outcome["hits"])
