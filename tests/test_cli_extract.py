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
from tests.scripted_server import ScriptedServer, page, raw

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


@pytest.fixture
def scripted_page():
    with ScriptedServer({"": page}) as server:
        yield server


def test_a_dns_answer_that_changes_after_the_check_is_never_connected_to(scripted_page, monkeypatch):
    """The resolver first answers an allowed address, then the loopback service's. The allowed one is 127.0.0.2
    (where nothing listens), not a public address, so no packet leaves loopback whatever the code does."""
    monkeypatch.setenv("CRAWL_NETWORKS", "127.0.0.2/32")
    answers, resolve = iter(["127.0.0.2"]), socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host != "rebind.example":
            return resolve(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers, "127.0.0.1"), port or 0))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    port = scripted_page.url.rsplit(":", 1)[1]
    result = runner.invoke(app, ["extract", f"http://rebind.example:{port}/page"])
    assert scripted_page.requests == []
    assert isinstance(result.exception, UserError) and "ConnectionRefusedError" in str(result.exception)


def test_proxy_variables_are_ignored(scripted_page, monkeypatch):
    monkeypatch.setenv("CRAWL_NETWORKS", "127.0.0.0/8")
    with ScriptedServer({"": page}) as proxy:
        for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "all_proxy"):
            monkeypatch.setenv(name, proxy.url)
        for name in ("no_proxy", "NO_PROXY"):
            monkeypatch.delenv(name, raising=False)
        result = runner.invoke(app, ["extract", f"{scripted_page.url}/page", "--json"])
    assert proxy.requests == []
    assert result.exit_code == 0, result.output
    assert scripted_page.requests == ["GET /page HTTP/1.1"]


def test_a_status_line_with_terminal_escapes_is_shown_escaped(monkeypatch):
    monkeypatch.setenv("CRAWL_NETWORKS", "127.0.0.0/8")
    hostile = b"HTTP/1.1 500 \x1b]0;owned\x07\x1b[2J\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    with ScriptedServer({"": raw(hostile)}) as server:
        result = runner.invoke(app, ["extract", f"{server.url}/page"])
    assert isinstance(result.exception, UserError)
    assert str(result.exception) == f"cannot fetch {server.url}/page: HTTP 500"


def test_a_fetched_document_over_max_document_length_is_cut_as_a_worker_cuts_it(monkeypatch):
    monkeypatch.setenv("CRAWL_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("MAX_DOCUMENT_LENGTH", "200")
    document = b'<html><body><a href="http://early.example/">e</a>' + b" " * 500 + b'<a href="http://late.example/">l'
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(document)
    with ScriptedServer({"": raw(head + document)}) as server:
        result = runner.invoke(app, ["extract", f"{server.url}/page"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "early.example" in result.output and "late.example" not in result.output
    assert "skipped: truncated 1" in result.output
