"""The benchmark suite runs end to end and reports every headline number (never how fast: no timing is checked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import crawl, run

pytestmark = pytest.mark.slow

# Big enough that two workers overlap: the second can join a few seconds after the first.
TINY = crawl.Plan(sites=30, pages_per_site=30, warmup=10, pages=60, rounds=1)


def test_the_suite_reports_every_headline_number_as_a_positive_number(monkeypatch):
    monkeypatch.delenv("MONGO_URI", raising=False)
    result = run.measure(quick=True, plan=TINY)

    assert set(run.KEYS) <= set(result)
    for key in run.KEYS:
        assert isinstance(result[key], float | int) and result[key] > 0, (key, result[key])
    assert result["store_stage"].startswith("measured separately")
    crawled = result["details"]["crawl"]
    assert all(crawled[f"{side}_pages_per_second"] > 0 for side in crawl.SIDES)
    json.dumps(result)


def test_a_dead_mongodb_fails_in_one_line_before_any_crawl(monkeypatch):
    monkeypatch.setenv("MONGO_URI", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200")
    script = Path(run.__file__)
    done = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True, timeout=60)

    assert done.returncode == 2
    assert done.stderr.startswith("bench/run.py: error: cannot reach MongoDB at mongodb://127.0.0.1:1/")
    assert len(done.stderr.strip().splitlines()) == 1
