"""`linkcrawler seed`: what reaches the frontier, and one clear line for every bad input."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.frontier.partitions import Partitions

runner = CliRunner()


def seed(redis_url, *args):
    return runner.invoke(app, ["seed", "--redis-url", redis_url, *args])


def queued(redis_client):
    return [json.loads(raw)["url"] for raw in redis_client.lrange("backlinks:start_urls", 0, -1)]


def test_urls_and_a_file_are_queued_normalized(redis_client, redis_url, tmp_path):
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("# comment\nhttp://B.example.org/x?utm_source=feed\n\n  https://c.example.net  \n")
    result = seed(redis_url, "http://a.example.com", "--file", str(seeds))
    assert result.exit_code == 0, result.output
    assert "queued 3 seed URL(s)" in result.output
    assert queued(redis_client) == ["http://a.example.com/", "http://b.example.org/x", "https://c.example.net/"]


def test_one_malformed_seed_queues_nothing(redis_client, redis_url, tmp_path):
    seeds = tmp_path / "seeds.txt"
    seeds.write_text("http://ok.example.com/\nftp://files.example.com/\n")
    result = subprocess.run(
        [sys.executable, "-m", "linkcrawler", "seed", "--redis-url", redis_url, "--file", str(seeds)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"linkcrawler: error: invalid seed 'ftp://files.example.com/' ({seeds}:2): "
        "not an absolute http(s) URL with a valid host; nothing was queued"
    ]
    assert queued(redis_client) == []


def test_unreachable_redis_is_one_line_with_the_password_masked():
    result = subprocess.run(
        [sys.executable, "-m", "linkcrawler", "seed", "http://a.example.com/", "--redis-url", "redis://:hunter2@127.0.0.1:1/0"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("linkcrawler: error: cannot reach Redis at redis://:***@127.0.0.1:1/0")
    assert "hunter2" not in result.stderr


def test_a_new_run_forgets_seen_urls_but_keeps_the_queue(redis_client, redis_url):
    """In every partition of the crawl (one with 16 here)."""
    redis_client.set(Partitions.count_key("backlinks"), 16)
    partitions = Partitions("backlinks", 16)
    n = partitions.of_site("a.example.com")
    forgotten = ["backlinks:dupefilter", partitions.key(n, "dupefilter"), partitions.key(n, "domain_pages"),
                 partitions.key(15 - n, "dupefilter")]  # fmt: skip
    for key in forgotten:
        redis_client.sadd(key, "fingerprint") if key.endswith("dupefilter") else redis_client.hset(key, "a", 5)
    queue = partitions.key(n, "queue:a.example.com")
    redis_client.zadd(queue, {"queued-request": 0})
    assert seed(redis_url, "--new-run", "http://a.example.com/").exit_code == 0
    assert not redis_client.exists(*forgotten)
    assert redis_client.zcard(queue) == 1


def test_no_seeds_is_an_error(redis_url):
    result = subprocess.run(
        [sys.executable, "-m", "linkcrawler", "seed", "--redis-url", redis_url], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "linkcrawler: error: no seeds given: pass URLs or --file FILE"
