"""scrapyd end to end: deploy/scrapyd.conf on loopback, scrapyd-deploy, schedule.json, links stored.

The scrapyd under test runs with the shipped config (only its address and
directories moved to a temporary place) and gets REDIS_URL and MONGO_URI from
its environment, as in compose and Kubernetes. The crawl is confined to the
synthetic web on loopback by `setting=` parameters of schedule.json. Without
a real MongoDB the worker journals to disk and the test replays the journal
into the emulation (an emulated database cannot be shared between processes).
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from linkcrawler.local.synthweb import WebServer, fetchable_pages, generate_web, ground_truth, identity
from linkcrawler.local.workers import loopback_settings
from linkcrawler.store.journal import replay
from linkcrawler.store.linkstore import LinkStore
from linkcrawler.store.mongo import get_database
from tests.conftest import REAL_MONGO_URI

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PROJECT_FILES = ("scrapy.cfg", "setup.py", "pyproject.toml", "README.md")
PROJECT_PACKAGES = ("linkcrawler", "spiders", "pipelines", "settings")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


LOOPBACK_ONLY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""Talks to scrapyd directly even when the environment names an HTTP proxy."""
PROXY_VARIABLES = {"http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"}


def api(base: str, endpoint: str, data: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with LOOPBACK_ONLY.open(base + endpoint, data=body, timeout=10) as response:
        return json.loads(response.read())


class Scrapyd:
    """A scrapyd process with the shipped config, bound to loopback, state in `workdir`."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.workdir = workdir
        config = configparser.ConfigParser()
        config.read(ROOT / "deploy" / "scrapyd.conf")
        config["scrapyd"].update(
            bind_address="127.0.0.1",
            http_port=str(self.port),
            eggs_dir=str(workdir / "eggs"),
            logs_dir=str(workdir / "logs"),
            dbs_dir=str(workdir / "dbs"),
            poll_interval="0.5",
        )
        with (workdir / "scrapyd.conf").open("w") as file:
            config.write(file)
        self.log = (workdir / "scrapyd.out").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "scrapyd"], cwd=workdir, env={**env, "HOME": str(workdir)},
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                if api(self.url, "daemonstatus.json")["status"] == "ok":
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"scrapyd did not answer within {timeout} s:\n{self.output()}")

    def output(self) -> str:
        return (self.workdir / "scrapyd.out").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        """Stop scrapyd, and any crawl it still runs (scrapyd leaves its jobs' processes behind)."""
        try:
            jobs = [job["pid"] for job in api(self.url, "listjobs.json").get("running", [])]
        except OSError:
            jobs = []
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for pid in jobs:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.log.close()


@pytest.fixture
def services(tmp_path: Path, redis_client: Any, redis_url: str) -> Iterator[dict[str, str]]:
    """What compose and the Kubernetes Secret give a worker: the URIs, in the environment."""
    database = f"linkcrawler_scrapyd_{uuid.uuid4().hex[:8]}"
    mongo_uri = REAL_MONGO_URI or f"journal://{tmp_path / 'journal'}"
    dropped = {"SCRAPY_SETTINGS_MODULE", "REDIS_URL", "MONGO_URI", *PROXY_VARIABLES}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    yield {**env, "REDIS_URL": redis_url, "MONGO_URI": mongo_uri, "MONGO_DATABASE": database, "PYTHONUNBUFFERED": "1"}
    if REAL_MONGO_URI:
        get_database(REAL_MONGO_URI, database).client.drop_database(database)


@pytest.fixture
def scrapyd(tmp_path: Path, services: dict[str, str]) -> Iterator[Scrapyd]:
    workdir = tmp_path / "scrapyd"
    workdir.mkdir()
    server = Scrapyd(workdir, services)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def deploy(project_copy: Path, url: str) -> None:
    """`scrapyd-deploy` from a copy of the project, so building the egg writes nothing into the checkout."""
    project_copy.mkdir()
    for name in PROJECT_FILES:
        shutil.copy(ROOT / name, project_copy / name)
    for name in PROJECT_PACKAGES:
        shutil.copytree(ROOT / name, project_copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    config = configparser.ConfigParser()
    config.read(project_copy / "scrapy.cfg")
    config["deploy"]["url"] = url
    with (project_copy / "scrapy.cfg").open("w") as file:
        config.write(file)
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
    result = subprocess.run(
        [sys.executable, "-m", "scrapyd_client.deploy"], cwd=project_copy, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["status"] == "ok", result.stdout + result.stderr


def wait_finished(scrapyd: Scrapyd, job: str, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = api(scrapyd.url, "listjobs.json?project=linkcrawler")
        if any(entry["id"] == job for entry in jobs["finished"]):
            return
        time.sleep(0.5)
    api(scrapyd.url, "cancel.json", [("project", "linkcrawler"), ("job", job)])
    raise AssertionError(f"job {job} did not finish within {timeout} s")


def test_a_crawl_scheduled_through_scrapyd_stores_the_synthetic_webs_links(tmp_path, scrapyd, services):
    deploy(tmp_path / "project", scrapyd.url)
    assert api(scrapyd.url, "listspiders.json?project=linkcrawler")["spiders"] == ["backlinks"]

    with WebServer(generate_web(seed=7, sites=8, pages_per_site=8)) as server:
        seeded = subprocess.run(
            [sys.executable, "-m", "linkcrawler", "seed", "--new-run", *server.seeds],
            env=services, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert seeded.returncode == 0, seeded.stderr
        settings = loopback_settings(server.hosts, idle_close_seconds=2.0)
        params = [("project", "linkcrawler"), ("spider", "backlinks")]
        params += [("setting", f"{name}={value}") for name, value in settings.items()]
        job = api(scrapyd.url, "schedule.json", params)["jobid"]
        wait_finished(scrapyd, job)
        hits = server.hits()

    log = next((scrapyd.workdir / "logs" / "linkcrawler" / "backlinks").glob(f"{job}.log")).read_text()
    assert "Traceback" not in log, log[-3000:]
    assert "'finish_reason': 'finished'" in log, log[-3000:]
    assert {url for url in hits if not url.endswith("/robots.txt")} == fetchable_pages(server.web)

    store = LinkStore(get_database(REAL_MONGO_URI or f"mongomock://scrapyd-{job}", services["MONGO_DATABASE"]))
    if not REAL_MONGO_URI:
        replay(tmp_path / "journal", store)
    stored = {identity(doc) for doc in store.links.find()}
    truth = {identity(link) for link in ground_truth(server.web)}
    assert truth and stored == truth
