"""Fault: every page of a site answers 503 once, with the domain's page budget exactly its page count."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from linkcrawler.local.synthweb import WebServer, fetchable_pages, generate_web
from tests.conftest import local_crawl
from tests.crawlfaults import finish, leased, log_report, page_hits

pytestmark = [pytest.mark.faults, pytest.mark.slow]


def test_retried_pages_of_a_domain_at_its_budget_are_all_stored(redis_client, redis_url):
    """Injects: every page of one site (a registered domain of its own, no robots.txt exclusions) answers
    503 to its first request and normally afterwards; `PAGES_PER_DOMAIN` is that site's page count, so
    the domain reaches its budget with its own pages (issue 23 #2).

    Proves: Scrapy's retry of a page is not counted against the budget a second time: every page of the
    site is fetched again after its 503 and stored with its real answer, the budget refuses nothing of it,
    and the workers close by themselves with no lease left. Before, the retries past the budget were
    refused after their leases were acknowledged, and those pages were never stored.
    """
    web = generate_web(seed=3, sites=3, pages_per_site=8)
    with WebServer(web) as server, local_crawl(redis_url, "linkcrawler_retry_budget") as crawl:
        expected = fetchable_pages(server.web)
        site = max((s for s in server.web.sites if not s.disallow and s.host == s.domain),
                   key=lambda s: sum(urlsplit(url).hostname == s.host for url in expected))  # fmt: skip
        flaky = {url for url in expected if urlsplit(url).hostname == site.host}
        for url in flaky:
            server.set_behaviour(url, "flaky", failures=1, status=503)
        crawl.seed(server.seeds)
        workers = crawl.start_workers(2, server.hosts, {"PAGES_PER_DOMAIN": len(flaky), "RETRY_TIMES": 2})
        codes = finish(crawl, workers, timeout=120)
        hits = page_hits(server.hits())
        stored = {doc["_id"]: doc for doc in crawl.store.pages.find()}
        logs = [w.log_path.read_text(errors="replace") for w in workers]
        still_leased = leased(crawl)

    assert codes == [0, 0], [log_report(log) for log in logs]
    assert sorted(url for url in flaky if hits.get(url, 0) < 2) == []  # the 503, then the retry
    assert sorted(flaky - set(stored))[:10] == []
    assert [url for url in flaky if stored[url].get("error") or stored[url].get("status") == 503] == []
    assert not any(f"{site.domain} reached PAGES_PER_DOMAIN" in log for log in logs)
    assert still_leased == 0
