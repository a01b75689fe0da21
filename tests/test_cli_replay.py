"""`linkcrawler replay DIR`: journaled batches land in MongoDB once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.store.journal import Journal
from linkcrawler.store.mongo import get_database

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


def test_replay_loads_a_journal_once(tmp_path, mongo_uri):
    now = datetime.now(UTC)
    page = {"_id": "http://a.com/", "url": "http://a.com/", "status": 200, "fetched_at": now}
    journal = Journal(tmp_path)
    journal.write([], [page])
    journal.close()
    args = ["replay", str(tmp_path), "--mongo-uri", mongo_uri, "--database", "replay_test"]
    try:
        first = runner.invoke(app, args)
        second = runner.invoke(app, args)
        assert first.exit_code == 0, first.output
        assert "replayed 1 batch(es) from 1 file(s)" in first.output
        assert "replayed 0 batch(es)" in second.output
        assert get_database(mongo_uri, "replay_test")["pages"].find_one()["fetch_count"] == 1
    finally:
        get_database(mongo_uri, "replay_test").client.drop_database("replay_test")


def test_a_missing_directory_is_one_error(tmp_path):
    result = runner.invoke(app, ["replay", str(tmp_path / "nope"), "--mongo-uri", "mongomock://x"])
    assert result.exit_code != 0
    assert "does not exist" in str(result.exception)


def test_replay_leaves_a_journal_its_writer_still_holds(tmp_path, mongo_uri):
    """A file renamed under its writer took what the writer appended afterwards out of every later replay."""
    page = {"url": "http://a.com/", "status": 200, "fetched_at": datetime.now(UTC)}
    journal = Journal(tmp_path)
    journal.write([], [{**page, "_id": "http://a.com/1"}])
    args = ["replay", str(tmp_path), "--mongo-uri", mongo_uri, "--database", "replay_test"]
    try:
        during = runner.invoke(app, args)
        journal.write([], [{**page, "_id": "http://a.com/2"}])
        journal.close()
        after = runner.invoke(app, args)
        assert during.exit_code == 0, during.output
        assert during.output.strip() == (
            "replayed 0 batch(es) from 0 file(s): 0 link and 0 page observations; "
            "left 1 file(s) a running worker is still writing"
        )
        assert "replayed 2 batch(es) from 1 file(s)" in after.output and "left" not in after.output
        assert get_database(mongo_uri, "replay_test")["pages"].count_documents({}) == 2
    finally:
        get_database(mongo_uri, "replay_test").client.drop_database("replay_test")


WRITE_PAST_A_FILE_SIZE_LIMIT = """
import resource, signal, sys
from datetime import UTC, datetime
from pathlib import Path
from linkcrawler.store.journal import Journal

page = {"url": "http://a.com/", "status": 200, "fetched_at": datetime.now(UTC)}
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
journal = Journal(Path(sys.argv[1]))
journal.write([], [{**page, "_id": "http://a.com/1"}])
resource.setrlimit(resource.RLIMIT_FSIZE, (2 * journal.path.stat().st_size + 10, resource.RLIM_INFINITY))
try:
    journal.write([], [{**page, "_id": "http://a.com/" + "x" * 1000}])
except OSError as exc:
    print("refused:", exc.strerror)
journal.write([], [{**page, "_id": "http://a.com/2"}])
journal.close()
"""


def test_a_write_the_disk_refuses_leaves_no_half_line_in_the_journal(tmp_path, mongo_uri):
    """A full disk (here a file size limit) cut a batch off mid-line; the next batch, appended after it, made
    one unreadable line of both. The failed write is cut back off the file, and its error raised."""
    result = subprocess.run(
        [sys.executable, "-c", WRITE_PAST_A_FILE_SIZE_LIMIT, str(tmp_path)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (0, "refused: File too large\n"), result.stderr
    args = ["replay", str(tmp_path), "--mongo-uri", mongo_uri, "--database", "replay_test"]
    try:
        replayed = runner.invoke(app, args)
        assert replayed.output.startswith("replayed 2 batch(es) from 1 file(s)"), replayed.output
        pages = get_database(mongo_uri, "replay_test")["pages"]
        assert sorted(doc["_id"] for doc in pages.find()) == ["http://a.com/1", "http://a.com/2"]
    finally:
        get_database(mongo_uri, "replay_test").client.drop_database("replay_test")


def test_replay_deletes_what_it_replayed_once_past_the_retention_and_never_an_unreplayed_file(
    tmp_path, mongo_uri, monkeypatch
):
    """Replayed files (and the empty files of writers killed before naming theirs) were kept forever."""
    monkeypatch.setenv("STORE_REPLAYED_RETENTION_DAYS", "2")
    three_days_ago = time.time() - 3 * 86_400
    page = {"url": "http://a.com/", "status": 200, "fetched_at": datetime.now(UTC)}
    args = ["replay", str(tmp_path), "--mongo-uri", mongo_uri, "--database", "replay_test"]
    try:
        first = Journal(tmp_path)
        first.write([], [{**page, "_id": "http://a.com/1"}])
        first.close()
        assert "deleted" not in runner.invoke(app, args).output
        second = Journal(tmp_path)
        second.write([], [{**page, "_id": "http://a.com/2"}])
        second.close()
        dead_writer, live_writer = tmp_path / "dead.opening", tmp_path / "live.opening"
        dead_writer.touch()
        live_writer.touch()
        for path in (first.path.with_suffix(".replayed"), second.path, dead_writer):
            os.utime(path, (three_days_ago, three_days_ago))

        result = runner.invoke(app, args)
        assert result.output.strip().endswith("; deleted 2 file(s) replayed over 2 day(s) ago"), result.output
        assert sorted(path.name for path in tmp_path.iterdir()) == [live_writer.name, second.path.stem + ".replayed"]
        assert get_database(mongo_uri, "replay_test")["pages"].count_documents({}) == 2
    finally:
        get_database(mongo_uri, "replay_test").client.drop_database("replay_test")
