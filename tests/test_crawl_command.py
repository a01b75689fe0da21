"""`scrapy crawl backlinks` refuses to start, in one line, when its services are unreachable.

Scrapy prints its start-up banner (versions, settings) before any command
runs; after it comes exactly one error line, and never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def crawl(settings_module: str = "settings.local", **env) -> str:
    """Run a worker; return its one error line after checking it failed cleanly."""
    inherited = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "MONGO_URI")}
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "backlinks"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={**inherited, "SCRAPY_SETTINGS_MODULE": settings_module, **env},
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "pw@" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1] == errors[0]
    return errors[0]


def test_unreachable_redis(tmp_path):
    line = crawl(REDIS_URL="redis://:pw@127.0.0.1:1/0", MONGO_URI=f"journal://{tmp_path}")
    assert line.startswith("scrapy crawl: error: cannot reach Redis at redis://:***@127.0.0.1:1/0")


@pytest.mark.slow
def test_unreachable_mongodb(redis_url):
    line = crawl(REDIS_URL=redis_url, MONGO_URI="mongodb://admin:pw@127.0.0.1:1/?serverSelectionTimeoutMS=500")
    assert line.startswith("scrapy crawl: error: cannot reach MongoDB at mongodb://admin:***@127.0.0.1:1/")


def test_a_frontier_in_a_format_this_worker_does_not_know_is_refused(redis_client, redis_url, tmp_path):
    """A worker would crawl beside requests it never pops: it names the way out and leaves Redis as it was."""
    redis_client.zadd("backlinks:requests", {'{"url": "http://a.example/"}': 0})
    line = crawl(REDIS_URL=redis_url, MONGO_URI=f"journal://{tmp_path}")
    assert line == (
        "scrapy crawl: error: the frontier in Redis is in a format this worker does not know (backlinks:requests): "
        "run `linkcrawler seed --new-run` on an empty Redis, or the previous release to drain it"
    )
    assert redis_client.keys("*") == [b"backlinks:requests"]


def test_unwritable_spill_directory(redis_url, tmp_path):
    """The shipped Kubernetes worker had a read-only home for its relative spill directory: found only when
    MongoDB went down and a batch had to go there."""
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    line = crawl(REDIS_URL=redis_url, MONGO_URI="mongomock://preflight", STORE_SPILL_DIR=str(blocker / "spill"))
    assert line == (
        f"scrapy crawl: error: STORE_SPILL_DIR {blocker / 'spill'} is not a writable directory (Not a directory); "
        "set it to a writable volume, where batches MongoDB cannot take are kept"
    )


def test_wrong_uri_scheme(redis_url):
    assert crawl(REDIS_URL=redis_url, MONGO_URI="postgres://db/") == (
        "scrapy crawl: error: MONGO_URI 'postgres://db/' has an unsupported scheme; "
        "use mongodb://HOST/, mongodb+srv://HOST/ or mongomock:// (in-process emulation)"
    )


def test_malformed_network_policy(redis_url, tmp_path):
    line = crawl(REDIS_URL=redis_url, MONGO_URI=f"journal://{tmp_path}", CRAWL_NETWORKS="127.0.0.0/8,10.0.0.300/8")
    assert line == "scrapy crawl: error: CRAWL_NETWORKS: '10.0.0.300/8' is not an IP network " + (
        "('10.0.0.300/8' does not appear to be an IPv4 or IPv6 network)"
    )


def test_cluster_worker_without_redis_url_says_what_to_set():
    """settings.cluster has no localhost fallback: a worker started without REDIS_URL must not crawl alone."""
    line = crawl("settings.cluster", MONGO_URI="mongodb://crawler:pw@db.example/")
    assert line == (
        "scrapy crawl: error: REDIS_URL must be set for settings.cluster: "
        "export REDIS_URL=... (the shared service's URI)"
    )


def test_cluster_worker_without_mongo_uri_says_what_to_set(redis_url):
    line = crawl("settings.cluster", REDIS_URL=redis_url)
    assert line.startswith("scrapy crawl: error: MONGO_URI must be set for settings.cluster")
