"""Putting start URLs on the shared frontier, and starting a new crawl run."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from linkcrawler.errors import UserError
from linkcrawler.extract.urls import normalize_seed
from linkcrawler.frontier import keys
from linkcrawler.frontier.bloom import BloomFilter
from linkcrawler.frontier.partitions import Partitions


def validate_seeds(seeds: Iterable[tuple[str, str]]) -> list[str]:
    """Normalize `(where, url)` pairs; raise one `UserError` listing the first bad seed.

    All seeds are checked before any is queued, so a typo in line 900 of a
    seed file does not leave 899 seeds half-queued.
    """
    urls = []
    for where, raw in seeds:
        url = normalize_seed(raw)
        if url is None:
            raise UserError(
                f"invalid seed {raw!r} ({where}): not an absolute http(s) URL with a valid host; nothing was queued"
            )
        urls.append(url)
    return urls


def push_seeds(server: Any, urls: list[str], spider: str = keys.SPIDER_NAME) -> int:
    """Append the URLs to the spider's start list in one round trip; return how many."""
    if urls:
        key = keys.spider_key(keys.START_URLS_KEY, spider)
        server.rpush(key, *(json.dumps({"url": url}) for url in urls))
    return len(urls)


def start_new_run(server: Any, spider: str = keys.SPIDER_NAME) -> None:
    """Forget which URLs were seen (set or Bloom filter), how many pages each domain got and the last run's workers.

    Known pages are then fetched again.

    Stored links are untouched: the recrawl moves their last_seen, and links
    missing from a refetched page become lost for the profile job.

    Each partition's run count goes up: a pop tells the workers, which
    then forget which URLs they knew were seen.

    Leases (`linkcrawler.frontier.leases`) are kept: they are requests in progress,
    and a dead worker's come back to the frontier as usual. Politeness slots
    expire by themselves; the pages-per-minute history stays for `stats`.
    The seen-set a dupefilter keeps outside the frontier (`keys.DUPEFILTER_KEY`,
    asked per request) goes too.
    """
    partitions = Partitions.of_crawl(server, spider)
    seen = [keys.spider_key(keys.DUPEFILTER_KEY, spider), *partitions.keys(keys.SEEN)]
    for key in seen:
        BloomFilter.delete(server, key)
    forgotten = [
        *seen,
        *partitions.keys(keys.DOMAIN_PAGES),
        keys.spider_key(keys.WORKERS_KEY, spider),
    ]
    with server.pipeline(transaction=False) as pipe:
        for key in forgotten:
            pipe.delete(key)
        for key in partitions.keys(keys.RUN):
            pipe.incr(key)
        pipe.execute()
