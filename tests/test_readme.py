"""The README is the front page: the pitch, the two commands CI runs, and links into the documentation site."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)


def test_the_readme_links_only_to_files_that_exist():
    links = re.findall(r"\]\(((?:docs/|LICENSE|CHANGELOG)[^)#]*)", README)
    assert len(links) > 20
    assert [link for link in links if not (ROOT / link).is_file()] == []


def test_the_two_commands_are_the_demo_and_the_suite_ci_runs():
    commands = [line for block in shell_blocks(README) for line in block.splitlines() if "-m venv" in line]
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install -q -e '.[demo]' && .venv/bin/linkcrawler demo",
        "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest",
    ]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -q -e '.[test,docs]'" in ci
    assert ".venv/bin/python -m pytest\n" in ci
    assert "mkdocs build --strict" in ci


def test_the_getting_started_page_gives_the_same_two_commands():
    page = (ROOT / "docs" / "getting-started.md").read_text()
    for block in shell_blocks(README):
        for line in block.splitlines():
            if "-m venv" in line:
                assert line in page


def test_the_readme_stays_a_front_page():
    assert len(README.splitlines()) < 150
