"""`linkcrawler extract`: exactly the records the crawler stores, and no request for a file."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading

import pytest
from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.errors import UserError

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
    source = {"source_url": "http://example.com/page"}
    nofollow_page = {"nofollow": False, "sponsored": False, "follow": False}
    assert records == [
        {**source, "target_url": "http://other.org/x", "target_host": "other.org", "target_domain": "other.org",
         "anchor": "Other & co", "link_type": "text", "ugc": True, **nofollow_page, "position": "content"},
        {**source, "target_url": "http://cdn.net/y", "target_host": "cdn.net", "target_domain": "cdn.net",
         "anchor": "Logo", "link_type": "image", "ugc": False, **nofollow_page, "position": "content"},
        {**source, "target_url": "https://partner.co.uk/", "target_host": "partner.co.uk",
         "target_domain": "partner.co.uk", "anchor": "Partner", "link_type": "text", "ugc": False, **nofollow_page,
         "position": "footer"},
    ]  # fmt: skip


def test_all_includes_internal_links(document):
    result = runner.invoke(app, ["extract", str(document), "--base-url", "http://example.com/page", "--json", "--all"])
    targets = [json.loads(line)["target_url"] for line in result.output.splitlines()]
    assert targets == ["http://example.com/", "http://other.org/x", "http://cdn.net/y", "https://partner.co.uk/"]


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


class _Site(http.server.BaseHTTPRequestHandler):
    """Two pages on loopback: /page (HTML) and /moved, which redirects off the allowed networks."""

    def do_GET(self):
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "http://10.1.2.3/elsewhere")
            self.end_headers()
            return
        if self.path == "/doc.pdf":
            body, kind = b"%PDF-1.7 <a href='http://x.org/'>x</a>", "application/pdf"
        else:
            body, kind = DOCUMENT.encode(), "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("X-Robots-Tag", "noindex")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def site():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_url_on_an_allowed_network_is_fetched(site, monkeypatch):
    monkeypatch.setenv("CRAWL_NETWORKS", "127.0.0.0/8")
    result = runner.invoke(app, ["extract", f"{site}/page", "--json"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["target_url"] for r in records] == ["http://other.org/x", "http://cdn.net/y", "https://partner.co.uk/"]
    assert {r["source_url"] for r in records} == {f"{site}/page"}


def test_loopback_is_refused_by_default(site, monkeypatch):
    monkeypatch.delenv("CRAWL_NETWORKS", raising=False)
    result = runner.invoke(app, ["extract", f"{site}/page"])
    assert isinstance(result.exception, UserError)
    assert "127.0.0.1, which CRAWL_NETWORKS does not allow" in str(result.exception)


def test_a_redirect_off_the_allowed_networks_is_refused(site, monkeypatch):
    monkeypatch.setenv("CRAWL_NETWORKS", "127.0.0.0/8")
    result = runner.invoke(app, ["extract", f"{site}/moved"])
    assert isinstance(result.exception, UserError)
    assert "10.1.2.3, which CRAWL_NETWORKS does not allow" in str(result.exception)


def test_a_non_html_response_has_no_links(site, monkeypatch):
    monkeypatch.setenv("CRAWL_NETWORKS", "127.0.0.0/8")
    result = runner.invoke(app, ["extract", f"{site}/doc.pdf"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "0 links from" in result.output and "application/pdf is not HTML" in result.output


def test_a_binary_file_is_not_parsed(tmp_path):
    path = tmp_path / "logo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n<a href='http://x.org/'>x</a>")
    result = runner.invoke(app, ["extract", str(path), "--base-url", "http://example.com/", "--json"])
    assert (result.exit_code, result.output) == (0, "")


def test_the_table_shows_page_directives_and_what_was_skipped(document):
    args = ["extract", str(document), "--base-url", "http://example.com/page"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert "skipped: scheme 1" in result.output
    assert "robots: nofollow" in result.output
