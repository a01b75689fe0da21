"""The worker liveness probe (`python -m linkcrawler.frontier.health`) that compose and Kubernetes run."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from linkcrawler.frontier import keys
from linkcrawler.frontier.health import main
from linkcrawler.local.workers import WorkerProcess, loopback_settings, worker_environment

KEY = keys.spider_key(keys.WORKERS_KEY, keys.SPIDER_NAME)
HOST = socket.gethostname()


@pytest.fixture
def probe(redis_client, redis_url, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    return lambda *args: main(list(args))


def write_beat(redis_client, worker: str, age: float, left: bool = False) -> None:
    now = time.time()
    payload = f'{{"heartbeat": {now - age}, "last_active": {now}, "pages": 3, "left": {now if left else "null"}}}'
    redis_client.hset(KEY, worker, payload)


def test_a_fresh_heartbeat_from_this_host_passes(probe, redis_client, capsys):
    write_beat(redis_client, f"{HOST}:41", age=2)
    assert probe() == 0
    assert "ok: the worker on" in capsys.readouterr().out


def test_a_stale_heartbeat_fails(probe, redis_client, capsys):
    write_beat(redis_client, f"{HOST}:41", age=90)
    assert probe() == 1
    assert "last beat 90 s ago (more than 60 s)" in capsys.readouterr().err
    assert probe("--max-age", "120") == 0


def test_only_this_hosts_live_workers_count(probe, redis_client, capsys):
    write_beat(redis_client, f"other-{HOST}:41", age=1)
    write_beat(redis_client, f"{HOST}:42", age=1, left=True)
    assert probe() == 1
    assert f"no live worker on {HOST}" in capsys.readouterr().err


def test_an_unreachable_redis_does_not_fail_the_probe(monkeypatch, capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("REDIS_URL", f"redis://:secret@127.0.0.1:{port}/0")
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "not judged: cannot reach Redis" in out and "secret" not in out


@pytest.mark.slow
def test_a_running_worker_passes_and_a_stopped_one_fails(redis_client, redis_url, tmp_path):
    env = worker_environment(redis_url, f"journal://{tmp_path / 'journal'}")
    worker = WorkerProcess(env, loopback_settings({}, idle_close_seconds=0), tmp_path / "worker.log").start()
    command = [sys.executable, "-m", "linkcrawler.frontier.health", "--max-age", "5"]
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(command, env=env, capture_output=True).returncode != 0:
            assert worker.running() and time.monotonic() < deadline, worker.log_tail()
            time.sleep(0.5)
    finally:
        worker.stop()
    after = subprocess.run(command, env=env, capture_output=True, text=True)
    assert after.returncode == 1, after.stdout
    assert f"no live worker on {HOST}" in after.stderr
