"""On a real MongoDB, every read the Site Explorer's views send starts from an index.

Only with `LINKCRAWLER_TEST_MONGO_URI`: the emulation has no query planner.
`bench/summarize.py`'s generated web is stored through the store and
summarized, then 1% of its pages change and it is summarized again (so new,
lost and broken links exist). Each view is requested through the
application `linkcrawler serve` runs, its database wrapped in the recording
proxy of `bench.recording`; every read it sent is then explained with
`tests/test_indexes_real_mongo.py`'s helpers: its first stage's winning plan
must scan an index and no collection.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from bench import summarize as summarize_bench
from bench.recording import Read, Recorder, RecordingDatabase
from linkcrawler.explorer import paging, views
from linkcrawler.explorer import reads as explorer_reads
from linkcrawler.explorer.app import create_app
from linkcrawler.explorer.views import Sources
from linkcrawler.profile.history import PROFILES
from linkcrawler.profile.job import summarize
from linkcrawler.store.linkstore import LinkStore
from linkcrawler.store.mongo import get_database
from tests.conftest import REAL_MONGO_URI
from tests.test_indexes_real_mongo import explain, plan_stages, unindexed, winning_plans

pytestmark = pytest.mark.skipif(
    REAL_MONGO_URI is None,
    reason="needs a real MongoDB (LINKCRAWLER_TEST_MONGO_URI): the emulation has no query planner to explain",
)

WEB = summarize_bench.Web(sites=30, pages=10, links=8, partners=40, linked=4, changed_share=0.2)
"""About 2,400 links: a domain has about 40 backlinks from about 12 referring domains (more than a page of 10)."""
FILTERED = {"follow": "nofollow", "type": "text", "position": "content", "anchor": "brand", "since": "2024-05-01",
            "until": "2024-06-01"}  # fmt: skip


def _link_tables() -> list[str]:
    """Every link table in each of its sorts (backlinks in each state too), one with every filter, and exports."""
    paths = [f"/d/{{domain}}/{view}?sort={sort}" for view, (_, sorts) in views.LINK_KINDS.items() for sort in sorts]
    paths += [f"/d/{{domain}}/backlinks?state={state}" for state in explorer_reads.STATES]
    paths += ["/d/{domain}/backlinks?source_domain={rival}&" + urlencode(FILTERED)]
    paths += [f"/d/{{domain}}/{view}.{fmt}" for view in views.LINK_KINDS for fmt in ("csv", "jsonl")]
    return paths


VIEWS = [
    "/",
    "/index.json",
    "/d/{domain}",
    "/d/{domain}.json",
    *_link_tables(),
    *(f"/d/{{domain}}/referring-domains?sort={sort}" for sort in explorer_reads.REFERRING_SORTS),
    "/d/{domain}/referring-domains.csv",
    "/d/{domain}/anchors",
    "/d/{domain}/anchors?" + urlencode({"follow": "follow", "anchor": "brand"}),
    "/d/{domain}/anchors.csv",
    "/d/{domain}/anchors.jsonl?" + urlencode({"follow": "follow"}),
    "/d/{domain}/top-pages",
    "/d/{domain}/risk",
    "/d/{domain}/disavow.txt?min_flags=1",
    "/compare?d={domain}&d={rival}",
    "/intersect?c={rival}&c={third}&not={domain}",
    "/intersect?c={rival}&c={third}&not={domain}&min=1&follow=1",
    "/intersect.csv?c={rival}&c={third}&not={domain}",
    "/intersect.jsonl?c={rival}&c={third}&not={domain}&min=1&follow=1",
    "/page?url={url}",
]
"""Every view, in the variants whose queries differ (each sort, state, filter and format)."""
GROUPED_LATER = [
    "/d/{domain}/anchors?n=10&" + urlencode({"after": paging.encode("anchors", explorer_reads.ANCHOR_SORT,
                                                                    {"links": 1, "anchor": "Brand"})}),
    "/d/{domain}/anchors?n=10&" + urlencode({"before": paging.encode("anchors", explorer_reads.ANCHOR_SORT,
                                                                     {"links": 1, "anchor": "Brand"})}),
    "/intersect?c={rival}&c={third}&not={domain}&min=1&n=10&" + urlencode(
        {"after": paging.encode("intersect", explorer_reads.INTERSECT_ORDER,
                                {"count": 1, "authority": 0.0, "_id": "site1.com"})}
    ),
]  # fmt: skip
"""Pages of the grouped tables (anchors, intersect) after and before a row: the generated web has too few anchors
and gap rows for a second page of 10, so the rows they start from are written here."""
PAGED = [f"/d/{{domain}}/backlinks?n=10&sort={sort}" for sort in views.LINK_KINDS["backlinks"][1]] + [
    f"/d/{{domain}}/referring-domains?n=10&sort={sort}" for sort in explorer_reads.REFERRING_SORTS
]
"""Tables whose second page (after a keyset token) and the page before it are requested too."""


@pytest.fixture(scope="module")
def database() -> Iterator[Any]:
    """The generated web stored, summarized, 1% of its pages changed, summarized again."""
    name = f"linkcrawler_test_{uuid.uuid4().hex[:12]}"
    db = get_database(REAL_MONGO_URI or "", name)
    items, partners = WEB.first_crawl(seed=7)
    LinkStore(db).ensure_indexes()
    summarize_bench.store(db, items)
    summarize_bench.settle(db)
    summarize(db, everything=True)
    summarize_bench.store(db, WEB.changes(items, partners, seed=7))
    summarize(db)
    yield db
    db.client.drop_database(name)


@pytest.fixture(scope="module")
def names(database) -> dict[str, str]:
    """The domain with the most live backlinks, two more profiled domains, and a URL it is linked at."""
    ranked = list(database[PROFILES].find({}, {"top_pages": 1}, sort=[("backlinks.live", -1), ("_id", 1)], limit=3))
    domain = ranked[0]
    return {"domain": domain["_id"], "rival": ranked[1]["_id"], "third": ranked[2]["_id"],
            "url": domain["top_pages"][0]["url"]}  # fmt: skip


def requested(database: Any, paths: list[str]) -> list[Read]:
    """The reads the explorer sends to answer `paths` (each must answer 200)."""
    recorder = Recorder()
    with TestClient(create_app(Sources(RecordingDatabase(database, recorder), "test"))) as client:
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (path, response.text[:300])
    return recorder.reads


def next_pages(database: Any, path: str) -> list[str]:
    """The table's page after its first (through its `next` token) and the page before that one."""
    with TestClient(create_app(Sources(database, "test"))) as client:
        token = client.get(path.replace("?", ".json?", 1)).json()["next"]
        second = f"{path}&{urlencode({'after': token})}"
        back = client.get(second.replace("?", ".json?", 1)).json()["previous"]
    assert token and back, path
    return [second, f"{path}&{urlencode({'before': back})}"]


@pytest.mark.parametrize("view", VIEWS)
def test_every_read_of_a_view_starts_from_an_index(database, names, view):
    reads = requested(database, [view.format(**names)])
    assert reads
    assert unindexed(database, reads) == []


@pytest.mark.parametrize("view", GROUPED_LATER)
def test_a_later_page_of_a_grouped_table_starts_from_an_index_and_pages_after_the_grouping(database, names, view):
    reads = requested(database, [view.format(**names)])
    grouped = [read for read in reads if read.method == "aggregate" and "$facet" in read.pipeline[-1]]
    assert grouped and all("$match" in read.pipeline[-1]["$facet"]["rows"][0] for read in grouped)
    assert unindexed(database, reads) == []


@pytest.mark.parametrize("sort", list(explorer_reads.REFERRING_SORTS))
def test_referring_domains_are_read_in_the_order_of_an_index(database, names, sort):
    """No in-memory sort of a domain's referring domains: each sort has an index that gives its order."""
    reads = requested(database, [f"/d/{names['domain']}/referring-domains?n=10&sort={sort}"])
    found = [read for read in reads if read.collection == "referring_domains" and read.method == "find"]
    stages = {stage for read in found for plan in winning_plans(explain(database, read)) for stage in plan_stages(plan)}
    assert found and "SORT" not in stages and "IXSCAN" in stages, stages


@pytest.mark.parametrize("table", PAGED)
def test_the_reads_of_a_later_page_start_from_an_index(database, names, table):
    path = table.format(**names)
    reads = requested(database, next_pages(database, path))
    assert any(read.method == "find" and "$and" in (read.query or {}) for read in reads)
    assert unindexed(database, reads) == []
