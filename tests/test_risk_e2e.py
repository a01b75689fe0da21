"""Risk flags and disavow files against a synthetic web with planted patterns, from the generator's model.

The expected flags of every domain are computed here from `ground_truth`,
`fetchable_pages` and the model's pages, never from the `links` collection;
the planted link network and link farm (`synthweb.risks`) must show up among
them with their exact evidence. The disavow file is parsed back against
Google's format rules.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.errors import UserError
from linkcrawler.local.demo import EMULATED_MONGO_URI
from linkcrawler.local.synthweb import WebServer, fetchable_pages, generate_web, ground_truth
from linkcrawler.local.synthweb.model import PARSED_KINDS
from linkcrawler.local.synthweb.risks import EXACT_ANCHOR, FARM_LINKS, NETWORK_PAGES, NETWORK_SITES, risk_target
from linkcrawler.profile.anchors import classify_anchor, fold
from linkcrawler.profile.disavow import MAX_BYTES, MAX_LINES, MAX_URL_LENGTH
from linkcrawler.profile.risk import RiskThresholds
from tests.conftest import local_crawl

pytestmark = pytest.mark.slow

THRESHOLDS = RiskThresholds.from_settings()
NETWORK = {f"top-deals-{n}.net" for n in range(1, NETWORK_SITES + 1)}
FARM = "link-directory.info"


@pytest.fixture(scope="module")
def crawled(redis_url):
    from linkcrawler.frontier.connection import connect_redis

    connect_redis(redis_url).flushdb()
    web = generate_web(seed=8, sites=12, pages_per_site=6, planted=True)
    with WebServer(web) as server, local_crawl(redis_url, "lc_risk") as local:
        local.crawl(server.seeds, server.hosts, workers=2, timeout=300)
        options = ["--mongo-uri", local.mongo_uri or EMULATED_MONGO_URI, "--database", local.database]
        done = CliRunner().invoke(app, ["summarize", *options])
        assert done.exit_code == 0, done.output
        profiles = {doc["_id"]: doc for doc in local.store.db.domain_profiles.find()}
        yield {"web": server.web, "profiles": profiles, "options": options}
    connect_redis(redis_url).flushdb()


def expected_risk(web):
    """Every domain's flagged referring domains, by the definitions in `linkcrawler.profile.risk`, from the model."""
    links = ground_truth(web)
    fetched = fetchable_pages(web)
    crawled = Counter(web.site(urlsplit(url).hostname).domain for url in fetched)
    outlinks = {
        url: sum(web.site(link.host).domain != web.site(page.host).domain for link in page.links)
        for url in fetched if (page := web.pages.get(url)) is not None and page.kind in PARSED_KINDS
    }  # fmt: skip
    pairs = defaultdict(list)
    for link in links:
        pairs[(link["target_domain"], link["source_domain"])].append(link)
    live = Counter(link["target_domain"] for link in links)
    flags = defaultdict(dict)
    for (target, source), found in pairs.items():
        pages = {link["source_url"] for link in found}
        if len(pages) >= THRESHOLDS.sitewide_min_pages and len(pages) / crawled[source] >= THRESHOLDS.sitewide_share:
            share = round(len(pages) / crawled[source], 3)
            flags[(target, source)]["sitewide"] = {
                "linking_pages": len(pages), "crawled_pages": crawled[source], "share": share,
            }  # fmt: skip
        farms = [outlinks[url] for url in pages if outlinks.get(url, 0) > THRESHOLDS.farm_links]
        if farms:
            flags[(target, source)]["link_farm"] = {"pages": len(farms), "max_external_links": max(farms)}
        if all(link["sponsored"] or link["ugc"] for link in found):
            paid, ugc = sum(x["sponsored"] for x in found), sum(x["ugc"] for x in found)
            flags[(target, source)]["only_sponsored_ugc"] = {"links": len(found), "sponsored": paid, "ugc": ugc}
    anchors = Counter((link["target_domain"], fold(link["anchor"])) for link in links)
    for (target, text), n in anchors.items():
        if n >= THRESHOLDS.anchor_min_links and n / live[target] >= THRESHOLDS.anchor_share:
            if classify_anchor(text, target) != "other":
                continue
            users = Counter(
                x["source_domain"] for x in links if x["target_domain"] == target and fold(x["anchor"]) == text
            )
            for source, count in users.items():
                flags[(target, source)]["exact_anchor"] = {
                    "anchor": text, "links": count, "domain_links": n, "domain_share": round(n / live[target], 3),
                }  # fmt: skip
    subnets = defaultdict(set)
    for link in links:
        subnets[(link["target_domain"], web.site(link["source_host"]).subnet)].add(link["source_domain"])
    for (target, subnet), members in subnets.items():
        if len(members) >= THRESHOLDS.subnet_domains:
            for source in members:
                flags[(target, source)]["subnet_cluster"] = {"subnet": subnet, "referring_domains": len(members)}
    result = defaultdict(dict)
    for (target, source), found in flags.items():
        result[target][source] = found
    return result


def test_every_domains_flags_and_evidence_are_the_models(crawled):
    expected = expected_risk(crawled["web"])
    for domain, profile in crawled["profiles"].items():
        stored = {row["domain"]: row["flags"] for row in profile["risk"]["referring_domains"]}
        assert stored == expected.get(domain, {}), domain
        assert profile["risk"]["flagged"] == len(stored)
        counts = [len(row["flags"]) for row in profile["risk"]["referring_domains"]]
        assert counts == sorted(counts, reverse=True)


def test_the_planted_patterns_are_found_with_their_evidence(crawled):
    target = risk_target(crawled["web"]).domain
    rows = {row["domain"]: row for row in crawled["profiles"][target]["risk"]["referring_domains"]}
    live = crawled["profiles"][target]["backlinks"]["live"]
    network_links = NETWORK_SITES * NETWORK_PAGES
    for site in NETWORK:
        assert rows[site]["flags"] == {
            "sitewide": {"linking_pages": NETWORK_PAGES, "crawled_pages": NETWORK_PAGES, "share": 1.0},
            "exact_anchor": {"anchor": EXACT_ANCHOR, "links": NETWORK_PAGES, "domain_links": network_links,
                             "domain_share": round(network_links / live, 3)},
            "subnet_cluster": {"subnet": "127.99.1.0/24", "referring_domains": NETWORK_SITES},
        }  # fmt: skip
    assert rows[FARM]["flags"] == {
        "link_farm": {"pages": 1, "max_external_links": FARM_LINKS},
        "only_sponsored_ugc": {"links": 1, "sponsored": 1, "ugc": 0},
    }
    assert set(rows) - NETWORK - {FARM} == {d for d, r in rows.items() if set(r["flags"]) == {"only_sponsored_ugc"}}


def parse_disavow(text):
    """Google's rules, checked line by line: (domain entries, URL entries, the comment before each entry)."""
    assert len(text.encode("utf-8")) <= MAX_BYTES and text.count("\n") <= MAX_LINES
    domains, urls, comments, last = [], [], {}, None
    for line in text.splitlines():
        if line.startswith("#"):
            last = line
        elif line.startswith("domain:"):
            domains.append(line.removeprefix("domain:"))
            comments[domains[-1]] = last
            assert domains[-1] and " " not in domains[-1]
        else:
            assert line.startswith(("http://", "https://")) and len(line) <= MAX_URL_LENGTH, line
            urls.append(line)
    return domains, urls, comments


def test_the_disavow_file_holds_the_flagged_domains_and_never_the_allowed_ones(crawled, tmp_path):
    target = risk_target(crawled["web"]).domain
    allow = tmp_path / "allow.txt"
    allow.write_text("# our partners\nhttps://www.top-deals-2.net/\ndomain:top-deals-3.net\n")
    out = tmp_path / "disavow.txt"
    result = CliRunner().invoke(
        app, ["disavow", f"https://{target}/", "--allow", str(allow), "-o", str(out), *crawled["options"]]
    )
    assert result.exit_code == 0, result.output
    domains, urls, comments = parse_disavow(out.read_text(encoding="utf-8"))
    assert set(domains) == NETWORK - {"top-deals-2.net", "top-deals-3.net"} | {FARM} and urls == []
    assert f"wrote {len(domains)} domain(s) to disavow" in result.output
    assert "sitewide (linking_pages=12, crawled_pages=12, share=1.0)" in comments["top-deals-1.net"]
    assert f'exact_anchor (anchor="{EXACT_ANCHOR}"' in comments["top-deals-1.net"]
    three = CliRunner().invoke(app, ["disavow", target, "--min-flags", "3", *crawled["options"]])
    assert set(parse_disavow(three.output)[0]) == NETWORK


def test_a_bad_allow_list_writes_nothing(crawled, tmp_path):
    allow = tmp_path / "allow.txt"
    allow.write_text("good.example\nnot a domain at all\n")
    out = tmp_path / "disavow.txt"
    result = CliRunner().invoke(app, ["disavow", "x.com", "--allow", str(allow), "-o", str(out), *crawled["options"]])
    assert isinstance(result.exception, UserError) and not out.exists()
    assert str(result.exception).startswith(f"allow list {allow}:2: 'not a domain at all' is not a domain or URL")
