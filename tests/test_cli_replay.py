"""`linkcrawler replay DIR`: journaled batches land in MongoDB once."""

from __future__ import annotations

from datetime import UTC, datetime

from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.store.journal import Journal
from linkcrawler.store.mongo import get_database

runner = CliRunner()


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
