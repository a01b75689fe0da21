"""`summarize` recomputes only the domains whose links changed, and gives the profiles a full run gives."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from linkcrawler.profile import history
from linkcrawler.profile.job import MARGIN, summarize
from linkcrawler.store.linkstore import LinkStore
from tests.fetches import Batch, batch, links_to

T1 = datetime(2024, 5, 1, tzinfo=UTC)
TARGETS = [f"http://t{i}.com/" for i in range(12)]
ANCHORS = ["Brand", "click here", "best cheap shoes", "", "http://t.com", "read more"]


def page_html(rng: random.Random) -> str:
    """A page linking to a few targets with assorted anchors and rel flags."""
    parts = []
    for target in rng.sample(TARGETS, rng.randint(1, 5)):
        path = rng.choice(["", "a", "b/c"])
        rel = rng.choice(["", "", ' rel="nofollow"', ' rel="ugc"', ' rel="sponsored"'])
        parts.append(f'<p><a href="{target}{path}"{rel}>{rng.choice(ANCHORS)}</a></p>')
    return "".join(parts)


def crawl(seed: int) -> tuple[list[Batch], list[Batch]]:
    """Two crawl runs of 40 pages on 20 referring domains, which the targets link back to (so referring domains have
    authority to rank by); the second run changes 2 pages and breaks a target."""
    rng = random.Random(seed)
    urls = [f"http://s{i % 20}.org/p{i}" for i in range(40)]
    bodies = {url: page_html(rng) for url in urls}
    first = [batch(url, T1 + timedelta(minutes=n), bodies[url]) for n, url in enumerate(urls)]
    first += [batch(target, T1 + timedelta(hours=1), links_to(f"http://s{i}.org/", f"http://s{i + 5}.org/"))
              for i, target in enumerate(TARGETS)]  # fmt: skip
    later = T1 + timedelta(days=7)
    second = [batch(urls[3], later, page_html(rng)), batch(urls[17], later, status=404),
              batch(TARGETS[5] + "a", later, status=410)]  # fmt: skip
    return first, second


def settle(*databases: Any, fetched_at: datetime | None = None) -> None:
    """End a crawl as a real one ends, with its last second spent on pages of no interest here.

    A run rereads the changes of the second before the latest one it saw
    (`job.MARGIN`); a crawl spends hours, a test a second.
    """
    time.sleep(MARGIN.total_seconds() + 0.1)
    quiet = batch(f"http://quiet.net/{time.time_ns()}", fetched_at or datetime.now(UTC))
    for db in databases:
        LinkStore(db).write(*quiet)


def profiles(db: Any) -> list[dict[str, Any]]:
    return [{k: v for k, v in p.items() if k != "computed_at"} for p in db[history.PROFILES].find(sort=[("_id", 1)])]


def runs(db: Any) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "computed_at"} for r in db[history.HISTORY].find(sort=[("_id", 1)])]


@pytest.fixture
def two_databases(mongo_db):
    client = mongo_db.client
    yield client[f"{mongo_db.name}_a"], client[f"{mongo_db.name}_b"]
    for suffix in ("_a", "_b"):
        client.drop_database(f"{mongo_db.name}{suffix}")


@pytest.mark.parametrize("seed", [1, 2])
def test_an_incremental_run_recomputes_the_changed_domains_and_equals_a_full_run(two_databases, seed):
    incremental, full = two_databases
    first, second = crawl(seed)
    for db in two_databases:
        LinkStore(db).ensure_indexes()
        for links, pages in first:
            LinkStore(db).write(links, pages)
    settle(*two_databases)
    summarize(incremental)
    summarize(full, everything=True)
    for db in two_databases:
        for links, pages in second:
            LinkStore(db).write(links, pages)
    settle(*two_databases)
    result = summarize(incremental)
    summarize(full, everything=True)
    assert 0 < result.recomputed < result.domains
    assert profiles(incremental) == profiles(full)
    assert runs(incremental) == runs(full)
    assert summarize(incremental).recomputed == 0  # nothing changed since


def test_a_rerun_over_the_same_data_keeps_each_carried_profiles_new_and_lost_links(two_databases):
    """Carried forward with no newer data, a profile still compares with the run before: its new and lost stay."""
    incremental, full = two_databases
    first, second = crawl(4)
    for db in two_databases:
        LinkStore(db).ensure_indexes()
        for links, pages in first:
            LinkStore(db).write(links, pages)
    settle(*two_databases, fetched_at=T1 + timedelta(hours=2))
    summarize(incremental)
    summarize(full, everything=True)
    for db in two_databases:
        for links, pages in second:
            LinkStore(db).write(links, pages)
    settle(*two_databases, fetched_at=T1 + timedelta(days=8))
    summarize(incremental)
    settle(*two_databases, fetched_at=T1 + timedelta(days=8))  # a later page of no interest, at the same time
    rerun = summarize(incremental)
    summarize(full, everything=True)
    assert rerun.recomputed < rerun.domains
    assert any(p["new"]["count"] or p["lost"]["count"] for p in profiles(full))
    assert profiles(incremental) == profiles(full)


def test_a_run_after_nothing_changed_recomputes_nothing_and_still_records_the_run(mongo_db):
    first, _ = crawl(3)
    for links, pages in first:
        LinkStore(mongo_db).write(links, pages)
    settle(mongo_db)
    first_run = summarize(mongo_db)
    assert first_run.recomputed == first_run.domains > len(TARGETS)
    again = summarize(mongo_db, now=T1 + timedelta(days=1))
    assert (again.recomputed, again.domains) == (0, first_run.domains)
    assert summarize(mongo_db, everything=True).recomputed == first_run.domains
