"""`linkcrawler serve` as a process while what it reads goes away: Redis stopped and started again on its port
(the home page says Redis does not answer, then shows the crawl again), MongoDB at a closed port (every view is
the "MongoDB unreachable" page, answered once the URI's `serverSelectionTimeoutMS` has passed rather than the
query time limit, and the process keeps answering).

MongoDB coming back is not shown: the tests have no MongoDB server to stop and start (the emulation lives in the
serving process); pymongo's client looks for the server again on each request."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest

from linkcrawler.local.redis_server import EmbeddedRedis
from linkcrawler.profile.job import summarize
from linkcrawler.store.mongo import get_database
from linkcrawler.store.snapshot import save
from tests.profile_data import T1, load

VIEWS = ["/", "/index.json", "/d/b.com", "/d/b.com/backlinks", "/d/b.com/backlinks.json", "/d/b.com/backlinks.csv",
         "/d/b.com/referring-domains", "/d/b.com/anchors.json", "/intersect?c=a.com&c=b.com&min=1",
         "/page?url=http://b.com/", "/compare?d=a.com&d=b.com"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(*options: str) -> Iterator[tuple[subprocess.Popen, httpx.Client]]:
    """`linkcrawler serve` on a free loopback port with `options`, and a client of it; stopped afterwards."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "linkcrawler", "serve", "--port", str(port), *options],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                time.sleep(0.2)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as web:
            yield server, web
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def data(cli_db, tmp_path) -> list[str]:
    """profile_data's table, summarized, saved as a data folder; the options that serve it."""
    db, options = cli_db
    load(db)
    summarize(db, None, now=T1 + timedelta(days=40))
    save(db, tmp_path / "data")
    return ["--mongo-uri", f"mongomock://{tmp_path / 'data'}", "--database", options[options.index("--database") + 1]]


@pytest.mark.slow
def test_the_home_page_shows_redis_gone_then_the_crawl_again_when_it_is_back(data):
    with EmbeddedRedis() as redis_server, serving(*data, "--redis-url", redis_server.url) as (server, web):
        assert "live workers" in web.get("/").text
        redis_server.stop()
        down = web.get("/")
        assert down.status_code == 200 and "b.com" in down.text
        assert f"Redis at {redis_server.url} did not answer" in down.text and "live workers" not in down.text
        assert web.get("/d/b.com/backlinks").status_code == 200
        redis_server.start()
        back = web.get("/")
        assert back.status_code == 200 and "live workers" in back.text and "did not answer" not in back.text
        assert server.poll() is None


@pytest.mark.slow
def test_every_view_says_mongodb_is_unreachable_and_the_server_keeps_answering():
    closed = free_port()
    uri = f"mongodb://127.0.0.1:{closed}/?serverSelectionTimeoutMS=300"
    # a time limit longer than the client waits: an answer must not wait for it (only for the server selection)
    with serving("--mongo-uri", uri, "--database", "gone", "--query-timeout", "600") as (server, web):
        for _ in range(2):
            for path in VIEWS:
                answer = web.get(path)
                assert answer.status_code == 503, (path, answer.text[:300])
                if answer.headers["content-type"].startswith("application/json"):
                    assert "did not answer" in answer.json()["error"] and "--mongo-uri" in answer.json()["error"]
                else:
                    assert "MongoDB unreachable" in answer.text and f"127.0.0.1:{closed}" in answer.text
                    assert "--mongo-uri" in answer.text
        assert server.poll() is None
    assert "does not answer yet" in server.stdout.read().decode()


def test_the_uri_s_own_server_selection_timeout_is_the_wait_for_an_unreachable_server():
    given = get_database("mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=300", "x", check=False, timeout_ms=3000)
    default = get_database("mongodb://127.0.0.1:9/", "x", check=False, timeout_ms=3000)
    assert given.client.options.server_selection_timeout == 0.3
    assert default.client.options.server_selection_timeout == 3.0
    given.client.close()
    default.client.close()
