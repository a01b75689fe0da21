"""`linkcrawler extract`: exactly the records the crawler stores, and no request for a file."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from linkcrawler.cli.app import app

runner = CliRunner()
DOCUMENT = """<html><head><meta name="robots" content="nofollow"></head><body>
<nav><a href="/">Home</a></nav>
<main><a href="http://Other.org/x?utm_source=t#f" rel="ugc">Other &amp; co</a>
<a href="//cdn.net/y"><img alt="Logo"></a><a href="mailto:x@y">mail</a></main>
<footer><a href="https://partner.co.uk:443/">Partner</a></footer></body></html>"""


@pytest.fixture
def document(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(DOCUMENT)
    return path


def test_json_lines_are_the_stored_external_links(document, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("reading a file opened a socket")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    result = runner.invoke(app, ["extract", str(document), "--base-url", "http://example.com/page", "--json"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["target_url"], r["anchor"], r["link_type"], r["ugc"], r["follow"], r["position"]) for r in records] == [
        ("http://other.org/x", "Other & co", "text", True, False, "content"),
        ("http://cdn.net/y", "Logo", "image", False, False, "content"),
        ("https://partner.co.uk/", "Partner", "text", False, False, "footer"),
    ]
    assert {r["source_url"] for r in records} == {"http://example.com/page"}
    assert {"target_domain", "nofollow", "sponsored"} <= set(records[0])


def test_all_includes_internal_links(document):
    result = runner.invoke(app, ["extract", str(document), "--base-url", "http://example.com/page", "--json", "--all"])
    targets = [json.loads(line)["target_url"] for line in result.output.splitlines()]
    assert targets[0] == "http://example.com/"


def test_the_table_names_every_link(document):
    args = ["extract", str(document), "--base-url", "http://example.com/page"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "3 links from http://example.com/page" in result.output and "partner.co.uk" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.html", "--base-url", "http://a.com/"], "linkcrawler: error: cannot read missing.html"),
        (["page.html"], "linkcrawler: error: --base-url is required for a file"),
        (["page.html", "--base-url", "a.com"], "linkcrawler: error: --base-url 'a.com' is not an absolute http(s) URL"),
    ],
)
def test_bad_input_is_one_line(tmp_path, args, message):
    (tmp_path / "page.html").write_text(DOCUMENT)
    result = subprocess.run(
        [sys.executable, "-m", "linkcrawler", "extract", *args], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(message)


def test_a_url_outside_the_allowed_networks_is_refused_before_any_request(monkeypatch):
    monkeypatch.setenv("CRAWL_NETWORKS", "127.0.0.0/8")
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(None, None, None, None, ("10.1.2.3", 0))])
    result = runner.invoke(app, ["extract", "http://intranet.example/"])
    assert result.exit_code != 0
    assert "10.1.2.3, which CRAWL_NETWORKS does not allow" in str(result.exception)
