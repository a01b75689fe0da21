"""`summarize --notify`: alert bodies on a hand-made link table, and receivers that fail, go down or hang."""

from __future__ import annotations

import json
import os
import stat
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from linkcrawler.cli.main import app
from tests.profile_data import load

runner = CliRunner()


class Receiver:
    """A webhook receiver on 127.0.0.1 recording every body and every request (method, path); `mode` is ok,
    fail (500), hang, or an HTTP status to answer (a 3xx names `/moved`, where any request gets a 200)."""

    def __init__(self, port: int = 0) -> None:
        self.bodies: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.mode: str | int = "ok"
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.requests.append((self.command, self.path))
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.mode == "hang":
                    receiver.release.wait(60)
                    return
                status = {"ok": 200, "fail": 500}.get(receiver.mode, receiver.mode)
                if self.path == "/moved":
                    status = 200
                elif status == 200:
                    receiver.bodies.append(json.loads(data))
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/moved")
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/secret-token"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture
def db(mongo_db, mongo_uri, monkeypatch, tmp_path):
    load(mongo_db)
    monkeypatch.setenv("MONGO_URI", mongo_uri)
    monkeypatch.setenv("MONGO_DATABASE", mongo_db.name)
    monkeypatch.setenv("NOTIFY_SPOOL_DIR", str(tmp_path / "spool"))
    return mongo_db


def summarize(*args):
    return runner.invoke(app, ["summarize", *args])


def spooled(tmp_path):
    return sorted((tmp_path / "spool").glob("*.alert.json")) if (tmp_path / "spool").exists() else []


def test_the_first_run_alerts_each_domain_with_its_changes_and_a_rerun_alerts_nothing(db, receiver):
    result = summarize("--notify", receiver.url)
    assert result.exit_code == 0, result.output
    assert "alerts: 2 domain(s) changed; 2 alert(s) delivered" in result.output
    by_domain = {body["domain"]: body for body in receiver.bodies}
    b = by_domain["b.com"]
    assert b["schema"] == "linkcrawler.alert/1" and b["since"] is None
    assert {kind: b[kind]["count"] for kind in ("new", "lost", "broken")} == {"new": 5, "lost": 1, "broken": 1}
    assert [link["target_url"] for link in b["broken"]["links"]] == ["http://b.com/dead"]
    assert b["broken"]["links"][0]["target_status"] == 404
    assert [(link["anchor"], link["reason"]) for link in b["lost"]["links"]] == [("gone", "link_removed")]
    stored = db.domain_profiles.find_one({"_id": "b.com"})["authority"]
    assert b["authority"] == {"previous": None, "current": stored, "change": None}
    assert b["text"].startswith("b.com: 5 new, 1 lost, 1 newly broken backlinks; authority ")
    assert by_domain["a.com"]["new"]["count"] == 1 and by_domain["a.com"]["broken"]["count"] == 0
    again = summarize("--notify", receiver.url)
    assert "alerts: 0 domain(s) changed; 0 alert(s) delivered" in again.output
    assert len(receiver.bodies) == 2


def test_filters_by_domain_and_by_the_referring_domains_authority(db, receiver, monkeypatch):
    result = summarize(
        "--notify", receiver.url, "--notify-domain", "https://WWW.B.com/", "--notify-min-authority", "50"
    )
    assert result.exit_code == 0, result.output
    [body] = receiver.bodies
    assert body["domain"] == "b.com"
    sources = {link["source_domain"] for kind in ("new", "lost", "broken") for link in body[kind]["links"]}
    assert sources == {"a.com"}  # c.com, linked by nobody, has authority 0
    assert all(link["source_authority"] >= 50 for link in body["new"]["links"])
    assert body["broken"]["count"] == 0 and body["new"]["count"] == 3


def test_a_receiver_that_is_down_gets_the_kept_alerts_on_the_next_run(db, tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFY_RETRIES", "1")
    monkeypatch.setenv("NOTIFY_BACKOFF", "0.05")
    first = Receiver()
    url, port = first.url, first.server.server_address[1]
    first.stop()
    down = summarize("--notify", url)
    assert down.exit_code == 0, down.output
    assert "2 kept in" in down.output and len(spooled(tmp_path)) == 2
    [line] = down.stderr.splitlines()
    assert line.startswith(f"linkcrawler: alerts to http://127.0.0.1:{port} not delivered: ")
    assert "secret-token" not in down.stderr
    back = Receiver(port)
    try:
        result = summarize("--notify", url)
        assert "alerts: 0 domain(s) changed; 2 alert(s) delivered" in result.output
        assert sorted(body["domain"] for body in back.bodies) == ["a.com", "b.com"]
        assert spooled(tmp_path) == []
    finally:
        back.stop()


def test_a_failing_receiver_is_retried_then_its_alerts_are_kept(db, receiver, tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFY_RETRIES", "2")
    monkeypatch.setenv("NOTIFY_BACKOFF", "0.01")
    receiver.mode = "fail"
    result = summarize("--notify", receiver.url)
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"linkcrawler: alerts to {receiver.url.rsplit('/', 2)[0]} not delivered: HTTP 500"
    ]
    assert len(spooled(tmp_path)) == 2
    receiver.mode = "ok"
    assert "2 alert(s) delivered" in summarize("--notify", receiver.url).output
    assert spooled(tmp_path) == []


def test_a_hanging_receiver_costs_the_job_a_bounded_time(db, receiver, tmp_path, monkeypatch):
    """Generous bound: the budget is 1 s plus one 0.5 s timeout; a hanging receiver would otherwise hold 60 s each."""
    monkeypatch.setenv("NOTIFY_TIMEOUT", "0.5")
    monkeypatch.setenv("NOTIFY_MAX_SECONDS", "1")
    receiver.mode = "hang"
    started = time.monotonic()
    result = summarize("--notify", receiver.url, "--notify", receiver.url.replace("secret", "other"))
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert elapsed < 20
    assert len(spooled(tmp_path)) == 4  # two domains, two receivers: nothing lost


def test_an_unwritable_spool_is_one_line_and_nothing_is_summarized(db, receiver, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("NOTIFY_SPOOL_DIR", str(blocker / "spool"))
    result = summarize("--notify", receiver.url)
    assert str(result.exception).startswith(f"NOTIFY_SPOOL_DIR {blocker / 'spool'} is not a writable directory")
    assert db.domain_profiles.count_documents({}) == 0 and receiver.bodies == []


def test_a_bad_notify_url_is_one_line_and_nothing_is_summarized(db, monkeypatch, capsys):
    from linkcrawler.cli.main import main

    monkeypatch.setattr("sys.argv", ["linkcrawler", "summarize", "--notify", "ftp://hooks.example/x"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "linkcrawler: error: alert URL 'ftp://hooks.example' is not an absolute http(s) URL; nothing was summarized"
    ]
    assert db.domain_profiles.count_documents({}) == 0


def receiver_of(receiver: Receiver) -> str:
    return receiver.url.rsplit("/", 2)[0]


@pytest.mark.parametrize("status", [400, 404, 410])
def test_a_receiver_refusing_with_a_4xx_is_asked_once_per_alert_and_the_alerts_are_dropped(
    db, receiver, tmp_path, monkeypatch, status
):
    monkeypatch.setenv("NOTIFY_RETRIES", "3")
    monkeypatch.setenv("NOTIFY_BACKOFF", "0.01")
    receiver.mode = status
    result = summarize("--notify", receiver.url)
    assert result.exit_code == 0, result.output
    assert receiver.requests == [("POST", "/hooks/secret-token")] * 2  # no retry: the answer would be the same
    assert spooled(tmp_path) == [] and "0 alert(s) delivered, 2 dropped" in result.output
    assert result.stderr.splitlines() == [
        f"linkcrawler: 2 alert(s) dropped: {receiver_of(receiver)} answered HTTP {status}"
    ]


@pytest.mark.parametrize("status", [408, 429])
def test_a_receiver_asking_to_try_again_is_retried_and_its_alerts_are_kept(db, receiver, tmp_path, monkeypatch, status):
    monkeypatch.setenv("NOTIFY_RETRIES", "1")
    monkeypatch.setenv("NOTIFY_BACKOFF", "0.01")
    receiver.mode = status
    result = summarize("--notify", receiver.url)
    assert result.exit_code == 0, result.output
    assert len(receiver.requests) == 2  # the first alert twice; the second goes to the spool at once
    assert len(spooled(tmp_path)) == 2 and "dropped" not in result.output


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed_and_the_alert_is_dropped(db, receiver, tmp_path, status):
    receiver.mode = status
    result = summarize("--notify", receiver.url)
    assert result.exit_code == 0, result.output
    assert receiver.requests == [("POST", "/hooks/secret-token")] * 2  # never /moved, by GET or by POST
    assert spooled(tmp_path) == [] and "0 alert(s) delivered, 2 dropped" in result.output
    assert result.stderr.splitlines() == [
        f"linkcrawler: 2 alert(s) dropped: {receiver_of(receiver)} answered HTTP {status}, a redirect: "
        "not followed, configure the URL it names"
    ]


def test_kept_alerts_go_only_to_urls_still_configured(db, receiver, tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFY_RETRIES", "0")
    receiver.mode = "fail"
    assert "2 kept in" in summarize("--notify", receiver.url).output
    receiver.mode = "ok"
    receiver.requests.clear()
    result = summarize("--notify", receiver.url.replace("secret", "other"))  # the old URL was taken out
    assert result.exit_code == 0, result.output
    assert receiver.requests == [] and spooled(tmp_path) == []
    assert "0 alert(s) delivered, 2 dropped" in result.output
    assert result.stderr.splitlines() == [
        f"linkcrawler: 2 alert(s) dropped: kept for {receiver_of(receiver)}, which is no longer configured "
        "(NOTIFY_URLS, --notify)"
    ]


def test_the_spool_keeps_at_most_its_file_count_and_drops_the_oldest(db, receiver, tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFY_RETRIES", "0")
    monkeypatch.setenv("NOTIFY_SPOOL_MAX_FILES", "1")
    receiver.mode = "fail"
    result = summarize("--notify", receiver.url, "--notify", receiver.url.replace("secret", "other"))
    assert "0 alert(s) delivered, 1 kept in" in result.output and "3 dropped" in result.output
    assert "linkcrawler: 3 alert(s) dropped: the oldest beyond NOTIFY_SPOOL_MAX_FILES (1)" in result.stderr
    [kept] = spooled(tmp_path)
    newest = json.loads(json.loads(kept.read_text())["body"])
    receiver.mode = "ok"
    result = summarize("--notify", receiver.url, "--notify", receiver.url.replace("secret", "other"))
    assert "1 alert(s) delivered" in result.output
    assert receiver.bodies == [newest] and spooled(tmp_path) == []


def test_the_spool_drops_alerts_kept_longer_than_its_age(db, receiver, tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFY_RETRIES", "0")
    monkeypatch.setenv("NOTIFY_SPOOL_MAX_AGE_SECONDS", "0.01")
    receiver.mode = "fail"
    assert "2 kept in" in summarize("--notify", receiver.url).output
    time.sleep(0.05)  # older than the bound, whatever the machine's speed
    receiver.mode = "ok"
    receiver.requests.clear()
    result = summarize("--notify", receiver.url)
    assert receiver.requests == [] and spooled(tmp_path) == []
    assert "linkcrawler: 2 alert(s) dropped: kept longer than NOTIFY_SPOOL_MAX_AGE_SECONDS (0.01)" in result.stderr


def test_spooled_alerts_are_readable_by_their_owner_only(db, receiver, tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFY_RETRIES", "0")
    receiver.mode = "fail"
    previous = os.umask(0o022)  # the usual umask, which made files 0644
    try:
        result = summarize("--notify", receiver.url)
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((tmp_path / "spool").stat().st_mode) == 0o700
    assert [stat.S_IMODE(path.stat().st_mode) for path in spooled(tmp_path)] == [0o600, 0o600]
