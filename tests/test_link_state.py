"""Each link's state, kept by the store from the fetches it receives (docs/link-state.md).

Pages are fetched through the crawler's own extraction and document mapping
and written with `LinkStore.write`, as a worker does; the state is then read
from the `links` documents alone, as a user's query reads it.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from linkcrawler.store.linkstore import LinkStore
from tests.fetches import batch, links_to

T1 = datetime(2024, 5, 1, tzinfo=UTC)
T2 = datetime(2024, 6, 1, tzinfo=UTC)
T3 = datetime(2024, 7, 1, tzinfo=UTC)
SOURCE = "http://source.org/post"


@pytest.fixture
def store(mongo_db) -> LinkStore:
    store = LinkStore(mongo_db)
    store.ensure_indexes()
    return store


def state(store: LinkStore, target: str) -> dict[str, Any]:
    [link] = list(store.links.find({"target_url": target}))
    return link


def as_utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def test_a_link_the_page_no_longer_carries_is_lost_and_one_it_carries_again_is_live(store):
    store.write(*batch(SOURCE, T1, links_to("http://a.com/", "http://b.com/")))
    assert [link["live"] for link in store.links.find()] == [True, True]
    store.write(*batch(SOURCE, T2, links_to("http://a.com/")))
    removed = state(store, "http://b.com/")
    assert (removed["live"], removed["lost_reason"], as_utc(removed["lost_at"])) == (False, "link_removed", T2)
    assert state(store, "http://a.com/")["live"] is True
    assert store.links.count_documents({"live": True}) == 1
    store.write(*batch(SOURCE, T3, links_to("http://a.com/", "http://b.com/")))
    back = state(store, "http://b.com/")
    assert (back["live"], back["lost_reason"], back["lost_at"]) == (True, None, None)


@pytest.mark.parametrize(
    ("later", "reason"),
    [
        ({"status": 404}, "source_failed"),
        ({"status": 503}, "source_failed"),
        ({"status": 301, "location": "http://source.org/moved"}, "source_redirected"),
        ({"head": '<meta name="robots" content="noindex">'}, "source_noindex"),
        ({"head": '<link rel="canonical" href="http://source.org/original">'}, "source_canonicalized"),
    ],
)
def test_a_page_that_fails_redirects_or_turns_unindexable_loses_its_links_with_the_reason(store, later, reason):
    store.write(*batch(SOURCE, T1, links_to("http://a.com/")))
    store.write(*batch(SOURCE, T2, links_to("http://a.com/"), **later))
    link = state(store, "http://a.com/")
    assert (link["live"], link["lost_reason"], as_utc(link["lost_at"])) == (False, reason, T2)


def test_a_page_that_always_was_noindex_keeps_its_links_live(store):
    for when in (T1, T2):
        store.write(*batch(SOURCE, when, links_to("http://a.com/"), head='<meta name="robots" content="noindex">'))
    assert state(store, "http://a.com/")["live"] is True


def test_lost_at_is_the_first_fetch_that_found_the_link_gone(store):
    store.write(*batch(SOURCE, T1, links_to("http://a.com/", "http://b.com/")))
    store.write(*batch(SOURCE, T2, links_to("http://a.com/")))
    store.write(*batch(SOURCE, T3, links_to("http://a.com/")))
    assert as_utc(state(store, "http://b.com/")["lost_at"]) == T2


def test_links_learn_the_status_of_their_target_whichever_is_stored_first(store):
    store.write(*batch(SOURCE, T1, links_to("http://a.com/gone", "http://b.com/fine")))
    store.write(*batch("http://a.com/gone", T1, status=404))
    assert state(store, "http://a.com/gone")["broken"] is True
    store.write(*batch("http://c.org/dead", T1, status=410))
    store.write(*batch("http://other.org/", T2, links_to("http://c.org/dead")))
    dead = state(store, "http://c.org/dead")
    assert (dead["target_status"], dead["broken"], dead["live"]) == (410, True, True)
    assert state(store, "http://b.com/fine")["broken"] is False
    store.write(*batch("http://a.com/gone", T2, links_to("http://b.com/")))
    assert state(store, "http://a.com/gone")["broken"] is False


def test_a_write_repeated_after_a_failure_counts_its_fetch_once(store):
    one = batch(SOURCE, T1, links_to("http://a.com/"))
    two = batch(SOURCE, T2, links_to("http://a.com/"))
    store.write(*one)
    store.write(one[0], [])  # the links went in, then the pages write failed and the batch was retried
    store.write(*one)
    store.write(*two)
    store.write(*two)
    link = state(store, "http://a.com/")
    page = store.pages.find_one({"_id": SOURCE})
    assert (link["seen_count"], page["fetch_count"]) == (2, 2)


def recorded_stream() -> list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Three crawl runs over a few pages: links added and removed, a page failing, redirecting, turning noindex
    and back, targets breaking and healing."""
    day = timedelta(days=1)
    stream = []
    for run, when in enumerate((T1, T2, T3)):
        later = when + day
        carried = ("http://a.com/",) if run == 1 else ("http://a.com/", "http://b.com/", "http://t.org/x")
        stream.append(batch(SOURCE, when, links_to(*carried)))
        stream.append(batch("http://blog.net/", when, links_to("http://a.com/", "http://t.org/x"),
                            head='<meta name="robots" content="noindex">' if run == 1 else ""))  # fmt: skip
        moved = "http://shop.io/new" if run == 2 else None
        stream.append(batch("http://shop.io/", later, links_to("http://b.com/", "http://blog.net/"),
                            status=(200, 500, 301)[run], location=moved))  # fmt: skip
        stream.append(batch("http://t.org/x", later + day, status=(404, 200, 404)[run]))
        stream.append(batch("http://blog.net/", later + day, links_to("http://t.org/x", "http://c.com/")))
    return stream


def documents(store: LinkStore) -> dict[str, list[dict[str, Any]]]:
    """Every stored document, minus `changed_at` and `created_at`: the server's clock at the write, which differs
    between runs."""
    result = {}
    for collection in (store.links, store.pages):
        rows = [{k: v for k, v in doc.items() if k not in ("changed_at", "created_at")} for doc in collection.find()]
        result[collection.name] = sorted(rows, key=lambda doc: doc["_id"])
    return result


def test_a_batch_stream_in_any_order_with_repeats_gives_the_documents_of_one_in_order_pass(mongo_db):
    stream = recorded_stream()
    reference = LinkStore(mongo_db.client[f"{mongo_db.name}_in_order"])
    for links, pages in stream:
        reference.write(links, pages)
    expected = documents(reference)
    assert any(not link["live"] for link in expected["links"]) and any(link["broken"] for link in expected["links"])
    rng = random.Random(7)
    try:
        for trial in range(6):
            shuffled = stream + rng.sample(stream, 4)
            rng.shuffle(shuffled)
            store = LinkStore(mongo_db.client[f"{mongo_db.name}_{trial}"])
            for links, pages in shuffled:
                if rng.random() < 0.2:
                    store.write(links, [])  # a pages write that failed after the links went in, then retried
                store.write(links, pages)
            assert documents(store) == expected, f"trial {trial}"
    finally:
        for name in mongo_db.client.list_database_names():
            if name.startswith(mongo_db.name):
                mongo_db.client.drop_database(name)
