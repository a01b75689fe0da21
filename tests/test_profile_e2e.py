"""The profile job against the synthetic web: every metric of every domain, from the generator's model.

One crawl of version 1, a summarize, then the generator changes the web
(`set_version(2)`: links added, removed, pages gone or redirected), a
second crawl run and a second summarize. Expected values are computed here
from `ground_truth`, `link_changes` and `broken_links`, never from the
`links` collection. Runs on mongomock, or on the real MongoDB given by
LINKCRAWLER_TEST_MONGO_URI.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from linkcrawler.local.synthweb import broken_links, generate_web, ground_truth, identity, link_changes
from linkcrawler.profile.anchors import ANCHOR_CLASSES, classify_anchor, fold
from linkcrawler.profile.authority import authority_scores
from linkcrawler.profile.job import Limits, summarize
from tests.conftest import two_crawl_runs

pytestmark = pytest.mark.slow

EVERYTHING = Limits(top_pages=10_000, top_referring_domains=10_000, anchors=10_000, changes=10_000)


@pytest.fixture(scope="module")
def runs(redis_url):
    """Profiles after run 1 and run 2 (and a rerun over run 2's data), with the two served webs."""

    def summarized(crawl):
        summarize(crawl.store.db, limits=EVERYTHING)
        return _profiles(crawl.store.db)

    web = generate_web(seed=8, sites=16, pages_per_site=8)
    with two_crawl_runs(redis_url, "linkcrawler_profile", web, summarized) as (crawl, runs):
        [(first, v1), (second, v2)] = runs
        db = crawl.store.db
        history_count = db.profile_history.count_documents({})
        summarize(db, limits=EVERYTHING)
        yield {
            "first": first,
            "second": second,
            "rerun": _profiles(db),
            "v1": v1,
            "v2": v2,
            "history_count": history_count,
            "history_after_rerun": db.profile_history.count_documents({}),
            "scratch": [c for c in db.list_collection_names() if c.startswith("profile_scratch_")],
        }


def _profiles(db):
    return {doc["_id"]: doc for doc in db.domain_profiles.find()}


def test_the_mutation_adds_removes_and_breaks_links(runs):
    changes = link_changes(runs["v1"], runs["v2"])
    assert changes["added"] and changes["broken"]
    reasons = {"link_removed", "source_failed", "source_redirected", "source_noindex", "source_canonicalized"}
    assert {link["reason"] for link in changes["removed"]} == reasons


def test_every_metric_of_every_domain_after_the_first_run(runs):
    truth = ground_truth(runs["v1"])
    expected = expected_profiles(live=truth, all_time=truth, new=truth, lost=[], broken=broken_links(runs["v1"]))
    assert_profiles(runs["first"], expected)
    assert {p["since"] for p in runs["first"].values()} == {None}


def test_every_metric_after_the_second_run_with_exactly_the_new_lost_and_broken_links(runs):
    v1, v2 = ground_truth(runs["v1"]), ground_truth(runs["v2"])
    changes = link_changes(runs["v1"], runs["v2"])
    all_time = list({identity(link): link for link in v1 + v2}.values())
    lost = {identity(link) for link in changes["removed"]}
    live = [link for link in v2 if identity(link) not in lost]
    broken = [link for link in broken_links(runs["v2"]) if identity(link) not in lost]
    expected = expected_profiles(
        live=live, all_time=all_time, new=changes["added"], lost=changes["removed"], broken=broken
    )
    assert_profiles(runs["second"], expected)
    stored_reasons = {link["reason"] for p in runs["second"].values() for link in p["lost"]["links"]}
    assert stored_reasons == {"link_removed", "source_failed", "source_redirected", "source_noindex",
                              "source_canonicalized"}  # fmt: skip
    newly_broken = {identity(link) for link in changes["broken"]}
    stored_broken = {_key(link) for p in runs["second"].values() for link in p["broken"]["links"]}
    assert newly_broken and newly_broken <= stored_broken
    first_as_of = {p["data_as_of"] for p in runs["first"].values()}
    assert {p["since"] for p in runs["second"].values() if p["domain"] in runs["first"]} == first_as_of


def test_a_rerun_over_the_same_data_changes_nothing_but_the_time(runs):
    drop = ("computed_at",)
    strip = {d: {k: v for k, v in p.items() if k not in drop} for d, p in runs["second"].items()}
    assert {d: {k: v for k, v in p.items() if k not in drop} for d, p in runs["rerun"].items()} == strip
    assert runs["history_after_rerun"] == runs["history_count"] == len(runs["first"]) + len(runs["second"])
    assert runs["scratch"] == []


def _key(link):
    return (link["source_url"], link["target_url"], link["link_type"], link["anchor"])


def expected_profiles(live, all_time, new, lost, broken):
    """Profiles computed from model records: lists of link dicts with the ground truth's fields."""
    by_domain = defaultdict(list)
    for link in live:
        by_domain[link["target_domain"]].append(link)
    authority = authority_scores((link["source_domain"], link["target_domain"]) for link in live if link["follow"])
    domains = {link["target_domain"] for link in all_time}
    count = Counter(link["target_domain"] for link in all_time)
    grouped = {name: _by_domain(records) for name, records in (("new", new), ("lost", lost), ("broken", broken))}
    return {
        domain: _expected(
            domain,
            by_domain[domain],
            count[domain],
            authority,
            {name: records.get(domain, []) for name, records in grouped.items()},
        )
        for domain in domains
    }


def _by_domain(records):
    result = defaultdict(list)
    for link in records:
        result[link["target_domain"]].append(link)
    return result


def _expected(domain, links, all_time, authority, changes):
    referrers = defaultdict(list)
    for link in links:
        referrers[link["source_domain"]].append(link)
    anchors, anchor_sources = Counter(), defaultdict(set)
    for link in links:
        anchors[fold(link["anchor"])] += 1
        anchor_sources[fold(link["anchor"])].add(link["source_domain"])
    classes = dict.fromkeys(ANCHOR_CLASSES, 0)
    for text, n in anchors.items():
        classes[classify_anchor(text, domain)] += n
    pages = defaultdict(list)
    for link in links:
        pages[link["target_url"]].append(link)
    top_pages = [
        {"url": url, "referring_domains": len({x["source_domain"] for x in ls}), "backlinks": len(ls)}
        for url, ls in pages.items()
    ]
    top_pages.sort(key=lambda p: (-p["referring_domains"], -p["backlinks"], p["url"]))
    top_referrers = [
        {"domain": d, "links": len(ls), "dofollow": sum(x["follow"] for x in ls), "authority": authority.get(d, 0.0)}
        for d, ls in referrers.items()
    ]
    top_referrers.sort(key=lambda r: (-r["authority"], -r["links"], r["domain"]))
    tlds = Counter(d.split(".", 1)[1] for d in referrers)
    return {
        "authority": authority.get(domain, 0.0),
        "backlinks": {
            "live": len(links),
            "all_time": all_time,
            "dofollow": sum(x["follow"] for x in links),
            "not_followed": sum(not x["follow"] for x in links),
            "nofollow": sum(x["nofollow"] for x in links),
            "ugc": sum(x["ugc"] for x in links),
            "sponsored": sum(x["sponsored"] for x in links),
            "broken": len(changes["broken"]),
        },
        "referring": {
            "pages": len({x["source_url"] for x in links}),
            "domains": len(referrers),
            "hosts": len({x["source_host"] for x in links}),
            "ips": len({x["source_ip"] for x in links}),
            "subnets": len({x["source_ip"].rsplit(".", 1)[0] for x in links}),
        },
        "referring_domains_by_follow": {
            "dofollow": sum(any(x["follow"] for x in ls) for ls in referrers.values()),
            "nofollow": sum(not any(x["follow"] for x in ls) for ls in referrers.values()),
            "ugc": sum(any(x["ugc"] for x in ls) for ls in referrers.values()),
            "sponsored": sum(any(x["sponsored"] for x in ls) for ls in referrers.values()),
        },
        "link_types": dict(Counter(x["link_type"] for x in links)),
        "positions": dict(Counter(x["position"] for x in links)),
        "anchors": {
            "distinct": len(anchors),
            "classes": classes,
            "top": [
                {
                    "anchor": t,
                    "class": classify_anchor(t, domain),
                    "links": anchors[t],
                    "referring_domains": len(anchor_sources[t]),
                }
                for t in sorted(anchors, key=lambda t: (-anchors[t], -len(anchor_sources[t]), t))
            ],
        },
        "top_pages": top_pages,
        "top_referring_domains": top_referrers,
        "tlds": [{"tld": t, "referring_domains": n} for t, n in sorted(tlds.items(), key=lambda kv: (-kv[1], kv[0]))],
        "new": {_key(x) for x in changes["new"]},
        "lost": {(*_key(x), x["reason"]) for x in changes["lost"]},
        "broken": {_key(x) for x in changes["broken"]},
    }


def assert_profiles(stored, expected):
    assert sorted(stored) == sorted(expected)
    for domain, want in expected.items():
        got = stored[domain]
        actual = {key: got[key] for key in want if key not in ("new", "lost", "broken")}
        actual["new"] = {_key(x) for x in got["new"]["links"]}
        actual["lost"] = {(*_key(x), x["reason"]) for x in got["lost"]["links"]}
        actual["broken"] = {_key(x) for x in got["broken"]["links"]}
        assert got["new"]["count"] == len(want["new"]) and got["lost"]["count"] == len(want["lost"])
        assert got["broken"]["count"] == len(want["broken"])
        assert actual == want, domain
