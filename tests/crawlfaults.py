"""Helpers for the fault tests: a crawl whose worker processes the test starts, kills and restarts itself.

`LocalCrawl.crawl` runs workers to the end; these tests need to act in the
middle, so they drive the same pieces (`seed`, `start_workers`, `progress`)
step by step and land the journals the way `crawl` does.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from linkcrawler.frontier import keys
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.local.demo import LocalCrawl
from linkcrawler.local.workers import WorkerProcess
from linkcrawler.store.journal import replay


def wait_for(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def leases_of(crawl: LocalCrawl, worker: WorkerProcess) -> int:
    """Requests the worker process holds leased in Redis right now."""
    assert worker.process is not None
    prefix = f"{socket.gethostname()}:{worker.process.pid}/".encode()
    leases = Partitions.of_crawl(crawl.redis, keys.SPIDER_NAME).keys(keys.LEASES)
    return sum(field.startswith(prefix) for key in leases for field in crawl.redis.hkeys(key))


def leased(crawl: LocalCrawl) -> int:
    """Requests leased in Redis right now, all workers and partitions together."""
    return Partitions.of_crawl(crawl.redis, keys.SPIDER_NAME).sizes(crawl.redis, keys.LEASES, "hlen")


def finish(crawl: LocalCrawl, workers: list[WorkerProcess], timeout: float) -> list[int | None]:
    """Wait for the workers to close by themselves, stop the stragglers, replay journals; exit codes."""
    deadline = time.monotonic() + timeout
    while any(w.running() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    codes = [w.stop() if w.running() else w.process.returncode for w in workers]
    journal = crawl.workdir / "journal"
    if journal.exists():
        replay(journal, crawl.store)
    return codes


def page_hits(hits: dict[str, int]) -> dict[str, int]:
    return {url: n for url, n in hits.items() if not url.endswith("/robots.txt")}


def log_report(log: str) -> str:
    """A failing worker's log from the lines before its last traceback to the end: a fixed-size tail cut the
    traceback's first frames off, and they say which call failed."""
    start = log.rfind("Traceback (most recent call last)")
    if start < 0:
        return log[-3000:]
    excerpt = log[max(0, start - 1500) :]
    return excerpt if len(excerpt) <= 12000 else f"{excerpt[:9000]}\n...\n{excerpt[-3000:]}"
