"""linkcrawler.query on a small hand-made link table, on mongomock or a real MongoDB."""

from __future__ import annotations

import subprocess
import sys

import pytest

from linkcrawler import query
from tests.profile_data import T1, T2, load


@pytest.fixture
def db(mongo_db):
    load(mongo_db)
    return mongo_db


def sources(rows):
    return sorted((row["source_url"], row["target_url"]) for row in rows)


def test_backlinks_of_a_domain_in_any_case_or_host_and_of_one_url(db):
    assert len(query.backlinks(db, "b.com")) == 4  # live: the link a.com/2 dropped is lost
    assert len(query.backlinks(db, "b.com", live_only=False)) == 5
    assert query.backlinks(db, "WWW.B.COM") == query.backlinks(db, "b.com")
    assert sources(query.backlinks(db, "HTTP://B.com/x")) == [("http://a.com/1", "http://b.com/x")]


def test_backlinks_filters(db):
    assert sources(query.backlinks(db, "b.com", follow=False)) == [("http://a.com/1", "http://b.com/x")]
    assert {row["source_domain"] for row in query.backlinks(db, "b.com", source_domain="C.com")} == {"c.com"}
    assert query.backlinks(db, "b.com", link_type="image") == []
    assert len(query.backlinks(db, "b.com", limit=2)) == 2


@pytest.mark.parametrize("hostile", ['{"$ne": null}', "a.com$", "b.com$", ".*", "b", "http://b.com/.*", "", "*.b.com"])
def test_user_input_is_a_literal_and_matches_nothing(db, hostile):
    assert query.backlinks(db, hostile) == []
    assert query.referring_domains(db, hostile) == []
    assert query.anchors(db, hostile) == []
    assert query.new_links(db, hostile, since=T1) == []


def test_a_target_that_is_not_a_string_is_refused(db):
    with pytest.raises(TypeError):
        query.backlinks(db, {"$ne": None})


def test_referring_domains_and_anchors(db):
    assert query.referring_domains(db, "b.com") == [
        {"domain": "a.com", "links": 2, "dofollow": 1},
        {"domain": "c.com", "links": 2, "dofollow": 2},
    ]
    assert query.anchors(db, "b.com", limit=2) == [
        {"anchor": "", "links": 1, "dofollow": 1},
        {"anchor": "B Shop", "links": 1, "dofollow": 1},
    ]


def test_new_and_lost_links_in_a_window(db):
    assert sources(query.new_links(db, "b.com", since=T2)) == [
        ("http://c.com/", "http://b.com/"),
        ("http://c.com/", "http://b.com/dead"),
    ]
    assert query.new_links(db, "b.com", since=T1, until=T2) != []
    lost = query.lost_links(db, "b.com", since=T1)
    assert [(row["source_url"], row["anchor"], row["reason"]) for row in lost] == [
        ("http://a.com/2", "gone", "link_removed")
    ]
    assert lost[0]["lost_at"].replace(tzinfo=None) == T2.replace(tzinfo=None)
    assert query.lost_links(db, "b.com", since=T1, until=T2) == []


def test_the_query_module_loads_neither_numpy_scipy_nor_rich():
    """Scripts and notebooks import `linkcrawler.query` alone; the profile job's numerics stay out of it."""
    code = "import sys, linkcrawler.query; print(sorted({'numpy', 'scipy', 'rich'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
