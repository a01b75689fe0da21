"""On a real MongoDB, every read of the profile job, the exports and the query helpers starts from an index.

Only with `LINKCRAWLER_TEST_MONGO_URI` (GitHub Actions' MongoDB 7): the
emulation has no query planner. A small index is stored through the store
(the generated web of `bench/summarize.py`); `summarize` runs in full, then
incrementally after a few pages changed, each through the recording proxy of
`bench.recording`, which notes every read it sends. Each read, every export
kind's pipeline and each `linkcrawler.query` helper's read is then
explained (`queryPlanner`): the winning plan of its first stage's query must
scan an index and no collection. The reads that pass over a whole
collection on purpose are listed in `WHOLE_PASSES`, each with its reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from bench import summarize as summarize_bench
from bench.recording import Read, Recorder, RecordingDatabase
from linkcrawler import query
from linkcrawler.export import kinds
from linkcrawler.profile.job import summarize
from linkcrawler.query import LinkFilters
from linkcrawler.store.linkstore import LinkStore
from linkcrawler.store.mongo import get_database
from tests.conftest import REAL_MONGO_URI

pytestmark = pytest.mark.skipif(
    REAL_MONGO_URI is None,
    reason="needs a real MongoDB (LINKCRAWLER_TEST_MONGO_URI): the emulation has no query planner to explain",
)

WEB = summarize_bench.Web(sites=30, pages=4, links=8, partners=4, linked=2)
INDEX_STAGES = {"IXSCAN", "IDHACK", "COUNT_SCAN", "DISTINCT_SCAN", "EXPRESS_IXSCAN", "EXPRESS_IDHACK"}
"""Plan stages that read an index (the EXPRESS ones are MongoDB 8's plans for a lookup by one key)."""
NOTHING = "EOF"
"""The plan of a query that can match nothing (`$in: []`): it reads neither an index nor a collection."""


def _unfiltered_metrics(run: str, read: Read) -> bool:
    query = read.query or {}
    return run == "full" and read.collection == "links" and "internal" in query and "target_domain" not in query


def _authority_graph(run: str, read: Read) -> bool:
    return read.collection == "referring_domains" and read.query == {"follow": {"$gt": 0}}


def _carried_profiles(run: str, read: Read) -> bool:
    """Every profile, unlimited: a first page of them (the explorer's home) must come from an index."""
    return read.collection == "domain_profiles" and read.method == "find" and read.query == {} and not read.limit


WHOLE_PASSES: dict[str, Callable[[str, Read], bool]] = {
    "a full run (`summarize --all`, a first run) computes every domain's metrics in one pass over the links: "
    "reading them all is the point": _unfiltered_metrics,
    "authority needs the whole domain graph: one `referring_domains` row per domain pair": _authority_graph,
    "an incremental run carries every other profile forward: one `domain_profiles` document per domain": (
        _carried_profiles
    ),
}
"""Reads that pass over a whole collection on purpose, by reason."""


@pytest.fixture(scope="module")
def database() -> Iterator[Any]:
    name = f"linkcrawler_test_{uuid.uuid4().hex[:12]}"
    db = get_database(REAL_MONGO_URI or "", name)
    yield db
    db.client.drop_database(name)


@pytest.fixture(scope="module")
def job_reads(database) -> dict[str, list[Read]]:
    """Every read of a full run on the stored web and of an incremental run after its pages changed."""
    items, partners = WEB.first_crawl(seed=5)
    LinkStore(database).ensure_indexes()
    summarize_bench.store(database, items)
    summarize_bench.settle(database)
    reads = {}
    for run in ("full", "incremental"):
        if run == "incremental":
            summarize_bench.store(database, WEB.changes(items, partners, seed=5))
        recorder = Recorder()
        result = summarize(RecordingDatabase(database, recorder), everything=run == "full")
        assert result.recomputed > 0
        reads[run] = recorder.reads
    return reads


def plan_stages(plan: dict[str, Any]) -> Iterator[str]:
    """Every stage name of a plan tree (classic or slot-based `queryPlan`, one per shard when sharded)."""
    if "stage" in plan:
        yield plan["stage"]
    for key in ("inputStage", "queryPlan", "winningPlan"):
        if isinstance(plan.get(key), dict):
            yield from plan_stages(plan[key])
    for key in ("inputStages", "shards"):
        for child in plan.get(key) or []:
            yield from plan_stages(child)


def winning_plans(explained: dict[str, Any]) -> list[dict[str, Any]]:
    """The winning plans of the query a read starts with, wherever the server's explain puts them.

    A find, a distinct, or an aggregation pushed whole into the query layer
    (the slot-based engine) has `queryPlanner` at the top; an aggregation
    with stages left to run after the query has it in its first stage,
    `$cursor`; a sharded cluster answers per shard.
    """
    if "queryPlanner" in explained:
        return [explained["queryPlanner"]["winningPlan"]]
    if explained.get("stages"):
        cursor = explained["stages"][0].get("$cursor", {})
        return [cursor["queryPlanner"]["winningPlan"]] if "queryPlanner" in cursor else []
    return [plan for shard in (explained.get("shards") or {}).values() for plan in winning_plans(shard)]


def explain(database: Any, read: Read) -> dict[str, Any]:
    command: dict[str, Any]
    if read.method == "aggregate":
        command = {"aggregate": read.collection, "pipeline": read.pipeline, "cursor": {}}
    elif read.method == "distinct":
        command = {"distinct": read.collection, "key": read.key, "query": read.query}
    elif read.method == "count_documents":
        command = {"count": read.collection, "query": read.query}
    else:
        command = {"find": read.collection, "filter": read.query}
        if read.sort:
            command["sort"] = dict(read.sort)
        if read.limit:
            command["limit"] = read.limit
    return database.command("explain", command, verbosity="queryPlanner")


def unindexed(database: Any, reads: list[Read], run: str = "") -> list[str]:
    """The reads whose first stage does not start from an index (and is not a whole pass on purpose), explained."""
    failures = []
    for read in reads:
        if any(allowed(run, read) for allowed in WHOLE_PASSES.values()):
            continue
        plans = winning_plans(explain(database, read)) if read.query is not None else []
        stages = {stage for plan in plans for stage in plan_stages(plan)}
        if not plans or "COLLSCAN" in stages or not stages & (INDEX_STAGES | {NOTHING}):
            failures.append(f"{read.collection}.{read.method} {read.pipeline or read.query} sort={read.sort}: {stages}")
    return failures


def recorded(database: Any, ask: Callable[[Any], Any]) -> list[Read]:
    """The reads `ask` sends through a recording proxy of `database`."""
    recorder = Recorder()
    ask(RecordingDatabase(database, recorder))
    return recorder.reads


@pytest.mark.parametrize("run", ["full", "incremental"])
def test_every_read_of_the_profile_job_starts_from_an_index(database, job_reads, run):
    assert job_reads[run]
    assert unindexed(database, job_reads[run], run) == []


def test_every_whole_pass_on_purpose_is_still_made(job_reads):
    """A reason listed for a read the job no longer makes would hide the next one that matches it."""
    for reason, allowed in WHOLE_PASSES.items():
        assert any(allowed(run, read) for run, reads in job_reads.items() for read in reads), reason


EXPORTS = [
    *((kind, "site1.com", None, None) for kind in kinds.KINDS),
    *((kind, "http://site1.com/p0", None, None) for kind in kinds.KINDS),
    ("backlinks", "site1.com", LinkFilters(follow=True, link_type="text", position="content",
                                           anchor_contains="brand", source_domain="site2.com"), None),
    ("new", "site1.com", None, kinds.Window(since=summarize_bench.STARTED)),
    ("lost", "site1.com", None, kinds.Window(since=summarize_bench.STARTED,
                                             until=summarize_bench.CHANGED_AT + timedelta(days=1))),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "target", "filters", "window"), EXPORTS)
def test_every_export_pipeline_starts_from_an_index(database, job_reads, kind, target, filters, window):
    def export(db: Any) -> None:
        list(kinds.rows(db, kinds.pipeline(db, kind, target, filters, window)))

    reads = recorded(database, export)
    assert any(read.collection == "links" for read in reads)
    assert unindexed(database, reads) == []


QUESTIONS = {
    "backlinks of a domain": lambda db: query.backlinks(db, "site1.com"),
    "backlinks of a URL": lambda db: query.backlinks(db, "http://site1.com/p0"),
    "followed text backlinks from one domain": lambda db: query.backlinks(
        db, "site1.com", follow=True, link_type="text", source_domain="site2.com"
    ),
    "referring domains": lambda db: query.referring_domains(db, "site1.com"),
    "referring domains of a URL": lambda db: query.referring_domains(db, "http://site1.com/p0"),
    "anchors": lambda db: query.anchors(db, "site1.com"),
    "new links": lambda db: query.new_links(db, "site1.com", since=summarize_bench.STARTED),
    "lost links": lambda db: query.lost_links(
        db, "site1.com", since=summarize_bench.STARTED, until=summarize_bench.CHANGED_AT + timedelta(days=1)
    ),
    "intersect": lambda db: query.intersect(db, ["site1.com", "site2.com"], exclude=["site3.com"], min_count=1),
}


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_query_helper_starts_from_an_index(database, job_reads, question):
    reads = recorded(database, QUESTIONS[question])
    assert reads
    assert unindexed(database, reads) == []
