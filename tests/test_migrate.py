"""A database written by version 1 (links without their state) gains the state with one command, or on the first
`summarize`, which says so; until then `export` and `intersect` refuse it in one line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.profile.history import PROFILES
from linkcrawler.profile.job import summarize
from tests.profile_data import load, load_version_1


@pytest.fixture
def cli(mongo_db, mongo_uri, monkeypatch):
    monkeypatch.setenv("MONGO_URI", mongo_uri)
    monkeypatch.setenv("MONGO_DATABASE", mongo_db.name)
    return lambda *args: CliRunner().invoke(app, list(args))


def states(db) -> dict[str, tuple]:
    return {doc["anchor"]: (doc["live"], doc["lost_reason"], doc["broken"]) for doc in db.links.find()}


def test_export_and_intersect_refuse_a_version_1_database_until_it_is_migrated(mongo_db, cli):
    load_version_1(mongo_db)
    for args in (("export", "backlinks", "b.com"), ("intersect", "b.com", "a.com", "--min", "1")):
        refused = cli(*args)
        assert refused.exit_code != 0 and "run `linkcrawler migrate` first" in str(refused.exception), args
    migrated = cli("migrate")
    assert migrated.exit_code == 0 and "the links of 5 page(s) now carry their state" in migrated.output
    assert cli("export", "backlinks", "b.com").exit_code == 0
    assert cli("migrate").output.strip() == "the database is up to date"
    assert "target_url" not in mongo_db.links.index_information()  # version 1's, replaced by a compound index


def test_the_first_summarize_of_a_version_1_database_stores_the_state_first(mongo_db, cli):
    load_version_1(mongo_db)
    done = cli("summarize")
    assert done.exit_code == 0, done.output
    assert done.output.startswith("linkcrawler: the database was written by an earlier version")
    assert states(mongo_db) == {
        "B Shop": (True, None, False),
        "click here": (True, None, False),
        "gone": (False, "link_removed", False),
        "http://b.com": (True, None, False),
        "": (True, None, True),
        "A": (True, None, False),
    }
    assert "earlier version" not in cli("summarize").output


def test_a_migrated_database_profiles_as_one_written_by_this_version(mongo_db, cli):
    load_version_1(mongo_db)
    assert cli("summarize").exit_code == 0
    migrated = {p["_id"]: p["backlinks"] for p in mongo_db[PROFILES].find()}
    other = mongo_db.client[f"{mongo_db.name}_direct"]
    try:
        load(other)
        summarize(other)
        assert {p["_id"]: p["backlinks"] for p in other[PROFILES].find()} == migrated
    finally:
        mongo_db.client.drop_database(other.name)
