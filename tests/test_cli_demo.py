"""`linkcrawler demo` end to end on a small generated web: crawl, store, profile, and the folder it leaves."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.local.synthweb import generate_web, ground_truth

pytestmark = pytest.mark.slow

LINKCRAWLER = str(Path(sys.executable).with_name("linkcrawler"))


@pytest.fixture
def newcomer(monkeypatch, tmp_path):
    """No MONGO_URI or REDIS_URL, in an empty directory: the demo's default setting."""
    monkeypatch.delenv("MONGO_URI", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_demo_json_carries_the_profile_of_every_linked_domain_of_the_web(newcomer):
    result = CliRunner().invoke(app, ["demo", "--json", "--sites", "6", "--pages", "4", "--seed", "2"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    truth = ground_truth(generate_web(seed=2, sites=6, pages_per_site=4))
    linked = Counter(link["target_domain"] for link in truth)
    assert {p["domain"]: p["backlinks"]["live"] for p in summary["profiles"]} == dict(linked)
    assert all(0 <= p["authority"] <= 100 for p in summary["profiles"])
    assert summary["folder"] == str(newcomer / "linkcrawler-demo")


def test_the_demo_leaves_reports_and_data_and_its_printed_commands_work_as_printed(newcomer):
    result = subprocess.run(
        [LINKCRAWLER, "demo", "--sites", "8", "--pages", "6", "--seed", "3"],
        capture_output=True, text=True, timeout=600, cwd=newcomer, env=_env(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    folder = newcomer / "linkcrawler-demo"
    linked = Counter(link["target_domain"] for link in ground_truth(generate_web(seed=3, sites=8, pages_per_site=6)))
    index = (folder / "index.html").read_text(encoding="utf-8")
    for domain, backlinks in linked.items():
        assert f'href="reports/{domain}.html"' in index
        report = (folder / "reports" / f"{domain}.html").read_text(encoding="utf-8")
        assert f"<h1>{domain}</h1>" in report and f"<b>{backlinks:,}</b>" in report
    assert {p.name for p in (folder / "data").iterdir()} >= {"links.jsonl", "domain_profiles.jsonl"}
    assert "Top domains by authority" in result.stdout
    commands = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("linkcrawler ")]
    assert [shlex.split(c)[1] for c in commands] == ["profile", "export", "intersect"]
    outputs = []
    for command in commands:
        ran = subprocess.run([LINKCRAWLER, *shlex.split(command)[1:]], capture_output=True, text=True, timeout=120,
                             cwd=newcomer, env=_env())  # fmt: skip
        assert ran.returncode == 0, (command, ran.stderr)
        outputs.append(ran.stdout)
    top = shlex.split(commands[0])[2]
    assert f"{top}: data as of" in outputs[0]
    exported = (folder / f"{top}-backlinks.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(exported) == 1 + linked[top]
    assert "referring domain(s)" in outputs[2]


def _env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in ("MONGO_URI", "REDIS_URL")}
