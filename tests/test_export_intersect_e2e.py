"""`export` (every kind, every filter) and `intersect` on a crawled synthetic web, against its ground truth.

One crawl of version 1 and a summarize, then version 2 (links added,
removed, broken, pages unindexed), a second crawl run and a summarize, as
in `test_profile_e2e`. Expected rows are computed from `ground_truth`,
`link_changes` and `broken_links`, never read from `links`.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.local.demo import EMULATED_MONGO_URI
from linkcrawler.local.synthweb import broken_links, generate_web, ground_truth, identity, link_changes
from linkcrawler.profile.authority import authority_scores
from linkcrawler.profile.job import summarize
from tests.conftest import REAL_MONGO_URI, two_crawl_runs

pytestmark = pytest.mark.slow

KEY = ("source_url", "target_url", "link_type", "anchor")


@pytest.fixture(scope="module")
def crawled(redis_url):
    """The database after two crawl runs, the CLI options naming it, and the truth of what it should hold."""

    def summarized(crawl):
        summarize(crawl.store.db)
        return datetime.now(UTC)

    web = generate_web(seed=8, sites=16, pages_per_site=8)
    with two_crawl_runs(redis_url, "linkcrawler_export", web, summarized) as (crawl, runs):
        [(between, v1), (_, v2)] = runs
        options = ["--mongo-uri", REAL_MONGO_URI or EMULATED_MONGO_URI, "--database", crawl.database]
        yield {"db": crawl.store.db, "options": options, "between": between, **truth(v1, v2)}


def truth(v1, v2) -> dict:
    changes = link_changes(v1, v2)
    gone = {identity(link) for link in changes["removed"]}
    live = [link for link in ground_truth(v2) if identity(link) not in gone]
    first_run = {identity(link) for link in ground_truth(v1)}
    profiled = {link["target_domain"] for link in ground_truth(v1) + ground_truth(v2)}
    scores = authority_scores((x["source_domain"], x["target_domain"]) for x in live if x["follow"])
    return {
        "live": live,
        "old_live": [link for link in live if identity(link) in first_run],
        "added": changes["added"],
        "removed": changes["removed"],
        "broken": [link for link in broken_links(v2) if identity(link) not in gone],
        "authority": {domain: scores.get(domain, 0.0) if domain in profiled else 0.0 for domain in scores},
    }


def export(crawled, *args) -> list[dict]:
    result = CliRunner().invoke(app, ["export", *args, "--format", "jsonl", *crawled["options"]])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def keys(rows) -> Counter:
    return Counter(tuple(row[k] for k in KEY) for row in rows)


def busiest(links, field="target_domain", n=1) -> list[str]:
    counts = Counter(link[field] for link in links)
    return sorted(counts, key=lambda d: (-counts[d], d))[:n]


def test_link_kinds_hold_exactly_the_links_of_the_truth(crawled):
    domain = busiest(crawled["live"])[0]
    of = [link for link in crawled["live"] if link["target_domain"] == domain]
    assert keys(export(crawled, "backlinks", domain)) == keys(of)
    for kind in ("new", "lost", "broken"):
        want = [link for link in crawled[{"new": "added", "lost": "removed"}.get(kind, kind)]
                if link["target_domain"] == domain]  # fmt: skip
        assert keys(export(crawled, kind, domain)) == keys(want), kind
    source = busiest(crawled["live"], "source_domain")[0]
    outlinks = export(crawled, "outlinks", source)
    assert keys(outlinks) == keys(link for link in crawled["live"] if link["source_domain"] == source)
    assert {row["source_domain"] for row in outlinks} == {source}


def test_lost_rows_carry_every_reason_of_the_truth(crawled):
    rows = [
        row for domain in {x["target_domain"] for x in crawled["removed"]} for row in export(crawled, "lost", domain)
    ]
    assert Counter((*[row[k] for k in KEY], row["reason"]) for row in rows) == Counter(
        (*[link[k] for k in KEY], link["reason"]) for link in crawled["removed"]
    )
    assert {row["reason"] for row in rows} == {
        "link_removed", "source_failed", "source_redirected", "source_noindex", "source_canonicalized"
    }  # fmt: skip


def test_every_row_has_the_fields_of_the_truth(crawled):
    domain = busiest(crawled["live"])[0]
    want = {tuple(link[k] for k in KEY): link for link in crawled["live"] if link["target_domain"] == domain}
    for row in export(crawled, "backlinks", domain):
        link = want[tuple(row[k] for k in KEY)]
        fields = ("source_domain", "target_domain", "follow", "nofollow", "ugc", "sponsored", "position")
        assert {f: row[f] for f in fields} == {f: link[f] for f in fields}
        assert datetime.fromisoformat(row["first_seen"]) <= datetime.fromisoformat(row["last_seen"])
        assert row["lost_at"] is None and row["reason"] is None


def test_referring_domains_and_anchors_group_live_backlinks(crawled):
    domain = busiest(crawled["live"])[0]
    of = [link for link in crawled["live"] if link["target_domain"] == domain]
    by_source = defaultdict(list)
    for link in of:
        by_source[link["source_domain"]].append(link)
    want = {d: (len(ls), sum(x["follow"] for x in ls), crawled["authority"].get(d, 0.0)) for d, ls in by_source.items()}
    rows = export(crawled, "referring-domains", domain)
    assert {r["domain"]: (r["links"], r["dofollow"], r["authority"]) for r in rows} == want
    assert [r["links"] for r in rows] == sorted((r["links"] for r in rows), reverse=True)
    by_anchor = defaultdict(list)
    for link in of:
        by_anchor[link["anchor"]].append(link)
    anchors = {
        r["anchor"]: (r["links"], r["dofollow"], r["referring_domains"]) for r in export(crawled, "anchors", domain)
    }
    assert anchors == {
        a: (len(ls), sum(x["follow"] for x in ls), len({x["source_domain"] for x in ls})) for a, ls in by_anchor.items()
    }


def test_every_filter_selects_what_it_says(crawled):
    live = crawled["live"]
    domain = busiest(live)[0]
    of = [link for link in live if link["target_domain"] == domain]
    source = busiest(of, "source_domain")[0]
    anchor = next(link["anchor"] for link in of if len(link["anchor"]) > 3)
    piece = anchor[1:-1].upper()
    cases = [
        (["--follow"], [x for x in of if x["follow"]]),
        (["--nofollow"], [x for x in of if not x["follow"]]),
        (["--type", "image"], [x for x in of if x["link_type"] == "image"]),
        (["--position", "footer"], [x for x in of if x["position"] == "footer"]),
        (["--anchor-contains", piece], [x for x in of if piece.casefold() in x["anchor"].casefold()]),
        (["--source-domain", source.upper()], [x for x in of if x["source_domain"] == source]),
        (["--since", crawled["between"].isoformat()], [x for x in of if x in crawled["added"]]),
        (["--until", crawled["between"].isoformat()], [x for x in of if x in crawled["old_live"]]),
        (["--follow", "--type", "text", "--position", "content"],
         [x for x in of if x["follow"] and x["link_type"] == "text" and x["position"] == "content"]),
    ]  # fmt: skip
    for args, want in cases:
        assert keys(export(crawled, "backlinks", domain, *args)) == keys(want), args
    assert sum(bool(want) for _, want in cases) >= 7, "the web exercises most filters"


def test_csv_export_of_a_domain_reads_back_as_the_same_rows(crawled, tmp_path):
    domain = busiest(crawled["live"])[0]
    out = tmp_path / "backlinks.csv"
    result = CliRunner().invoke(app, ["export", "backlinks", domain, "--output", str(out), *crawled["options"]])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")))
    assert keys(rows) == keys(x for x in crawled["live"] if x["target_domain"] == domain)
    assert {row["follow"] for row in rows} <= {"true", "false"}
    assert all(datetime.fromisoformat(row["first_seen"]).tzinfo for row in rows)


def expected_intersect(live, authority, rivals, mine, least, follow=None):
    reach = defaultdict(lambda: defaultdict(list))
    for link in live:
        if follow is None or link["follow"] == follow:
            reach[link["source_domain"]][link["target_domain"]].append(link)
    rows = []
    for source, targets in reach.items():
        hits = sorted(t for t in targets if t in rivals)
        if source in mine or any(t in mine for t in targets) or len(hits) < least:
            continue
        rows.append({
            "domain": source, "count": len(hits), "authority": authority.get(source, 0.0),
            "links": sum(len(targets[t]) for t in hits),
            "competitors": [{"domain": t, "links": len(targets[t]), "url": min(x["source_url"] for x in targets[t])}
                            for t in hits],
        })  # fmt: skip
    return sorted(rows, key=lambda r: (-r["count"], -r["authority"], r["domain"]))


def test_intersect_of_three_competitors_against_the_truth(crawled):
    live = crawled["live"]
    rivals, mine = busiest(live, n=4)[:3], busiest(live, n=4)[3:]
    result = CliRunner().invoke(
        app, ["intersect", *(r.upper() for r in rivals), "--not", mine[0], "--min", "2", "--json", *crawled["options"]]
    )
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    want = expected_intersect(live, crawled["authority"], rivals, mine, 2)
    assert got == want and want, "a gap to find"
    everyone = expected_intersect(live, crawled["authority"], rivals, mine, 3)
    assert everyone != want
    result = CliRunner().invoke(app, ["intersect", *rivals, "--not", mine[0], "--json", *crawled["options"]])
    assert json.loads(result.stdout) == everyone
    result = CliRunner().invoke(app, ["intersect", *rivals, "--min", "1", "--follow", "--json", *crawled["options"]])
    assert json.loads(result.stdout) == expected_intersect(live, crawled["authority"], rivals, [], 1, follow=True)
