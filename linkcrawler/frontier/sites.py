"""Requests wait in Redis per site, and a pop hands out only what may start now: politeness, shared by all workers.

A site is a host, or a registered domain with `POLITENESS_BY=domain`. Each
site has its own sorted set of requests (`{prefix}:queue:{site}`, best
first: scored by minus the priority, so by depth with Scrapy's
`DEPTH_PRIORITY`), and `{prefix}:sites` is the heap of sites with queued
work, scored by the time each may next be fetched, as Mercator's and
Heritrix's frontiers keep it. A pop (one Lua script, timed by the Redis
clock) walks the sites whose time has come, oldest first, and takes each
one's best request while the site has fewer than `POLITENESS_CONCURRENCY`
requests in flight (`{prefix}:slots:{site}`, lease ids scored by when the
slot expires) and its delay has passed (`POLITENESS_DELAY`, or the
robots.txt Crawl-delay recorded for it in
`{prefix}:delay:{site}`). A site with a delay gets one request at a time,
and its next only once the delay has passed since that one ended
(`{prefix}:last:{site}`, written when a request ends and expiring with the
delay): the server then never sees two of its requests closer than the
delay, however late a request left its worker. A site served goes to the
back of the heap: pops rotate over the sites, and a worker never holds a
request its site is not ready for. A site that is full or waiting on its
delay is rescored to the time it may be ready; a response frees its slot
(`SiteClock.release_calls`) and brings the site forward again.

`{prefix}` is one partition's (`linkcrawler.frontier.partitions`): every
script touches the keys of one partition, one hash slot of a Redis
Cluster. `{prefix}:queued` counts the partition's queued requests. The pop
is `lua/pop.lua`, the downloader's calls here `lua/release_slots.lua`,
`check_in.lua`, `ended.lua` and `set_delay.lua`, the functions they share in
`lua/library.lua` (see `linkcrawler.frontier.scripts`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from linkcrawler import config
from linkcrawler.errors import UserError
from linkcrawler.extract.urls import UrlNormalizer
from linkcrawler.frontier import keys, scripts
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.frontier.roundtrips import Call

SLOT_META = "frontier_slot"
"""`request.meta` key of a popped request: its `Popped` record."""
SITE_DELAY_SECONDS = 86_400
"""How long a site's own delay (its robots.txt Crawl-delay) is kept after a worker last wrote it: a day, as long as
a robots.txt is shared (`ROBOTSTXT_SHARE_SECONDS`' default). Workers write it again after half of that."""


class Slot(NamedTuple):
    """A politeness slot a download holds: its site, and the lease id it is held under."""

    site: str
    lease: str


class Popped(NamedTuple):
    """What the downloader needs of a popped request's pop: the lease id its site's slot is held under, and when
    it was popped (`time.monotonic()`)."""

    lease: str
    at: float


class PopLimits(NamedTuple):
    """What a pop (`lua/pop.lua`) applies to each site: requests in flight at once (0: no limit), the delay
    between them unless the site has its own, and how long a slot outlives a worker that died holding it."""

    concurrency: int
    delay: float
    slot_seconds: float


class SiteClock:
    """What the downloader tells the frontier about a site: a slot freed, a request starting late or ending, a
    Crawl-delay.

    A site's clock (`{prefix}:last:{site}`: when its last request started
    or ended, whichever is later) is kept only while it matters: written
    only for a site with a delay, and expiring once that delay has passed.
    Its own delay (`{prefix}:delay:{site}`) expires `SITE_DELAY_SECONDS`
    after a worker last wrote it.
    """

    def __init__(self, server: Any, partitions: Partitions, delay: float) -> None:
        self.server = server
        self.partitions = partitions
        self.delay = delay
        self._release = scripts.register(server, "release_slots")
        self._check_in = scripts.register(server, "check_in")
        self._ended = scripts.register(server, "ended")
        self._set_delay = scripts.register(server, "set_delay")

    def _call(self, script: Any, site: str, *args: Any) -> Any:
        """Run a site script in the site's partition (its heap as the key a cluster routes it by)."""
        n = self.partitions.of_site(site)
        return script(keys=[self.partitions.key(n, keys.SITES)], args=[self.partitions.prefix(n), site, *args])

    def release_calls(self, slots: list[Slot]) -> list[Call]:
        """Downloads are over: each slot is free, and its site may be ready sooner.

        One script per partition; the scheduler sends them with its next
        round trip (`linkcrawler.frontier.roundtrips.Outbox`).
        """
        by_partition: dict[int, list[str]] = defaultdict(list)
        for slot in slots:
            by_partition[self.partitions.of_site(slot.site)].extend((slot.site, slot.lease))
        return [
            Call(self._release, [self.partitions.key(n, keys.SITES)], [self.partitions.prefix(n), self.delay, *pairs])
            for n, pairs in by_partition.items()
        ]

    def check_in(self, site: str) -> float:
        """A request to `site` starts now unless the site's delay forbids it: 0, or seconds to wait first.

        Called for requests that did not start right after their pop (one
        that waited for its site's robots.txt) and for requests the frontier
        never handed out (robots.txt itself), so the delay holds between all
        requests a site sees.
        """
        return int(self._call(self._check_in, site, self.delay)) / 1000

    def ended(self, site: str) -> None:
        """A request the frontier never handed out (robots.txt) is over: the site's delay counts from now."""
        self._call(self._ended, site, self.delay)

    def set_delay(self, site: str, delay: float) -> None:
        """Record a site's own delay (its robots.txt Crawl-delay, at least `POLITENESS_DELAY`) for every worker,
        for `SITE_DELAY_SECONDS`; it counts from now, when the robots.txt asking for it has just been read."""
        self._call(self._set_delay, site, delay, SITE_DELAY_SECONDS)


@dataclass(frozen=True)
class Politeness:
    """How hard the crawl may press one site, from all workers together.

    Settings read here:

    - `POLITENESS_ENABLED` (bool, default True): off, pops still rotate over
      sites but hold none back.
    - `POLITENESS_CONCURRENCY` (default 2): requests in flight to one site
      without a delay; a site with a delay gets one at a time.
    - `POLITENESS_DELAY` (seconds, default 0): the least time from the end
      of one request to a site (its response, or its failure) to the start
      of the next, as Heritrix counts it: counted from the starts, a
      request that left its worker late (a busy event loop, a slow
      connect) reached the server less than the delay before the next.
    - `POLITENESS_BY` (`host` or `domain`, default `host`): what a site is;
      `domain` counts `a.example.com` and `b.example.com` as one.
    - `ROBOTSTXT_CRAWL_DELAY` (bool, default True) and `POLITENESS_MAX_DELAY`
      (default 30 s): a robots.txt Crawl-delay raises its site's delay; a
      site asking for more than the maximum is not crawled past its
      robots.txt (see `linkcrawler.downloader.politeness`).
    - `POLITENESS_SLOT_SECONDS` (default `DOWNLOAD_TIMEOUT` + 30): how long a
      slot outlives a worker that died holding it.
    """

    concurrency: int
    delay: float
    by_domain: bool
    crawl_delay: bool
    max_delay: float
    slot_seconds: float
    urls: UrlNormalizer = field(compare=False, repr=False)
    """What tells a URL's host and registered domain (`MAX_URL_LENGTH` read for it)."""

    @classmethod
    def from_settings(cls, settings: Any) -> Politeness:
        by = config.get(settings, "POLITENESS_BY")
        if by not in ("host", "domain"):
            raise UserError(f"POLITENESS_BY: {by!r} is neither 'host' nor 'domain'")
        concurrency = config.get(settings, "POLITENESS_CONCURRENCY")
        if concurrency < 1:
            raise UserError(f"POLITENESS_CONCURRENCY: {concurrency} must be at least 1")
        enabled = config.get(settings, "POLITENESS_ENABLED")
        return cls(
            concurrency=concurrency if enabled else 0,
            delay=config.get(settings, "POLITENESS_DELAY") if enabled else 0.0,
            by_domain=by == "domain",
            crawl_delay=enabled and config.get(settings, "ROBOTSTXT_CRAWL_DELAY"),
            max_delay=config.get(settings, "POLITENESS_MAX_DELAY"),
            slot_seconds=config.get(settings, "POLITENESS_SLOT_SECONDS")
            or config.get(settings, "DOWNLOAD_TIMEOUT") + 30,
            urls=UrlNormalizer(max_length=config.get(settings, "MAX_URL_LENGTH")),
        )

    def site_of(self, url: str) -> str:
        return self.site(*self.urls.split_host(url))

    def site(self, host: str, domain: str) -> str:
        return domain if self.by_domain else host

    def pop_limits(self) -> PopLimits:
        return PopLimits(self.concurrency, self.delay, self.slot_seconds)
