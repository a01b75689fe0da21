"""`linkcrawler demo --json` end to end on a small generated web: crawl, store, profile."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.local.synthweb import generate_web, ground_truth

pytestmark = pytest.mark.slow


def test_demo_json_carries_the_profile_of_every_linked_domain_of_the_web(monkeypatch):
    monkeypatch.delenv("MONGO_URI", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    result = CliRunner().invoke(app, ["demo", "--json", "--sites", "6", "--pages", "4", "--seed", "2"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    truth = ground_truth(generate_web(seed=2, sites=6, pages_per_site=4))
    linked = Counter(link["target_domain"] for link in truth)
    assert {p["domain"]: p["backlinks"]["live"] for p in summary["profiles"]} == dict(linked)
    assert all(0 <= p["authority"] <= 100 for p in summary["profiles"])
