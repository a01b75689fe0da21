"""Crawled text reaches the operator's terminal as data: Rich markup and control characters in it are shown, not obeyed.

Any page on the web chooses the anchors and URL paths stored for the domains
it links to, so every command printing them is run here on a terminal (Rich
told so by `TTY_COMPATIBLE`, a pseudo-terminal for the CSV export).
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time

from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.profile.job import summarize
from linkcrawler.store import snapshot
from linkcrawler.store.migrate import upgrade
from tests.profile_data import link, load

runner = CliRunner()
TERMINAL = {"TTY_COMPATIBLE": "1", "COLUMNS": "400", "NO_COLOR": None}
CLOSING_TAG = "[/oops]"
HIDDEN_LINK = "[link=https://evil.example/]click[/link]"  # lower case: the profile case-folds anchors
STYLED_URL = "http://b.com/[red]x[/red]"
RETITLE = "\x1b]0;owned\x07"
OSC = "\x1b]"
"""Operating system commands: a hyperlink (`ESC ]8;`) or a window title (`ESC ]0;`), never in output about data."""


def hostile(mongo_db, mongo_uri: str) -> list[str]:
    """The database of `profile_data` plus links whose anchors and URLs are markup or control characters;
    returns the options that name it."""
    load(mongo_db)
    mongo_db.links.insert_many([
        link("http://a.com/3", STYLED_URL, CLOSING_TAG),
        link("http://a.com/4", "http://b.com/", HIDDEN_LINK),
        link("http://g.com/", "http://b.com/", f"stored by another tool {RETITLE}"),
        link(f"http://e.com/{CLOSING_TAG}", "http://b.com/", "E"),
        link(f"http://f.com/{HIDDEN_LINK}", "http://b.com/", "F"),
        link(f"http://h.com/{RETITLE}", "http://b.com/", "H"),
    ])  # fmt: skip
    upgrade(mongo_db)  # written as version 1 wrote links: give them their state
    summarize(mongo_db)
    return ["--mongo-uri", mongo_uri, "--database", mongo_db.name]


def invoke(*args: str):
    result = runner.invoke(app, list(args), env=TERMINAL)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_profile_shows_anchors_and_urls_literally(mongo_db, mongo_uri):
    output = invoke("profile", "b.com", *hostile(mongo_db, mongo_uri))
    assert CLOSING_TAG in output and HIDDEN_LINK in output and STYLED_URL in output
    assert "stored by another tool \\x1b]0;owned\\x07" in output
    assert OSC not in output


def test_extract_shows_anchors_and_urls_literally(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        f'<a href="{STYLED_URL}">{CLOSING_TAG}</a> <a href="http://c.com/">{HIDDEN_LINK}</a>'
        '<meta name="robots" content="[/robots]">'
    )
    output = invoke("extract", str(page), "--base-url", "http://a.com/")
    assert CLOSING_TAG in output and HIDDEN_LINK in output and STYLED_URL in output and "[/robots]" in output
    assert OSC not in output


def test_intersect_shows_linking_urls_literally(mongo_db, mongo_uri):
    output = invoke("intersect", "b.com", *hostile(mongo_db, mongo_uri))
    assert f"b.com (1): http://e.com/{CLOSING_TAG}" in output and f"b.com (1): http://f.com/{HIDDEN_LINK}" in output
    assert "b.com (1): http://h.com/\\x1b]0;owned\\x07" in output
    assert OSC not in output


def test_stats_show_a_worker_name_with_control_characters_as_escapes(redis_client, redis_url):
    redis_client.hset("backlinks:workers", f"host:1{RETITLE}", json.dumps(
        {"heartbeat": time.time(), "last_active": 0, "pages": 3, "left": None}))  # fmt: skip
    output = invoke("stats", "--redis-url", redis_url)
    assert "host:1\\x1b]0;owned\\x07  heartbeat" in output
    assert OSC not in output


def test_json_lines_escape_what_json_leaves_raw_and_read_back_the_same(mongo_db, mongo_uri):
    args = hostile(mongo_db, mongo_uri)
    mongo_db.links.insert_one(link("http://d.com/", "http://b.com/", "C1 \x9b2J and \u202eright to left", live=True))
    output = invoke("export", "backlinks", "b.com", "--format", "jsonl", *args)
    assert "\x9b" not in output and "\u202e" not in output and OSC not in output
    anchors = {json.loads(line)["anchor"] for line in output.splitlines()}
    assert {"C1 \x9b2J and \u202eright to left", f"stored by another tool {RETITLE}"} <= anchors


def test_csv_to_a_terminal_shows_control_characters_as_escapes(mongo_db, mongo_uri, tmp_path):
    args = hostile(mongo_db, mongo_uri)
    snapshot.save(mongo_db, tmp_path / "data")
    saved = ["--mongo-uri", f"mongomock://{tmp_path / 'data'}"]
    on_terminal = run_on_terminal([sys.executable, "-m", "linkcrawler", "export", "backlinks", "b.com", *saved])
    assert "stored by another tool \\x1b]0;owned\\x07" in on_terminal and OSC not in on_terminal
    gap = run_on_terminal([sys.executable, "-m", "linkcrawler", "intersect", "b.com", "--csv", *saved])
    assert "http://h.com/\\x1b]0;owned\\x07" in gap and OSC not in gap
    to_a_pipe = runner.invoke(app, ["export", "backlinks", "b.com", *args]).output
    assert f"stored by another tool {RETITLE}" in to_a_pipe  # a file or a pipe gets the data as stored


def run_on_terminal(command: list[str], timeout: float = 60.0) -> str:
    """What `command` writes to a pseudo-terminal as its standard output, read until it exits."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(command, stdout=terminal, stderr=subprocess.PIPE, env={**os.environ, "COLUMNS": "400"})
    os.close(terminal)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closes when the process exits
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
        _, errors = process.communicate(timeout=10)
    assert process.returncode == 0, errors.decode()
    return b"".join(chunks).decode("utf-8", "replace")
