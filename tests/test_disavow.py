"""`linkcrawler disavow` on stored profiles: Google's size limits, flags thresholds, missing profiles."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.profile.disavow import MAX_BYTES, MAX_LINES
from linkcrawler.profile.job import PROFILES
from tests.test_risk_e2e import parse_disavow

runner = CliRunner()


@pytest.fixture
def env(mongo_db, mongo_uri, monkeypatch):
    monkeypatch.setenv("MONGO_URI", mongo_uri)
    monkeypatch.setenv("MONGO_DATABASE", mongo_db.name)
    return mongo_db


def store(db, rows):
    db[PROFILES].insert_one({
        "_id": "b.com", "domain": "b.com", "data_as_of": datetime(2026, 1, 2, tzinfo=UTC),
        "risk": {"flagged": len(rows), "referring_domains": rows, "thresholds": {}},
    })  # fmt: skip


def row(domain, flags):
    return {"domain": domain, "links": 3, "flags": {flag: {"pages": 1} for flag in flags}}


def test_a_huge_profile_is_cut_at_googles_limits_with_one_line_saying_so(env):
    store(env, [row(f"spam-{n:06d}-{'x' * 20}.example", ("sitewide", "link_farm")) for n in range(60_000)])
    result = runner.invoke(app, ["disavow", "b.com"])
    assert result.exit_code == 0
    text = result.stdout
    domains, urls, comments = parse_disavow(text)
    assert len(text.encode()) <= MAX_BYTES and text.count("\n") <= MAX_LINES and urls == []
    assert 0 < len(domains) < 60_000 and all(comments[d].startswith(f"# {d}: 3 link(s); sitewide") for d in domains)
    assert result.stderr.splitlines() == [
        f"linkcrawler: wrote {len(domains)} of 60000 entries: a disavow file holds at most 100,000 lines and "
        "2,000,000 bytes"
    ]


def test_min_flags_chooses_the_entries(env):
    store(env, [row("a.example", ("sitewide", "link_farm")), row("c.example", ("only_sponsored_ugc",))])
    assert parse_disavow(runner.invoke(app, ["disavow", "b.com"]).stdout)[0] == ["a.example"]
    assert parse_disavow(runner.invoke(app, ["disavow", "b.com", "--min-flags", "1"]).stdout)[0] == [
        "a.example",
        "c.example",
    ]


def test_no_profile_is_one_line(env):
    result = runner.invoke(app, ["disavow", "nowhere.example"])
    assert "no profile for nowhere.example" in str(result.exception)
