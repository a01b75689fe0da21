"""`scrapy fetch URL`, `scrapy view URL` and `scrapy shell URL` in the project directory: one URL through the project's
downloader (network policy, robots.txt), with no frontier and no store, whether Redis and MongoDB run or not.

Each test runs the command as a developer would, in a subprocess, against a loopback site.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLOSED = "127.0.0.1:1"
"""A loopback port nothing listens on: Redis and MongoDB "not running"."""
NO_SERVICES = {"REDIS_URL": f"redis://{CLOSED}/0", "MONGO_URI": f"mongodb://{CLOSED}/?serverSelectionTimeoutMS=500"}
PAGE = b"hello from loopback"


KIB = 1024
ROBOTS = b"User-agent: *\nDisallow: /private\n"
LARGE_ROBOTS = (
    b"User-agent: *\n"
    + b"Disallow: /filler-rule-to-pad-the-file\n" * (499 * KIB // 39)
    + b"Disallow: /read\n"
    + b"Disallow: /b%s-end\n" % (b"x" * KIB)  # cut in its x's: "Disallow: /bxx" would refuse /bxx...y
    + b"Disallow: /page\n" * (500 * KIB // 16)
)
"""A 1 MB robots.txt: the first 500 KiB refuse /read, the rest (ignored, as Google ignores it) would refuse /page;
the line across the boundary is not read either."""
LINE_ACROSS = "/b" + "x" * KIB + "y"


class _Site(http.server.BaseHTTPRequestHandler):
    robots = ROBOTS

    def do_GET(self) -> None:
        body = self.robots if self.path == "/robots.txt" else PAGE
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site(request) -> Iterator[str]:
    handler = type("Site", (_Site,), {"robots": getattr(request, "param", ROBOTS)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def scrapy(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "MONGO_URI", "SCRAPY_SETTINGS_MODULE")}
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=60, stdin=subprocess.DEVNULL,
        env={**inherited, "CRAWL_NETWORKS": "127.0.0.0/8", **env},
    )  # fmt: skip


@pytest.mark.slow
def test_fetch_without_redis_or_mongodb(site):
    result = scrapy("fetch", f"{site}/page", **NO_SERVICES)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == PAGE.decode()
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_fetch_with_redis_and_a_store_does_not_touch_them(site, redis_url, redis_client, tmp_path):
    result = scrapy("fetch", f"{site}/page", REDIS_URL=redis_url, MONGO_URI=f"journal://{tmp_path}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == PAGE.decode()
    assert redis_client.keys("*") == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_fetch_obeys_robots_txt_and_the_network_policy(site):
    refused = scrapy("fetch", f"{site}/private", **NO_SERVICES)
    assert refused.returncode == 0 and refused.stdout == ""
    assert "'robotstxt/forbidden': 1" in refused.stderr
    outside = scrapy("fetch", f"{site}/page", **NO_SERVICES, CRAWL_NETWORKS="")
    assert outside.returncode == 0 and outside.stdout == ""
    assert "'downloader/exception_type_count/scrapy.exceptions.IgnoreRequest': 1" in outside.stderr


@pytest.mark.slow
def test_the_crawl_spider_is_refused_in_one_line(site):
    result = scrapy("fetch", "--spider", "backlinks", f"{site}/page", **NO_SERVICES)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "scrapy fetch: error: the backlinks spider crawls the shared frontier; "
        "run without --spider to fetch one URL through the project's downloader"
    )
    assert "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("services", ["none", "both"])
def test_shell(site, services, redis_url, tmp_path):
    env = NO_SERVICES if services == "none" else {"REDIS_URL": redis_url, "MONGO_URI": f"journal://{tmp_path}"}
    result = scrapy("shell", f"{site}/page", "-c", "(response.status, response.text)", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"(200, '{PAGE.decode()}')"
    assert "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("site", [LARGE_ROBOTS], indirect=True)
def test_only_the_first_500_kib_of_robots_txt_are_read(site):
    assert len(LARGE_ROBOTS) > 1_000_000 and LARGE_ROBOTS.index(b"/page") > 500 * KIB
    assert LARGE_ROBOTS.index(b"/bx") + 2 < 500 * KIB < LARGE_ROBOTS.index(b"-end")
    fetched = scrapy("fetch", f"{site}/page", **NO_SERVICES)
    assert fetched.stdout.strip() == PAGE.decode(), fetched.stderr
    assert f"robots.txt {site}/robots.txt is {len(LARGE_ROBOTS):,} bytes" in fetched.stderr
    assert "'robotstxt/truncated': 1" in fetched.stderr
    refused = scrapy("fetch", f"{site}/read", **NO_SERVICES)
    assert refused.stdout == "" and "'robotstxt/forbidden': 1" in refused.stderr
    across = scrapy("fetch", f"{site}{LINE_ACROSS}", **NO_SERVICES)
    assert across.stdout.strip() == PAGE.decode(), across.stderr
