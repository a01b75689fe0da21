"""The profile job's cost as the index grows: a full run, then an incremental run after 1% of the pages changed.

    python bench/summarize.py [--quick] [--json]

An index is generated at 25,000, 100,000 and 400,000 links (`--quick`:
6,250) and loaded into the in-process emulation: sites of 10 pages, each
page with 20 external links, 5 to each of 4 of its site's 8 partner domains,
drawn from the sites and as many domains that are never crawled, so a
domain has about 100 backlinks at every size. Up to 25,000 links go through
the store (`LinkStore.write`, 50 pages a batch, as a crawl's batches would);
a larger index is made of tiles of 25,000 links, each the same graph over
domains of its own: the first tile goes through the store, the others are
renamed copies of its documents (`load`), which equal what the store writes
for them (`tests/test_bench.py`). Then `summarize` runs in full
(`everything`), 1% of the pages (drawn from every tile) are fetched again through
the store, changed (a third each: the page now answers 404; it no longer
links to one domain; it links to one more), and `summarize` runs again,
incrementally.

Per run: seconds (wall time of the job on the emulation, the counting below
taken out), `links_written` (link documents the job wrote or copied: the
goal is none) and `links_matched`: link documents matched by the query each
read starts with (an aggregation's first `$match`, a find's filter),
summed over the run: what a server examines when that query uses an index,
which `tests/test_indexes_real_mongo.py` checks it does. A find with a
limit and a one-field sort (the latest change stamp, a domain's previous
history entry) counts at most its limit: its index gives that order, so
the server stops there. The same sums for the job's other collections are
in `matched`; `links_of_changed_domains` is how many links the recomputed
domains have, the floor for a job that recomputes whole domains.

The emulation answers lookups through indexes on the fields the job looks
up by (`linkcrawler.internals.mongomock_private`): without them every lookup
reads every document. Its seconds say what the emulation costs in Python,
not what a server would; the matched documents are what a server examines.
"""

from __future__ import annotations

import random
import re
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.cli import run_measure
from bench.recording import Read, Recorder, RecordingDatabase
from linkcrawler.extract.items import PageItem
from linkcrawler.extract.links import Link
from linkcrawler.profile.job import MARGIN, summarize
from linkcrawler.store.documents import link_id, page_records, subnet_of
from linkcrawler.store.linkstore import LinkStore
from linkcrawler.store.mongo import get_database

SIZES = (25_000, 100_000, 400_000)
QUICK_SIZES = (6_250,)
TILE_LINKS = 25_000
"""A web of more links is made of tiles of this size: the first loaded through the store, the others copied."""
PAGES_PER_BATCH = 50
STARTED = datetime(2024, 5, 1, tzinfo=UTC)
CHANGED_AT = STARTED + timedelta(days=7)
ANCHORS = ("Brand", "brand.com", "read more", "best cheap shoes", "", "guide to gardens", "click here")


@dataclass(frozen=True)
class Web:
    """The generated web: `sites` sites of `pages` pages, each page with `links` external links."""

    sites: int
    """Sites of one tile."""
    pages: int = 10
    links: int = 20
    partners: int = 8
    linked: int = 4
    """Partner domains each page links to (links / linked links to each)."""
    changed_share: float = 0.01
    tiles: int = 1
    """Copies of the tile's graph, each over domains of its own (`tile_offset`), side by side."""

    @classmethod
    def of_size(cls, links: int) -> Web:
        per_site = cls.pages * cls.links
        if links <= TILE_LINKS:
            return cls(sites=max(1, links // per_site))
        return cls(sites=TILE_LINKS // per_site, tiles=round(links / TILE_LINKS))

    @property
    def size(self) -> int:
        """Links of the first crawl."""
        return self.sites * self.tiles * self.pages * self.links

    def domains(self, tile: int = 0) -> list[str]:
        """Every domain a tile's links point to: its crawled sites and as many never crawled."""
        numbers = range(tile * self.sites, (tile + 1) * self.sites)
        return [f"site{n}.com" for n in numbers] + [f"other{n}.net" for n in numbers]

    def first_crawl(self, seed: int) -> tuple[list[PageItem], dict[str, list[str]]]:
        """Every page's first fetch, and each site's partner domains, tile after tile."""
        items: list[PageItem] = []
        partners: dict[str, list[str]] = {}
        for tile in range(self.tiles):
            tile_items, tile_partners = self._tile(seed, tile)
            items += tile_items
            partners |= tile_partners
        return items, partners

    def _tile(self, seed: int, tile: int) -> tuple[list[PageItem], dict[str, list[str]]]:
        """One tile's first fetches: every tile draws the same graph (the same seed) over its own domains."""
        rng = random.Random(seed)
        domains = self.domains(tile)
        sites = domains[: self.sites]
        partners = {site: rng.sample([d for d in domains if d != site], self.partners) for site in sites}
        items = []
        for n, site in enumerate(sites):
            for page in range(self.pages):
                linked = rng.sample(partners[site], self.linked)
                when = STARTED + timedelta(seconds=n * self.pages + page)
                items.append(self._item(site, page, when, [link for d in linked for link in self._links(rng, d)]))
        return items, partners

    def changes(self, items: list[PageItem], partners: dict[str, list[str]], seed: int) -> list[PageItem]:
        """1% of the pages fetched again (at least 3): a third now 404, a third drop a domain, a third add one."""
        rng = random.Random(seed + 1)
        chosen = rng.sample(items, max(3, round(len(items) * self.changed_share)))
        changed = []
        for n, item in enumerate(chosen):
            site, page = item.url.split("/")[2], int(item.url.rsplit("/p", 1)[1])
            if n % 3 == 0:
                changed.append(PageItem(url=item.url, fetched_at=CHANGED_AT, status=404, ip=item.ip))
                continue
            domains = sorted({link.target_domain for link in item.links})
            if n % 3 == 1:
                kept = [link for link in item.links if link.target_domain != domains[0]]
            else:
                extra = rng.choice([d for d in partners[site] if d not in domains])
                kept = [*item.links, *self._links(rng, extra)]
            changed.append(self._item(site, page, CHANGED_AT, kept))
        return changed

    def _links(self, rng: random.Random, domain: str) -> list[Link]:
        links = []
        for target in rng.sample(range(self.pages), self.links // self.linked):
            rel = rng.random()
            nofollow, ugc, sponsored = rel < 0.08, 0.08 <= rel < 0.1, 0.1 <= rel < 0.12
            links.append(Link(f"http://{domain}/p{target}", domain, domain, rng.choice(ANCHORS), "text",
                              nofollow=nofollow, ugc=ugc, sponsored=sponsored, follow=rel >= 0.12))  # fmt: skip
        return links

    def _item(self, site: str, page: int, when: datetime, links: list[Link]) -> PageItem:
        return PageItem(url=f"http://{site}/p{page}", fetched_at=when, status=200, content_type="text/html",
                        parsed=True, ip=address_of(site), links=links)  # fmt: skip


DOMAIN = re.compile(r"\b(site|other)(\d+)\.(com|net)\b")


def address_of(site: str) -> str:
    """The generated site's IP address, in a /24 of its own."""
    number = int(DOMAIN.fullmatch(site)[2])
    return f"10.{number // 250 % 250}.{number % 250}.1"


def load(database: Any, web: Web, items: list[PageItem]) -> None:
    """Store the first crawl: the first tile through the store, the other tiles as renamed copies of its documents.

    Every tile draws the same graph over its own domains, so each copy is
    what the store writes for that tile's fetches (`tests/test_bench.py`
    checks it against a web stored whole); copying spares the emulation's
    slow update pipelines at 100,000 links and more.
    """
    first = len(items) // web.tiles
    store(database, items[:first])
    for collection in ("links", "pages"):
        stored = list(database[collection].find())
        for tile in range(1, web.tiles):
            copies = [_renamed(collection, document, tile * web.sites) for document in stored]
            database[collection].insert_many(copies)


def _renamed(collection: str, document: dict[str, Any], offset: int) -> dict[str, Any]:
    """`document` of the first tile as the tile whose domains are numbered `offset` higher has it."""

    def rename(value: Any) -> Any:
        if isinstance(value, str):
            return DOMAIN.sub(lambda m: f"{m[1]}{int(m[2]) + offset}.{m[3]}", value)
        if isinstance(value, list):
            return [rename(item) for item in value]
        return value

    copy = {name: rename(value) for name, value in document.items()}
    if collection == "pages":
        copy["ip"] = address_of(copy["domain"])
    else:
        copy["_id"] = link_id(copy["source_url"], copy["target_url"], copy["link_type"], copy["anchor"])
        copy["source_ip"] = address_of(copy["source_domain"])
        copy["source_subnet"] = subnet_of(copy["source_ip"])
    return copy


def store(database: Any, items: list[PageItem]) -> None:
    """Write the fetches through the store, `PAGES_PER_BATCH` pages a batch."""
    sink = LinkStore(database)
    for batch in _batches(items):
        links, pages = [], []
        for item in batch:
            records = page_records(item)
            links += records.links
            pages += records.pages
        sink.write(links, pages)


def _batches(items: list[PageItem]) -> Iterator[list[PageItem]]:
    for n in range(0, len(items), PAGES_PER_BATCH):
        yield items[n : n + PAGES_PER_BATCH]


def settle(database: Any) -> None:
    """Let the load's last change stamps fall outside the next run's look back (`job.MARGIN`), as the hours of a
    real crawl would, then store one page of no interest so that run starts after them."""
    time.sleep(MARGIN.total_seconds() + 0.1)
    quiet = PageItem(url="http://quiet.example/", fetched_at=datetime.now(UTC), status=200)
    store(database, [quiet])


def examined(read: Read) -> int:
    """Documents the server examines for `read`: those its query matches, at most its limit when one field sorts."""
    matched = read.matched or 0
    if read.limit and read.sort and len(read.sort) == 1:
        return min(matched, read.limit)
    return matched


def run(database: Any, everything: bool) -> dict[str, Any]:
    """One `summarize` run, recorded: its seconds, the link documents it wrote and matched, per collection."""
    recorder = Recorder(count=True)
    started = time.perf_counter()
    result = summarize(RecordingDatabase(database, recorder), everything=everything)
    seconds = time.perf_counter() - started - recorder.counting_seconds
    matched: dict[str, int] = {}
    for read in recorder.reads:
        matched[read.collection] = matched.get(read.collection, 0) + examined(read)
    return {
        "seconds": round(seconds, 2),
        "links_written": recorder.written["links"] + recorder.copied["links"],
        "links_matched": matched.get("links", 0),
        "matched": matched,
        "reads": len(recorder.reads),
        "recomputed": result.recomputed,
        "domains": result.domains,
        "domains_read": domains_read(recorder.reads),
    }


def measure_web(web: Web, seed: int = 1) -> dict[str, Any]:
    """Load the web's links, run the job in full, change 1% of the pages, run it again."""
    items, partners = web.first_crawl(seed)
    changes = web.changes(items, partners, seed)
    name = f"bench_summarize_{uuid.uuid4().hex[:8]}"
    database = get_database(f"mongomock://bench-summarize-{uuid.uuid4().hex}", name)
    try:
        LinkStore(database).ensure_indexes()
        started = time.perf_counter()
        load(database, web, items)
        load_seconds = time.perf_counter() - started
        settle(database)
        full = run(database, everything=True)
        store(database, changes)
        incremental = run(database, everything=False)
        asked = {"target_domain": {"$in": incremental.pop("domains_read")}}
        full.pop("domains_read")
        return {
            "links": database["links"].estimated_document_count(),
            "pages": len(items),
            "changed_pages": len(changes),
            "load_seconds": round(load_seconds, 1),
            "full": full,
            "incremental": incremental,
            "links_of_changed_domains": database["links"].count_documents(asked),
        }
    finally:
        database.client.drop_database(name)


def domains_read(reads: list[Read]) -> list[str]:
    """The target domains the run's link reads asked for by name (a full run's metrics ask for none: all)."""
    asked: set[str] = set()
    for read in reads:
        chosen = (read.query or {}).get("target_domain") if read.collection == "links" else None
        if isinstance(chosen, dict) and isinstance(chosen.get("$in"), list):
            asked.update(chosen["$in"])
    return sorted(asked)


def measure(quick: bool = False, webs: tuple[Web, ...] | None = None) -> dict[str, Any]:
    """Each size's runs (`webs` overrides the generated webs, for tests); the headline ratios are the last one's."""
    chosen = webs or tuple(Web.of_size(links) for links in (QUICK_SIZES if quick else SIZES))
    results = {f"links_{web.size}": measure_web(web) for web in chosen}
    largest = list(results.values())[-1]
    full, incremental = largest["full"], largest["incremental"]
    return {
        "summarize_incremental_vs_full_matched": round(incremental["links_matched"] / full["links_matched"], 4),
        "summarize_incremental_vs_full_seconds": round(incremental["seconds"] / full["seconds"], 3),
        **results,
    }


if __name__ == "__main__":
    run_measure(measure, __doc__, "the smaller index only (6,250 links)")
