"""summarize on a hand-made link table (mongomock or a real MongoDB), and the profile/summarize commands."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.profile import history, report_html
from linkcrawler.profile.job import PROFILES, Limits, summarize
from tests.profile_data import T2, load


@pytest.fixture
def db(mongo_db):
    load(mongo_db)
    return mongo_db


def test_the_profile_of_a_small_link_table(db):
    result = summarize(db)
    assert result.domains == 2 and result.links == 6
    b = db[PROFILES].find_one({"_id": "b.com"})
    assert b["backlinks"] == {
        "live": 4, "all_time": 5, "dofollow": 3, "not_followed": 1,
        "nofollow": 1, "ugc": 0, "sponsored": 0, "broken": 1,
    }  # fmt: skip
    assert b["referring"] == {"pages": 2, "domains": 2, "hosts": 2, "ips": 1, "subnets": 1}
    assert b["referring_domains_by_follow"] == {"dofollow": 2, "nofollow": 0, "ugc": 0, "sponsored": 0}
    assert b["anchors"]["classes"] == {"branded": 1, "naked_url": 1, "generic": 1, "empty": 1, "other": 0}
    assert [p["url"] for p in b["top_pages"]] == ["http://b.com/", "http://b.com/dead", "http://b.com/x"]
    assert [(r["domain"], r["links"]) for r in b["top_referring_domains"]] == [("a.com", 2), ("c.com", 2)]
    assert b["tlds"] == [{"tld": "com", "referring_domains": 2}]
    assert [x["target_url"] for x in b["broken"]["links"]] == ["http://b.com/dead"]
    assert b["broken"]["links"][0]["target_status"] == 404
    assert [x["reason"] for x in b["lost"]["links"]] == ["link_removed"]
    a = db[PROFILES].find_one({"_id": "a.com"})
    assert b["authority"] == 100.0 > a["authority"] > 0.0
    assert [r["authority"] for r in b["top_referring_domains"]] == [a["authority"], 0.0]


def test_a_run_limited_to_chosen_domains_writes_only_them_and_keeps_the_whole_graph_for_authority(db):
    summarize(db, ["a.com"])
    assert [doc["_id"] for doc in db[PROFILES].find()] == ["a.com"]
    limited = db[PROFILES].find_one({"_id": "a.com"})
    summarize(db)
    assert db[PROFILES].find_one({"_id": "a.com"})["authority"] == limited["authority"] > 0


def test_reruns_are_idempotent_and_leave_no_scratch_and_lists_respect_limits(db):
    summarize(db, limits=Limits(top_pages=1, anchors=2, changes=1))
    first = db[PROFILES].find_one({"_id": "b.com"})
    summarize(db, limits=Limits(top_pages=1, anchors=2, changes=1))
    second = db[PROFILES].find_one({"_id": "b.com"})
    assert {k: v for k, v in first.items() if k != "computed_at"} == {
        k: v for k, v in second.items() if k != "computed_at"
    }
    assert len(second["top_pages"]) == 1 and len(second["anchors"]["top"]) == 2
    assert second["new"]["count"] == 5 and len(second["new"]["links"]) == 1
    assert db[history.HISTORY].count_documents({}) == 2
    assert not [name for name in db.list_collection_names() if name.startswith("profile_scratch_")]


def test_new_and_lost_count_from_the_previous_run_with_older_data(db):
    summarize(db)
    db.links.insert_one(
        {**db.links.find_one({"anchor": "A"}), "_id": "later", "anchor": "A2", "first_seen": T2.replace(day=2)}
    )
    db.pages.update_one({"_id": "http://c.com/"}, {"$set": {"fetched_at": T2.replace(day=2)}})
    summarize(db)
    a = db[PROFILES].find_one({"_id": "a.com"})
    assert a["since"].replace(tzinfo=None) == T2.replace(tzinfo=None)
    assert (a["new"]["count"], a["lost"]["count"]) == (1, 0)
    assert [run["backlinks"] for run in history.runs(db, "a.com")] == [1, 2]


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [value or "" for _, value in attrs]

    def handle_data(self, data):
        self.text.append(data)


def test_the_html_report_holds_the_numbers_and_svg_charts_and_loads_nothing(db):
    summarize(db)
    summarize(db)
    profile = db[PROFILES].find_one({"_id": "b.com"})
    page = report_html.render(profile, history.runs(db, "b.com"))
    parsed = _Collector()
    parsed.feed(page)
    assert parsed.tags.count("svg") == 4
    assert {"rect", "polyline", "circle", "table"} <= set(parsed.tags)
    assert not {"script", "link", "img", "iframe", "a"} & set(parsed.tags)
    assert not [value for value in parsed.attrs if re.search(r"(https?:)?//", value)]
    assert "url(" not in page and "@import" not in page
    text = " ".join(parsed.text)
    for label, number in (("Backlinks", 4), ("All-time backlinks", 5), ("Referring domains", 2), ("Broken", 1)):
        assert re.search(rf"{label}\s+{number}\b", text), label
    assert "http://b.com/dead" in text and "<h1>b.com</h1>" in page


def test_profile_command_accepts_a_url_in_any_case_prints_json_and_writes_html(db, mongo_uri, tmp_path, monkeypatch):
    monkeypatch.setenv("MONGO_URI", mongo_uri)
    monkeypatch.setenv("MONGO_DATABASE", db.name)
    runner = CliRunner()
    done = runner.invoke(app, ["summarize", "--domain", "B.COM", "--domain", "https://www.A.com/x"])
    assert done.exit_code == 0, done.output
    assert "summarized 2 domain(s)" in done.output
    shown = runner.invoke(app, ["profile", "HTTPS://WWW.B.com/page"])
    assert shown.exit_code == 0, shown.output
    assert "b.com" in shown.output and "referring domains" in shown.output
    as_json = runner.invoke(app, ["profile", "b.com", "--json"])
    assert json.loads(as_json.output)["backlinks"]["live"] == 4
    report = tmp_path / "b.html"
    assert runner.invoke(app, ["profile", "b.com", "--html", str(report)]).exit_code == 0
    assert report.read_text().startswith("<!DOCTYPE html>")


def test_an_unknown_domain_says_so_in_one_line_and_exits_2(db, mongo_uri, monkeypatch, capsys):
    from linkcrawler.cli.main import main

    monkeypatch.setenv("MONGO_URI", mongo_uri)
    monkeypatch.setenv("MONGO_DATABASE", db.name)
    monkeypatch.setattr("sys.argv", ["linkcrawler", "profile", "Nowhere.example"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count("\n") == 1 and err.startswith("linkcrawler: error: no profile for nowhere.example")


def test_summarize_skips_chosen_domains_without_backlinks(db):
    assert summarize(db, ["nowhere.example", "b.com"]).domains == 1
    assert [doc["_id"] for doc in db[PROFILES].find()] == ["b.com"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["summarize", "--domain", '{"$ne": null}'], "is not a domain or URL"),
        (["profile", "a.com$"], "is not a domain or URL"),
    ],
)
def test_bad_domains_are_refused_in_one_line(db, mongo_uri, monkeypatch, capsys, argv, message):
    from linkcrawler.cli.main import main

    monkeypatch.setenv("MONGO_URI", mongo_uri)
    monkeypatch.setattr("sys.argv", ["linkcrawler", *argv])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1 and message in err


def test_summarize_without_a_mongodb_says_what_to_set(monkeypatch):
    monkeypatch.delenv("MONGO_URI", raising=False)
    result = CliRunner().invoke(app, ["summarize"])
    assert result.exit_code != 0 and "set MONGO_URI" in str(result.exception)
