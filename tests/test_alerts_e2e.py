"""Alerts against the synthetic web: two crawl runs, summarize runs with a receiver on loopback, from ground truth.

Run 1 alerts every domain with its links as new; the receiver is down
during run 2, whose alerts wait in the spool; a third summarize (no new
data, so no new alerts) delivers them, and they hold exactly the links the
generator added, removed and broke between the two versions.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.local.demo import EMULATED_MONGO_URI
from linkcrawler.local.synthweb import WebServer, broken_links, generate_web, ground_truth, link_changes
from tests.conftest import local_crawl
from tests.test_alerts import Receiver

pytestmark = pytest.mark.slow


def by_domain(links):
    grouped = defaultdict(set)
    for link in links:
        grouped[link["target_domain"]].add((link["source_url"], link["target_url"], link["anchor"]))
    return grouped


def listed(body, kind):
    return {(link["source_url"], link["target_url"], link["anchor"]) for link in body[kind]["links"]}


def test_alerts_of_two_runs_match_the_ground_truth_and_survive_a_receiver_outage(
    redis_client, redis_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("NOTIFY_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("NOTIFY_LINKS", "1000")
    monkeypatch.setenv("NOTIFY_RETRIES", "1")
    monkeypatch.setenv("NOTIFY_BACKOFF", "0.05")
    receiver = Receiver()
    url, port = receiver.url, receiver.server.server_address[1]
    with (
        WebServer(generate_web(seed=8, sites=12, pages_per_site=6)) as server,
        local_crawl(redis_url, "lc_al") as local,
    ):
        options = ["--mongo-uri", local.mongo_uri or EMULATED_MONGO_URI, "--database", local.database, "--notify", url]
        try:
            local.crawl(server.seeds, server.hosts, workers=2, timeout=300)
            first = CliRunner().invoke(app, ["summarize", *options])
            assert first.exit_code == 0, first.output
            v1 = server.web
            server.set_version(2)
            local.crawl(server.seeds, server.hosts, workers=2, timeout=300, new_run=True)
            v2 = server.web
            receiver.stop()
            second = CliRunner().invoke(app, ["summarize", *options])
            assert second.exit_code == 0 and "kept in" in second.output, second.output
            run1, receiver = receiver.bodies, Receiver(port)
            third = CliRunner().invoke(app, ["summarize", *options])
            assert third.exit_code == 0 and "alerts: 0 domain(s) changed" in third.output, third.output
            run2 = receiver.bodies
        finally:
            receiver.stop()

    truth = by_domain(ground_truth(v1))
    assert {body["domain"] for body in run1} == set(truth)
    for body in run1:
        expected = truth[body["domain"]]
        assert body["new"]["count"] == len(expected)  # complete; the profile lists its latest 100 (Limits.changes)
        assert listed(body, "new") <= expected and body["lost"]["count"] == 0
        assert listed(body, "broken") == by_domain(broken_links(v1)).get(body["domain"], set())

    changes = link_changes(v1, v2)
    added, removed, broken = (by_domain(changes[kind]) for kind in ("added", "removed", "broken"))
    assert {body["domain"] for body in run2} == set(added) | set(removed) | set(broken)
    for body in run2:
        domain = body["domain"]
        assert listed(body, "new") == added.get(domain, set())
        assert listed(body, "lost") == removed.get(domain, set())
        assert listed(body, "broken") == broken.get(domain, set())
        assert body["authority"]["previous"] is not None
    reasons = {(link["source_url"], link["target_url"], link["anchor"]): link["reason"] for link in changes["removed"]}
    assert all(link["reason"] == reasons[(link["source_url"], link["target_url"], link["anchor"])]
               for body in run2 for link in body["lost"]["links"])  # fmt: skip
    assert broken and removed and added
