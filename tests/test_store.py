"""Storage: idempotent upserts, first/last seen, journals. Runs on mongomock and on a real MongoDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from linkcrawler.store.documents import link_id
from linkcrawler.store.journal import Journal, batches, replay
from linkcrawler.store.linkstore import LINK_INDEXES, LinkStore

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def link_doc(anchor="Example", seen=T0, target="http://b.com/", **changes):
    doc = {
        "_id": link_id("http://a.com/p", target, "text", anchor),
        "source_url": "http://a.com/p", "source_host": "a.com", "source_domain": "a.com",
        "source_ip": "127.0.1.1", "source_subnet": "127.0.1.0/24",
        "target_url": target, "target_host": "b.com", "target_domain": "b.com",
        "anchor": anchor, "link_type": "text", "nofollow": False, "ugc": False, "sponsored": False,
        "follow": True, "position": "content", "internal": False,
        "first_seen": seen, "last_seen": seen, "seen_count": 1,
    }  # fmt: skip
    doc.update(changes)
    return doc


def page_doc(url="http://a.com/p", at=T0, status=200):
    return {"_id": url, "url": url, "host": "a.com", "domain": "a.com", "status": status, "fetched_at": at}


def as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_a_link_seen_again_is_updated_not_duplicated(mongo_db):
    store = LinkStore(mongo_db)
    store.write([link_doc()], [page_doc()])
    later = T0 + timedelta(days=1)
    store.write([link_doc(seen=later, nofollow=True, follow=False)], [page_doc(at=later, status=404)])
    [stored] = list(store.links.find())
    assert stored["seen_count"] == 2
    assert as_utc(stored["first_seen"]) == T0 and as_utc(stored["last_seen"]) == later
    assert stored["nofollow"] is True and stored["follow"] is False
    [page] = list(store.pages.find())
    assert page["fetch_count"] == 2 and page["status"] == 404
    assert as_utc(page["first_fetched"]) == T0 and as_utc(page["fetched_at"]) == later


def test_out_of_order_writes_keep_the_earliest_first_seen_and_latest_last_seen(mongo_db):
    store = LinkStore(mongo_db)
    store.write([link_doc(seen=T0 + timedelta(days=2))], [])
    store.write([link_doc(seen=T0)], [])
    [stored] = list(store.links.find())
    assert as_utc(stored["first_seen"]) == T0
    assert as_utc(stored["last_seen"]) == T0 + timedelta(days=2)


def test_a_batch_costs_four_round_trips_and_counts_each_fetch_once(mongo_db):
    store = LinkStore(mongo_db)
    later = T0 + timedelta(hours=1)
    links = [link_doc(), link_doc(), link_doc(seen=later), link_doc(anchor="Other")]
    result = store.write(links, [page_doc(), page_doc(at=later)])
    assert result.round_trips == 4  # pages, links, the pages read back, the links they change
    assert store.links.count_documents({}) == 2
    assert store.links.find_one({"anchor": "Example"})["seen_count"] == 2  # two fetches, not three links


def test_indexes_are_created_idempotently(mongo_db):
    store = LinkStore(mongo_db)
    store.ensure_indexes()
    store.ensure_indexes()
    names = set(store.links.index_information())
    assert {name for name, _ in LINK_INDEXES} <= names


def test_journal_replay_gives_the_same_documents_as_direct_writes(mongo_db, tmp_path):
    batches = [([link_doc()], [page_doc()]), ([link_doc(seen=T0 + timedelta(days=1))], [])]
    journal = Journal(tmp_path)
    for links, pages in batches:
        journal.write(links, pages)
    journal.close()
    result = replay(tmp_path, LinkStore(mongo_db))
    assert (result.files, result.batches, result.links, result.pages) == (1, 2, 2, 1)
    [stored] = list(mongo_db["links"].find())
    assert stored["seen_count"] == 2 and as_utc(stored["last_seen"]) == T0 + timedelta(days=1)
    assert replay(tmp_path, LinkStore(mongo_db)).batches == 0  # a replayed journal is not applied twice


@pytest.mark.parametrize(
    "fetched_at",
    [
        datetime(2026, 3, 4, 5, 6, 7, 891_234, tzinfo=UTC),  # stored to the millisecond, as BSON does
        datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2026, 3, 4, 5, 6, 7),  # naive: UTC, as pymongo reads it
        datetime(1969, 12, 31, tzinfo=UTC),
    ],
)
def test_dates_survive_the_journal(mongo_db, tmp_path, fetched_at):
    journal = Journal(tmp_path)
    journal.write([], [page_doc(at=fetched_at)])
    journal.close()
    replay(tmp_path, LinkStore(mongo_db))
    [stored] = list(mongo_db["pages"].find())
    expected = fetched_at if fetched_at.tzinfo else fetched_at.replace(tzinfo=UTC)
    assert as_utc(stored["fetched_at"]) == expected.replace(microsecond=expected.microsecond // 1000 * 1000)


def test_replay_skips_a_batch_cut_short_by_a_killed_worker(mongo_db, tmp_path):
    journal = Journal(tmp_path)
    journal.write([link_doc()], [])
    journal.close()
    with journal.path.open("ab") as cut:
        cut.write(b'{"links": [{"_id": "half')
    result = replay(tmp_path, LinkStore(mongo_db))
    assert (result.batches, result.truncated) == (1, 1)
    assert mongo_db["links"].count_documents({}) == 1


def test_a_journal_reads_back_batch_by_batch_as_written_without_one_cut_short(tmp_path):
    later = T0 + timedelta(days=1)
    journal = Journal(tmp_path)
    journal.write([link_doc()], [page_doc()])
    journal.write([], [page_doc(at=later)])
    journal.close()
    with journal.path.open("ab") as cut:
        cut.write(b'{"links": [{"_id": "half')
    read = [([link["_id"] for link in links], [as_utc(page["fetched_at"]) for page in pages])
            for links, pages in batches(journal.path)]  # fmt: skip
    assert read == [([link_doc()["_id"]], [T0]), ([], [later])]


def test_interrupted_replay_resumes_without_applying_a_batch_twice(mongo_db, tmp_path):
    journal = Journal(tmp_path)
    for day in range(3):
        journal.write([link_doc(seen=T0 + timedelta(days=day))], [])
    journal.close()

    class FailsOnSecondBatch(LinkStore):
        calls = 0

        def write(self, links, pages):
            FailsOnSecondBatch.calls += 1
            if FailsOnSecondBatch.calls == 2:
                raise ConnectionError("database went away")
            return super().write(links, pages)

    with pytest.raises(ConnectionError):
        replay(tmp_path, FailsOnSecondBatch(mongo_db))
    replay(tmp_path, LinkStore(mongo_db))
    assert mongo_db["links"].find_one()["seen_count"] == 3
