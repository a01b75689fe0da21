"""A database saved to disk and read back through `--mongo-uri mongomock:///DIR`: what the demo leaves behind."""

from __future__ import annotations

import pytest

from linkcrawler.cli.main import main
from linkcrawler.profile.job import summarize
from linkcrawler.store import snapshot
from linkcrawler.store.mongo import get_database
from tests.profile_data import load


def test_a_saved_database_reads_back_the_same_documents(mongo_db, tmp_path):
    load(mongo_db)
    summarize(mongo_db)
    counts = snapshot.save(mongo_db, tmp_path / "data")
    copy = get_database(f"mongomock://{tmp_path / 'data'}", "any_name")
    for name in snapshot.COLLECTIONS:
        assert list(copy[name].find(sort=[("_id", 1)])) == list(mongo_db[name].find(sort=[("_id", 1)])), name
        assert copy[name].count_documents({}) == counts[name] > 0
    assert copy.domain_profiles.find_one({"_id": "b.com"})["data_as_of"].tzinfo is not None


def run(capsys, monkeypatch, *args):
    monkeypatch.setattr("sys.argv", ["linkcrawler", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return exit_info.value.code, capsys.readouterr().err


def test_a_folder_without_data_is_one_error_line(tmp_path, capsys, monkeypatch):
    code, err = run(capsys, monkeypatch, "profile", "b.com", "--mongo-uri", f"mongomock://{tmp_path}/nothing")
    assert code == 2 and err == (
        f"linkcrawler: error: no linkcrawler data in {tmp_path}/nothing: "
        "name the data folder `linkcrawler demo --keep DIR` leaves (DIR/data)\n"
    )


def test_a_damaged_line_is_named_in_one_error_line(mongo_db, tmp_path, capsys, monkeypatch):
    load(mongo_db)
    snapshot.save(mongo_db, tmp_path / "data")
    with (tmp_path / "data" / "pages.jsonl").open("a") as pages:
        pages.write('{"_id": "http://x.com/", "fetched_at": {"$date": \n')
    code, err = run(capsys, monkeypatch, "export", "backlinks", "b.com", "--mongo-uri", f"mongomock://{tmp_path}/data")
    assert code == 2 and err.startswith(f"linkcrawler: error: {tmp_path}/data/pages.jsonl:6 is not a stored document")
    assert err.count("\n") == 1
