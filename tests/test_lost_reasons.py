"""Why a link was lost, through the crawler's own extraction and store: pages fetched twice, as a recrawl does.

The synthetic-web recrawl (`tests/test_profile_e2e.py`) checks every reason
against the ground truth; these cases pin the edges of the two reasons a
page gives without dropping the link: it turned noindex, or it names a
canonical elsewhere. A page that always was so never loses its links.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from linkcrawler import config, query
from linkcrawler.extract.items import PageItem
from linkcrawler.extract.page import Extractor
from linkcrawler.store.documents import page_records
from linkcrawler.store.linkstore import LinkStore

T1 = datetime(2024, 5, 1, tzinfo=UTC)
T2 = datetime(2024, 6, 1, tzinfo=UTC)
T3 = datetime(2024, 7, 1, tzinfo=UTC)
LINK = '<a href="http://target.com/">Target</a>'


def fetch(store: LinkStore, url: str, when: datetime, head: str = "", headers: dict | None = None) -> None:
    """Store one fetch of `url` serving `head` and a link to target.com, as a worker would."""
    html = f"<html><head>{head}</head><body><p>{LINK}</p></body></html>"
    page = Extractor.from_settings(config.project_settings()).extract(html, url, headers or {})
    item = PageItem(url=page.url, fetched_at=when, status=200, content_type="text/html", parsed=True,
                    canonical=page.canonical, robots=page.robots, links=page.links)  # fmt: skip
    records = page_records(item)
    store.write(records.links, records.pages)


def lost(db) -> list[tuple[str, str]]:
    return sorted((row["source_url"], row["reason"]) for row in query.lost_links(db, "target.com", since=T1))


@pytest.fixture
def store(mongo_db) -> LinkStore:
    store = LinkStore(mongo_db)
    store.ensure_indexes()
    return store


@pytest.mark.parametrize(
    ("head", "headers", "reason"),
    [
        ('<meta name="robots" content="noindex">', {}, "source_noindex"),
        ('<meta name="robots" content="none">', {}, "source_noindex"),
        ("", {"x-robots-tag": ["noindex"]}, "source_noindex"),
        ('<link rel="canonical" href="http://other.org/original">', {}, "source_canonicalized"),
    ],
)
def test_a_page_that_turns_unindexable_loses_its_links_with_the_reason(store, head, headers, reason):
    url = "http://source.org/post"
    fetch(store, url, T1, '<link rel="canonical" href="http://source.org/post">')
    assert lost(store.db) == []
    fetch(store, url, T2, head, headers)
    assert lost(store.db) == [(url, reason)]
    assert query.lost_links(store.db, "target.com", since=T1)[0]["lost_at"].replace(tzinfo=UTC) == T2
    fetch(store, url, T3)
    assert lost(store.db) == [], "indexable again: the link is live again"


def test_a_page_that_always_was_unindexable_keeps_its_links_live(store):
    fetch(store, "http://source.org/tag", T1, '<meta name="robots" content="noindex">')
    fetch(store, "http://source.org/copy", T1, '<link rel="canonical" href="http://other.org/original">')
    fetch(store, "http://source.org/tag", T2, '<meta name="robots" content="noindex">')
    fetch(store, "http://source.org/copy", T2, '<link rel="canonical" href="http://other.org/original">')
    assert lost(store.db) == []


def test_a_failing_page_says_failed_whatever_it_said_before(store):
    url = "http://source.org/post"
    fetch(store, url, T1)
    item = PageItem(url=url, fetched_at=T2, status=404)
    records = page_records(item)
    store.write(records.links, records.pages)
    assert lost(store.db) == [(url, "source_failed")]
