"""The shared crawl frontier as Scrapy's scheduler: every worker pops, acknowledges and queues through it.

It implements Scrapy's scheduler interface (`scrapy.core.scheduler.BaseScheduler`)
over the frontier's parts in Redis. What it does that stock scrapy-redis's
scheduler does not:

- a page's links come in one call (`follow`, the spider's
  `linkcrawler.frontier.following.follow_pages` signal), not a request each,
  and wait as a URL and a depth (`linkcrawler.frontier.serializer.Page`),
  about 40 bytes each; other requests are stored as JSON, never pickles;
- the frontier always persists: one worker closing must never clear the queue
  or the seen-set that the other workers are still using;
- requests wait per site, and a pop hands out only requests whose site is
  ready now, rotating over sites (`linkcrawler.frontier.sites`): politeness
  is what the frontier hands out, and a worker never holds a request it
  cannot send;
- a popped request is leased, not removed (`linkcrawler.frontier.leases`): it goes
  back to the frontier if its worker dies before the page is stored; seeds
  go from the start list straight onto the frontier (`take_seeds`), held
  the same way until they are there;
- marking a request seen, counting it against its domain's budget and
  queueing it is one Lua script (`linkcrawler.frontier.queueing`), for the Bloom
  filter as for scrapy-redis's set: a worker killed between the steps
  cannot leave a URL seen but never queued (which would lose it for the run);
- a worker remembers which links it knows are seen, so the links a site's
  pages share cost no round trip after the first page (`_unknown`);
- a per-domain page budget (`PAGES_PER_DOMAIN`) is counted in Redis, so the
  limit holds across all workers together;
- stats are reported without the `spider` argument Scrapy 2.13+ deprecates.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import deque
from collections.abc import Callable
from itertools import compress
from typing import Any

from redis.exceptions import RedisError
from scrapy import Request, signals
from scrapy.core.scheduler import BaseScheduler
from scrapy.utils.misc import load_object
from scrapy_redis.dupefilter import RFPDupeFilter
from twisted.internet import reactor, task
from twisted.internet.base import DelayedCall

from linkcrawler import config
from linkcrawler.frontier import keys, serializer
from linkcrawler.frontier.connection import Connections, redis_from_settings
from linkcrawler.frontier.following import Following, follow_pages
from linkcrawler.frontier.format import check_format
from linkcrawler.frontier.leases import LEASE_META, Leased, Leases, request_done
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.frontier.popping import PopPlanner
from linkcrawler.frontier.queueing import Checked, Entry, Queueing, SetQueueing, page_fingerprint
from linkcrawler.frontier.roundtrips import Outbox, run_scripts
from linkcrawler.frontier.runs import CrawlRuns
from linkcrawler.frontier.seedleases import SeedLeases
from linkcrawler.frontier.serializer import Page, SpiderMethods
from linkcrawler.frontier.sites import SLOT_META, Politeness, Popped, SiteClock, Slot
from linkcrawler.frontier.workers import worker_id
from linkcrawler.internals.scrapy_private import wake_engine

logger = logging.getLogger(__name__)

FINGERPRINT_CACHE_SIZE = 100_000
SEEN_QUESTION_MIN = 16
"""A batch with fewer links this worker does not know are seen goes straight to the queueing scripts, which check
the seen-set themselves: encoding a request costs the worker about 20 us, a question to the seen-set a round trip
(about 0.3 ms of wall time, 0.2 ms of it CPU in redis-py)."""
CHARGED_META = "frontier_charged"
"""`request.meta` key of a request the frontier handed out: the URL that was counted against its domain's page
budget when it was queued. A copy of it queued again under that URL (Scrapy's retry after a 503 or a timeout, any
`dont_filter` copy) is the same page and is not counted again; a copy under another URL (a redirect) is."""
FLUSH_SECONDS = 0.005
"""How long new links and freed slots wait for a pop to carry them before they are sent on their own: the engine
asks for requests within a reactor turn or two of a response, and 5 ms is short next to a download on a real web
(waiting for the end of the reactor turn instead, 0.71 round trips a page against 0.65)."""


class Scheduler(BaseScheduler):
    """Scheduler for `SCHEDULER = "linkcrawler.frontier.scheduler.Scheduler"`.

    Settings read here:

    - `REDIS_URL`: the shared Redis (see `linkcrawler.frontier.connection`).
    - `FRONTIER_PARTITIONS` (default 0: one on one server, 16 on a Redis
      Cluster): how many partitions the frontier is split into
      (`linkcrawler.frontier.partitions`); the same for every worker.
    - `PAGES_PER_DOMAIN` (int, default 0 = unlimited): the most pages scheduled
      per registered domain in one crawl run, across all workers; a retry of
      a page is the same page, not counted again (`CHARGED_META`). Requests
      past it are dropped, counted as `frontier/over_domain_budget` and
      logged once per domain (`_over_budget`).
    - `FRONTIER_LEASES` (bool, default True): lease popped requests until
      their page is stored. Off, a popped request is acknowledged at once,
      as stock scrapy-redis removes it (kept for measuring what leases cost).
    - `FRONTIER_PREFETCH` (default 4): at most this many requests per round
      trip to Redis, and never more than the downloader has room for; the
      ones not yet asked for wait in this worker (still leased, so they
      return to the frontier if it dies or closes).
    - `POLITENESS_*`: what a pop hands out (`linkcrawler.frontier.sites.Politeness`).
    - `LEASE_SECONDS` (default 30): how long after a worker's last heartbeat
      its leases return to the frontier. Renewed every
      `WORKER_HEARTBEAT_SECONDS`, so a slow download never loses its lease;
      it only bounds how long a dead worker's requests wait.
    - `DUPEFILTER_CLASS`: a subclass of scrapy-redis's `RFPDupeFilter`,
      built as `cls(server, key, debug)`; any other class (such as Scrapy's
      in-memory default) is replaced by scrapy-redis's, since a seen-set
      that is not shared would let workers fetch the same page. A class with
      a `from_frontier(server, key, settings)` constructor (such as
      `linkcrawler.frontier.bloom.BloomDupeFilter`) is built by it, to read
      its own settings. The frontier queues through scrapy-redis's set of
      fingerprints itself, and through a class's `queueing(partitions)`
      where it offers one (see `linkcrawler.frontier.queueing`), as the
      Bloom filter does; such a class fingerprints a request by its method,
      URL and body, as scrapy-redis's does (the frontier remembers them,
      `_checked`). Any other class is asked per request, then the request is
      queued: a worker killed between the two Redis calls loses that one URL.
    """

    def __init__(self, server: Any, *, crawler: Any, connections: Connections, dupefilter: RFPDupeFilter,
                 pages_per_domain: int = 0,
                 leases: Leases, seeds: SeedLeases, pops: PopPlanner, politeness: Politeness,
                 lease_requests: bool = True, renew_seconds: float = config.default("WORKER_HEARTBEAT_SECONDS"),
                 prefetch: int = 1, following: Following | None = None) -> None:  # fmt: skip
        self.server = server
        self.connections = connections
        self.crawler = crawler
        self.stats = crawler.stats
        self.df = dupefilter
        self._pages_fingerprinted_here = type(dupefilter).request_fingerprint is RFPDupeFilter.request_fingerprint
        """Whether a page's fingerprint is scrapy-redis's, worked out without a request (`page_fingerprint`)."""
        self.following = following or Following(crawler.stats)
        self.spider: Any = None
        self._methods: SpiderMethods | None = None
        self.pages_per_domain = pages_per_domain
        self.leases = leases
        self.seeds = seeds
        self.pops = pops
        self.runs = pops.runs
        self.outbox = pops.outbox
        self.partitions = leases.partitions
        self.politeness = politeness
        self.clock = SiteClock(server, leases.partitions, politeness.delay)
        self.lease_requests = lease_requests
        self.downloader: Any = None
        self.engine: Any = None
        self._not_before = 0.0
        self._wake: DelayedCall | None = None
        self.renew_seconds = renew_seconds
        self.prefetch = prefetch
        self._renewal: task.LoopingCall | None = None
        self.queueing: Queueing | None = None
        self._pending: list[Request | Page] = []
        self._freed: list[Slot] = []
        self._unacked: list[str] = []
        self._over_budget_domains: set[str] = set()
        self._budget_run = 0
        self._prefetched: deque[Request] = deque()
        self._fingerprints: dict[tuple[str, str, bytes], Checked] = {}
        self._seen_here: dict[str, None] = {}
        self._learnt_under = (0, 0)
        self._flush_call: DelayedCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> Scheduler:
        settings = crawler.settings
        name = crawler.spidercls.name
        connections = Connections()
        server = redis_from_settings(settings, connections=connections)
        dupefilter_cls = load_object(config.get(settings, "DUPEFILTER_CLASS"))
        if not issubclass(dupefilter_cls, RFPDupeFilter):  # Scrapy's in-memory default: no use to a shared frontier
            dupefilter_cls = RFPDupeFilter
        politeness = Politeness.from_settings(settings)
        partitions = Partitions.from_settings(settings, name)
        worker = f"{worker_id()}/{secrets.token_hex(4)}"  # unique per start: a restarted pod reuses host:pid
        lease_seconds = config.get(settings, "LEASE_SECONDS")
        leases = Leases(server, partitions, worker, lease_seconds, limits=politeness.pop_limits())
        scheduler = cls(
            server,
            crawler=crawler,
            connections=connections,
            dupefilter=_dupefilter(
                dupefilter_cls,
                server,
                key=keys.spider_key(keys.DUPEFILTER_KEY, name),
                settings=settings,
            ),
            pages_per_domain=config.get(settings, "PAGES_PER_DOMAIN"),
            leases=leases,
            seeds=SeedLeases(server, name, worker, lease_seconds),
            pops=PopPlanner(server, partitions, leases, Outbox(server), CrawlRuns(server, partitions)),
            politeness=politeness,
            lease_requests=config.get(settings, "FRONTIER_LEASES"),
            renew_seconds=config.get(settings, "WORKER_HEARTBEAT_SECONDS"),
            prefetch=max(1, config.get(settings, "FRONTIER_PREFETCH")),
            following=Following.from_crawler(crawler),
        )
        crawler.signals.connect(scheduler.follow, signal=follow_pages)
        crawler.signals.connect(scheduler.ack, signal=request_done)
        crawler.signals.connect(scheduler.item_done, signal=signals.item_dropped)
        crawler.signals.connect(scheduler.item_done, signal=signals.item_error)
        crawler.signals.connect(scheduler.response_failed, signal=signals.spider_error)
        crawler.signals.connect(scheduler.requeue_orphans, signal=signals.spider_idle)
        crawler.signals.connect(scheduler.request_left, signal=signals.request_left_downloader)
        return scheduler

    def open(self, spider: Any) -> None:
        self.spider = spider
        self._methods = SpiderMethods(spider)
        check_format(self.server, self.partitions)
        self.partitions.claim(self.server)
        self.runs.read()
        self.unfiltered = SetQueueing(self.server, self.partitions)
        if hasattr(self.df, "queueing"):
            self.queueing = self.df.queueing(self.partitions)
        elif type(self.df) is RFPDupeFilter:  # scrapy-redis's set of fingerprints, as the frontier keeps it
            self.queueing = self.unfiltered
        try:
            self.engine = self.crawler.engine
        except RuntimeError:  # opened outside a crawl (tests drive the frontier alone)
            self.engine = None
        self.downloader = getattr(self.engine, "downloader", None)
        self._renewal = task.LoopingCall(self._renew)
        self._renewal.start(self.renew_seconds)

    def close(self, reason: str) -> None:
        """Leases still held (requests cut short by a shutdown) go back to the frontier for another worker."""
        if self._renewal is not None and self._renewal.running:
            self._renewal.stop()
        self.flush()
        if self._wake is not None and self._wake.active():
            self._wake.cancel()
        self.release_leases()

    def enqueue_request(self, request: Request) -> bool:
        """Requests wait in a local batch until the next pop or ack, or `FLUSH_SECONDS` (see `flush`, `_carry`).

        A page's links then cost no round trip of their own in the common
        case, and at most two, not one each. A duplicate is thus dropped
        after this has returned True: it counts as `dupefilter/filtered` but
        sends no `request_dropped`.
        """
        lease = request.meta.pop(LEASE_META, None)  # a retry of a leased request: queued again, then released
        self._pending.append(request)
        if lease is not None:
            self.ack([lease])
        else:
            self._flush_soon()
        return True

    def follow(self, urls: list[str], depth: int, **_: Any) -> bool:
        """Handler of `follow_pages`: a page's links to follow wait as pages with the requests (`enqueue_request`),
        made into requests by the spider's `page_request` once popped (`linkcrawler.frontier.following`)."""
        pages = self.following.pages(urls, depth)
        if pages:
            self._pending += pages
            self._flush_soon()
        return True

    def take_seeds(self, make_request: Callable[[bytes], Request | None], count: int) -> int:
        """Queue up to `count` seeds of the start list on the frontier; how many were taken.

        Seeds never wait in this process as requests the engine has not
        scheduled yet (where stock scrapy-redis keeps a batch popped for its
        start requests): with leases, they stay in Redis, in this worker's
        seed list, until queued, and go back to the start list if it dies
        first (`linkcrawler.frontier.leases`). `make_request` turns one into a
        request, or None for one to drop (the spider's
        `make_request_from_data`).
        """
        taken = self.seeds.take(count)
        if taken:
            self.runs.read()  # seeds of a new run: no pop may have told this worker of it yet
        self._pending.extend(request for request in map(make_request, taken) if request is not None)
        self.flush()
        if taken:
            self.seeds.queued()
        return len(taken)

    def queued(self) -> int:
        """Requests waiting on the frontier, all sites and workers together (those this worker holds excluded)."""
        return self.partitions.total(self.server, keys.QUEUED)

    def __len__(self) -> int:
        return self.queued()

    def has_pending_requests(self) -> bool:
        self.flush()
        return bool(self._prefetched) or self.queued() > 0

    def next_request(self) -> Request | None:
        if not self._prefetched:
            wait = 0.0 if self._pending else self._not_before - time.monotonic()
            if wait <= 0:
                self._prefetch()
            else:
                self.flush()
                # A timer may fire a little early (asyncio runs what is due within its clock's resolution):
                # without a new one, the engine slept until its own 5 s poll.
                self._wake_engine_in(wait)
        request = self._prefetched.popleft() if self._prefetched else None
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def _prefetch(self) -> None:
        """Lease what may start now, as much as the downloader has room for; if short, look again when a site
        may be ready (at the latest after a heartbeat: other workers queue new sites meanwhile). The waiting
        links and freed slots ride with the pop."""
        self._carry()
        wanted = self.prefetch
        if self.downloader is not None:
            wanted = max(1, min(wanted, self.downloader.total_concurrency - len(self.downloader.active)))
        leased, wait = self.pops.pop(wanted)
        requests = [self._leased(popped) for popped in leased]
        if not self.lease_requests:
            self.leases.ack([request.meta.pop(LEASE_META) for request in requests])
        self._prefetched.extend(requests)
        if len(leased) < wanted:
            wait = self.renew_seconds if wait is None else min(wait, self.renew_seconds)
            self._not_before = time.monotonic() + wait
            self._wake_engine_in(wait)

    def _wake_engine_in(self, seconds: float) -> None:
        if self.engine is None:
            return
        if self._wake is not None and self._wake.active():
            if self._wake.getTime() <= reactor.seconds() + seconds:
                return
            self._wake.cancel()
        self._wake = reactor.callLater(seconds, wake_engine, self.engine)

    def ack(self, leases: list[str]) -> None:
        """Handler of `linkcrawler.frontier.leases.request_done`.

        The waiting requests are queued first: a page's lease must not be
        released while the links found on it are only in this process.
        If Redis fails (past its retries), the acknowledgement waits in this
        worker behind those links, for the next round trip (`flush`), as
        links and freed slots do: dropped, its lease stayed held and renewed
        by this live worker forever, and the crawl never counted as done.
        """
        self._unacked += leases
        try:
            self.flush()
        except RedisError as error:
            self._count("frontier/acks_carried", len(leases))
            logger.warning("Could not reach Redis (%s): %d acknowledgement(s) wait in this worker for its next "
                           "round trip", error, len(self._unacked))  # fmt: skip

    def flush(self) -> None:
        """Queue the waiting requests and free the slots of finished downloads, now (see `_carry`): one round
        trip, two when many links are unknown to this worker; then the waiting acknowledgements, one more.

        If Redis fails (past its retries), the requests, slots and
        acknowledgements stay waiting for the next round trip, and the error
        stops whatever asked; an acknowledgement is sent only once the
        links before it are in Redis, so a page is never released while its
        links are not. Queueing twice is harmless: the seen-set filters the
        second time; acknowledging twice too: an unknown lease is ignored.
        """
        self._carry()
        self.outbox.run([])
        self._ack_waiting()

    def _ack_waiting(self) -> None:
        """Acknowledge the leases `ack` was given, the links queued before them being in Redis now."""
        if self._unacked:
            self.leases.ack(self._unacked)
            self._count("frontier/leases_acked", len(self._unacked))
            self._unacked = []

    def _carry(self) -> None:
        """Hand the freed slots and the waiting requests to the outbox, for the next round trip to carry.

        Links this worker knows are seen are dropped here; many unknown
        ones are asked about first (`_ask_seen`, one round trip), so links
        another worker queued are never encoded; the rest are queued by the
        scripts the outbox carries.
        """
        if self._flush_call is not None and self._flush_call.active():
            self._flush_call.cancel()
        self._flush_call = None
        freed, self._freed = self._freed, []
        self.outbox.add(self.clock.release_calls(freed))
        pending, self._pending = self._pending, []
        try:
            if self.queueing is None:
                for request in pending:
                    self._push_checked(request)
            elif pending:
                self._carry_batch(pending)
            if pending:
                self._not_before = 0.0  # a site made ready by these links may be served now
        except BaseException:
            self._pending[:0] = pending
            raise

    def _flush_soon(self) -> None:
        """Flush in `FLUSH_SECONDS`, unless a pop or an ack carries the lot first."""
        if self._flush_call is None:
            self._flush_call = reactor.callLater(FLUSH_SECONDS, self._flush_later)

    def _flush_later(self) -> None:
        """A failure here has nobody to stop: one warning, and what was not sent waits for the next round trip."""
        self._flush_call = None
        try:
            self.flush()
        except RedisError as error:
            logger.warning("Could not reach Redis (%s): new links and freed politeness slots wait in this worker "
                           "for its next round trip", error)  # fmt: skip

    def item_done(self, item: Any, **_: Any) -> None:
        """A dropped or failed item ends its page's processing all the same."""
        self.ack([lease for lease in _item_leases(item) if lease])

    def response_failed(self, response: Any, **_: Any) -> None:
        lease = response.meta.get(LEASE_META) if response is not None else None
        if lease:
            self.ack([lease])

    def request_left(self, request: Request, **_: Any) -> None:
        """Handler of `request_left_downloader`, sent for every outcome (retries included): the request's site
        slot is free, and the next pop need not wait for a wake.

        The slot is freed in Redis by the next round trip, at the latest
        `FLUSH_SECONDS` later: responses come in bursts, and the slot release
        was a page's most frequent round trip (1.0 of 1.7) when each went on
        its own.
        """
        self._not_before = 0.0
        slot = request.meta.pop(SLOT_META, None)
        if slot is not None and self.politeness.concurrency:
            self._freed.append(Slot(self.politeness.site_of(request.url), slot.lease))
            self._flush_soon()

    def requeue_orphans(self) -> int:
        """When this worker is idle, leases it never received go back (see `Leases.requeue_orphans`); how many."""
        moved = self.leases.requeue_orphans()
        self.pops.wake(moved)
        self._count("frontier/leases_orphaned", sum(moved.values()))
        return sum(moved.values())

    def renew_leases(self) -> None:
        """Keep every lease of this worker and the seeds it took for another `LEASE_SECONDS` (at each heartbeat),
        and count each partition's queued requests for the next pops: one pipeline."""
        deadline = time.time() + self.leases.lease_seconds
        with self.server.pipeline(transaction=False) as pipe:
            self.leases.renew_in(pipe, deadline)
            self.seeds.renew_in(pipe, deadline)
            self.pops.count_in(pipe)
            replies = pipe.execute()
        self.pops.counted(replies[-self.partitions.count :])

    def requeue_expired(self, now: float | None = None) -> int:
        """Put the leases of workers past their deadline back on the frontier, and the seeds they took back at
        the head of the start list; how many of both moved. One script per partition and one for the seeds, in
        one pipeline."""
        now = time.time() if now is None else now
        calls = [*self.leases.requeue_expired_calls(now), self.seeds.requeue_expired_call(now)]
        moved = [int(count) for count in run_scripts(self.server, calls)]
        self.pops.wake(n for n in self.partitions if moved[n])
        return sum(moved)

    def release_leases(self) -> int:
        """Return this worker's remaining leases and seeds to the frontier now (a clean shutdown)."""
        with self.server.pipeline(transaction=False) as pipe:
            self.leases.renew_in(pipe, 0)
            self.seeds.renew_in(pipe, 0)
            pipe.execute()
        return self.requeue_expired(now=0)

    def _leased(self, leased: Leased) -> Request:
        page = serializer.decode_page(leased.request, leased.site)
        if page is None:
            request = serializer.decode_request(leased.request, self._methods)
        else:
            request = self._page_request(page, -int(leased.score))
        lease = leased.lease
        request.meta[LEASE_META] = lease
        request.meta[SLOT_META] = Popped(lease, time.monotonic())
        request.meta[CHARGED_META] = request.url
        return request

    def _carry_batch(self, pending: list[Request | Page]) -> None:
        """Queue the requests and pages not known to be seen (see `_unknown`)."""
        located = [self._checked(each) for each in pending]
        self._ask_seen(self._unknown(located))
        fresh, duplicates, entries = [], [], []
        for each, checked in zip(pending, located, strict=True):
            fingerprint = checked.fingerprint
            if fingerprint in self._seen_here:
                duplicates.append(each)
                continue
            fresh.append(each)
            entries.append(self._entry(fingerprint, each))
            if fingerprint:
                self._remember_seen(fingerprint)
        self._filtered(duplicates)
        if not entries:
            return
        calls, results = self.queueing.queue_calls(self.pages_per_domain, entries)
        # the pop carrying them looks there
        self.pops.wake({self.partitions.of_site(entry.site) for entry in entries})
        self.outbox.add(calls, lambda replies: self._queued(fresh, results(replies)))

    def _unknown(self, located: list[Checked]) -> list[Checked]:
        """The requests not known to be seen, once each.

        A fingerprint is known once the seen-set said so or this worker sent
        it to be queued (the outbox keeps it until Redis has it): the links
        a site's pages share (template, navigation) then cost no round trip
        after the first page. What was learnt is forgotten when a pop reports
        a new crawl run, or this scheduler's client reconnects (a server
        restarted or failed over may have lost its last writes).
        """
        learnt_under = (self.runs.new_runs, self.connections.made)
        if learnt_under != self._learnt_under:
            if self._seen_here:
                self._count("frontier/seen_cache_resets", 1)
            self._seen_here.clear()
            self._learnt_under = learnt_under
        unknown = {checked.fingerprint: checked for checked in located
                   if checked.fingerprint and checked.fingerprint not in self._seen_here}  # fmt: skip
        return list(unknown.values())

    def _ask_seen(self, unknown: list[Checked]) -> None:
        """Ask the seen-set about many unknown requests before encoding them (one round trip): links another
        worker queued already then cost their fingerprints, not their requests."""
        if len(unknown) >= SEEN_QUESTION_MIN:
            for checked in compress(unknown, self.queueing.seen(unknown)):
                self._remember_seen(checked.fingerprint)

    def _remember_seen(self, fingerprint: str) -> None:
        self._seen_here[fingerprint] = None
        if len(self._seen_here) > FINGERPRINT_CACHE_SIZE:
            del self._seen_here[next(iter(self._seen_here))]

    def _queued(self, requests: list[Request | Page], results: list[int]) -> None:
        self._filtered([request for request, result in zip(requests, results, strict=True) if result == 0])
        self._over_budget([request for request, result in zip(requests, results, strict=True) if result == -1])
        self._count("scheduler/enqueued/redis", results.count(1))

    def _over_budget(self, requests: list[Request | Page]) -> None:
        """Requests refused by their domain's page budget: counted, and one line the first time this worker sees
        a domain's budget reached in a run, so an operator can tell why its other pages were never fetched (each
        URL refused is a DEBUG line). No page document is written: the page was never fetched, and the link to
        it is stored with the page that has it."""
        self._count("frontier/over_domain_budget", len(requests))
        if self._budget_run != self.runs.new_runs:
            self._budget_run = self.runs.new_runs
            self._over_budget_domains.clear()
        for refused in requests:
            _, domain = self.politeness.urls.split_host(refused.url)
            if domain not in self._over_budget_domains:
                self._over_budget_domains.add(domain)
                logger.info("%s reached PAGES_PER_DOMAIN (%d pages scheduled this run): its pages not scheduled "
                            "yet are not crawled, starting with %s (counted as frontier/over_domain_budget)",
                            domain, self.pages_per_domain, refused.url)  # fmt: skip
            logger.debug("Over the page budget of %s, not crawled: %s", domain, refused.url)

    def _checked(self, pending: Request | Page) -> Checked:
        """The seen-set key of a request or page ("" for one never filtered) in the partition of its site (-1 then).

        Pages of a site share most of their links (template, navigation), so
        both are remembered for the last `FINGERPRINT_CACHE_SIZE` URLs:
        canonicalizing and hashing each link again cost a few percent of a
        worker. Only scrapy-redis's own fingerprint is remembered, whose
        inputs are the method, URL and body alone (see `DUPEFILTER_CLASS`);
        a page's is its request's, worked out from its URL alone when the
        seen-set fingerprints as scrapy-redis does.
        """
        if isinstance(pending, Page):
            key = ("GET", pending.url, b"")
        elif pending.dont_filter:
            return Checked(-1, "")
        else:
            key = (pending.method, pending.url, pending.body)
        checked = self._fingerprints.get(key)
        if checked is None:
            partition = self.partitions.of_site(self.politeness.site_of(pending.url))
            if isinstance(pending, Page) and self._pages_fingerprinted_here:
                fingerprint = page_fingerprint(pending.url)
            else:
                fingerprint = self.df.request_fingerprint(self._request(pending))
            checked = self._fingerprints[key] = Checked(partition, fingerprint)
            if len(self._fingerprints) > FINGERPRINT_CACHE_SIZE:
                del self._fingerprints[next(iter(self._fingerprints))]
        return checked

    def _request(self, pending: Request | Page) -> Request:
        if isinstance(pending, Request):
            return pending
        return self._page_request(pending, self.following.priority(pending))

    def _page_request(self, page: Page, priority: int) -> Request:
        """A page as the spider's request for it (`page_request`), at its depth, as Scrapy's `DepthMiddleware`
        would have made it."""
        request = self.spider.page_request(page.url)
        request.meta["depth"] = page.depth
        request.priority = priority
        return request

    def _entry(self, fingerprint: str, pending: Request | Page) -> Entry:
        host, domain = self.politeness.urls.split_host(pending.url)
        site = self.politeness.site(host, domain)
        if isinstance(pending, Page):
            charged, score, data = False, -self.following.priority(pending), serializer.encode_page(pending, site)
        else:
            charged = pending.meta.pop(CHARGED_META, None) == pending.url  # a retry: its page was counted already
            score, data = -pending.priority, serializer.encode_request(pending, self._methods)
        return Entry(
            fingerprint=fingerprint,
            score=score,
            request=data,
            budget_domain=domain if self.pages_per_domain and not charged else "",
            site=site,
        )

    def _push_checked(self, pending: Request | Page) -> None:
        """A third-party seen-set without `queueing`: asked first, then the request queued unfiltered."""
        request = self._request(pending)
        if not request.dont_filter and self.df.request_seen(request):
            self._filtered([pending])
            return
        (result,) = self.unfiltered.queue(self.pages_per_domain, [self._entry("", pending)])
        self._over_budget([pending] if result == -1 else [])
        self._count("scheduler/enqueued/redis", int(result == 1))

    def _filtered(self, duplicates: list[Request | Page]) -> None:
        """Duplicates counted, and shown as the seen-set shows them; a page is made a request for it only when
        the seen-set would show it (scrapy-redis's shows the first, or all with `DUPEFILTER_DEBUG`)."""
        for pending in duplicates:
            if isinstance(pending, Request) or getattr(self.df, "debug", True) or getattr(self.df, "logdupes", True):
                self.df.log(self._request(pending), self.spider)
        self._count("dupefilter/filtered", len(duplicates))

    def _count(self, stat: str, count: int) -> None:
        if count:
            self.stats.inc_value(stat, count)

    def _renew(self) -> None:
        self.renew_leases()
        self.server.set(keys.spider_key(keys.QUEUED_TOTAL_KEY, self.partitions.spider), self.queued())
        self._count("frontier/leases_recovered", self.requeue_expired())


def _item_leases(item: Any) -> list[str | None]:
    """Leases an item carries: a `PageItem`'s one, or the `PageRecords` the normalize pipeline made of it."""
    leases = getattr(item, "leases", None)
    return list(leases) if leases is not None else [getattr(item, "lease", None)]


def _dupefilter(cls: type[RFPDupeFilter], server: Any, key: str, settings: Any) -> RFPDupeFilter:
    if hasattr(cls, "from_frontier"):
        return cls.from_frontier(server, key, settings)
    return cls(server, key=key, debug=settings.getbool("DUPEFILTER_DEBUG"))
