"""The Bloom-filter seen-set on a real Redis: sizing, its false-positive bound, the frontier and new runs."""

from __future__ import annotations

import hashlib
import math

import pytest
from scrapy import Request

from linkcrawler.errors import UserError
from linkcrawler.extract.urls import split_host
from linkcrawler.frontier.bloom import BloomDupeFilter, BloomFilter, BloomLayout
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.frontier.seeds import start_new_run
from linkcrawler.local.synthweb import WebServer, fetchable_pages, generate_web
from tests.conftest import local_crawl
from tests.test_frontier import open_scheduler, queued

pytestmark = pytest.mark.faults

BLOOM = "linkcrawler.frontier.bloom.BloomDupeFilter"
PARTITIONS = Partitions("backlinks", 16)


def fingerprints(start, count):
    return [hashlib.sha1(f"https://example.com/{n}".encode()).digest() for n in range(start, start + count)]


def test_layout_follows_the_standard_formulas_within_a_few_percent():
    """The bits allocated are the formula's m (1.44 log2(1/p) bits per URL) plus at most 3%, in sane allocations."""
    for capacity, rate in [(1_000_000, 0.001), (100_000_000, 0.001), (50_000, 0.01)]:
        layout = BloomLayout.plan(capacity, rate)
        formula_bits = -capacity * math.log(rate) / math.log(2) ** 2
        allocated_bits = layout.partitions * layout.partition_bytes * 8
        assert formula_bits <= allocated_bits <= formula_bits * 1.03, (capacity, rate, layout)
        assert layout.partition_bytes <= 8 * 1024 * 1024
        assert layout.hashes == round(allocated_bits / capacity * math.log(2))


def test_false_positive_rate_stays_within_the_configured_bound_and_there_are_no_false_negatives(redis_client):
    """Injects: 10,000 URLs into a filter sized for exactly that many at 2%, then 10,000 it never saw.

    Proves: every inserted URL is reported seen (no false negatives), and the
    share of unseen URLs wrongly reported seen stays within the 2% bound
    (with a margin of 3.5 standard deviations for sampling noise).
    """
    bloom = BloomFilter(redis_client, "fp", BloomLayout.plan(10_000, 0.02))
    inserted = fingerprints(0, 10_000)
    during_fill = sum(bloom.add_many(inserted))
    assert all(bloom.contains_many(inserted))
    assert all(bloom.add_many(inserted[:1000]))
    false_positives = sum(bloom.contains_many(fingerprints(10_000, 10_000)))
    assert false_positives <= 250, false_positives
    assert during_fill <= 250


def test_the_frontier_shares_it_between_workers_and_a_new_run_clears_it(redis_client, redis_url):
    """Two schedulers with the Bloom dupefilter see each other's URLs; `start_new_run` forgets them all."""
    settings = {"DUPEFILTER_CLASS": BLOOM, "BLOOM_CAPACITY": 1000, "BLOOM_ERROR_RATE": 0.001}
    first, second = open_scheduler(redis_url, **settings), open_scheduler(redis_url, **settings)
    assert isinstance(first.df, BloomDupeFilter)
    assert queued(first, Request("http://a.com/page")) == 1
    assert queued(second, Request("http://a.com/page")) == 0
    assert redis_client.keys("probe:*dupefilter*") != []
    start_new_run(redis_client, "probe")
    assert redis_client.keys("probe:*dupefilter*") == []
    assert queued(open_scheduler(redis_url, **settings), Request("http://a.com/page")) == 1


def test_workers_sized_differently_are_refused(redis_client):
    """Two layouts on one filter would put the same URL's bits in different places: the second worker stops."""
    BloomFilter(redis_client, "shared", BloomLayout.plan(1000, 0.001))
    with pytest.raises(UserError, match="same BLOOM_CAPACITY and BLOOM_ERROR_RATE"):
        BloomFilter(redis_client, "shared", BloomLayout.plan(5000, 0.001))


@pytest.mark.slow
def test_a_real_crawl_with_the_bloom_dupefilter_fetches_every_page_once(redis_client, redis_url):
    """Injects: the Bloom seen-set in place of scrapy-redis's, two real workers, the frontier in 16 partitions
    (a filter each). Proves: every page, each once."""
    web = generate_web(seed=5, sites=8, pages_per_site=10)
    with local_crawl(redis_url, "linkcrawler_bloom") as crawl, WebServer(web) as server:
        settings = {"DUPEFILTER_CLASS": BLOOM, "BLOOM_CAPACITY": 100_000, "BLOOM_ERROR_RATE": 0.0001,
                    "FRONTIER_PARTITIONS": 16}  # fmt: skip
        result = crawl.crawl(server.seeds, server.hosts, workers=2, timeout=240, settings=settings)
        hits = {url: n for url, n in server.hits().items() if not url.endswith("/robots.txt")}
    assert result.worker_exit_codes == [0, 0], result.logs
    assert set(hits) == fetchable_pages(server.web)
    assert set(hits.values()) == {1}
    assert redis_client.keys("backlinks:*dupefilter") == []  # no fingerprint set, one Bloom filter per partition
    assert (
        len(redis_client.keys("backlinks:*:dupefilter:bloom"))
        == len({PARTITIONS.of_site(split_host(url)[0]) for url in hits})
        > 1
    )
