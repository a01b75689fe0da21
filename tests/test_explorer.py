"""The Site Explorer (`linkcrawler serve`) through its HTTP interface, on hand-made link tables summarized by the
profile job: every view and its JSON twin agree with `profile --json`, `export` and `intersect`; paging walks
every row once; bad parameters get a 400 naming them; nothing is written; crawled text stays inert; the token
and the loopback rule hold; an unreachable MongoDB or Redis is a page that says so."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from datetime import timedelta

import pymongo
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from linkcrawler.cli.main import app as cli
from linkcrawler.explorer import views
from linkcrawler.explorer.app import create_app
from linkcrawler.explorer.views import Sources
from linkcrawler.frontier import keys
from linkcrawler.frontier.connection import connect_redis
from linkcrawler.frontier.workers import WorkerRegistry, minute_of
from linkcrawler.profile.job import summarize
from linkcrawler.store.migrate import upgrade
from linkcrawler.store.snapshot import COLLECTIONS
from tests.profile_data import T1, T2, link, load, page

HOSTILE_ANCHORS = ["<script>alert('x')</script>", '<img src=x onerror="alert(1)">', 'say "hi" & \'bye\'',
                   "[link=https://evil.example]click[/link]", "=HYPERLINK(\"http://evil\")"]  # fmt: skip
VIEWS = ["", "/backlinks", "/referring-domains", "/anchors", "/top-pages", "/new", "/lost", "/broken", "/outgoing",
         "/risk"]  # fmt: skip


@pytest.fixture
def small(cli_db):
    """profile_data's table plus 30 more pages of c.com linking to b.com (more than one page of 10 rows), some
    nofollow, and a second run in which a.com/1 was fetched again without its links, so new and lost exist;
    summarized twice."""
    db, options = cli_db
    load(db)
    summarize(db, None, now=T1 + timedelta(days=40))
    more = [link(f"http://c.com/p{i:02}", f"http://b.com/{i % 3}", f"post {i}", follow=i % 4 != 0,
                 first=T2 + timedelta(hours=i), last=T2 + timedelta(hours=i)) for i in range(30)]  # fmt: skip
    db.links.insert_many(more)
    db.pages.insert_many([page(f"http://c.com/p{i:02}", fetched_at=T2 + timedelta(hours=i)) for i in range(30)])
    db.pages.update_one(
        {"_id": "http://a.com/1"}, {"$set": {"fetched_at": T2 + timedelta(days=2)}, "$unset": {"fetches": 1}}
    )
    upgrade(db)
    summarize(db, None, everything=True)
    return db, options


@pytest.fixture
def hostile(cli_db):
    """Backlinks of b.com whose anchors and URLs are attacks, one with a `javascript:` source URL."""
    db, options = cli_db
    docs = [link(f"http://evil.com/{i}", "http://b.com/", anchor) for i, anchor in enumerate(HOSTILE_ANCHORS)]
    docs[0]["source_url"] = "javascript:alert(document.cookie)//"
    docs.append(link("http://evil.com/q", 'http://b.com/"><script>alert(2)</script>', "quoted target"))
    db.links.insert_many(docs)
    db.pages.insert_many([page(f"http://evil.com/{i}") for i in range(1, len(HOSTILE_ANCHORS))])
    upgrade(db)
    summarize(db, None)
    return db, options


def client(db, **kwargs) -> TestClient:
    return TestClient(create_app(Sources(db, "test"), **kwargs))


def cli_json(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_view_answers_and_its_json_twin_holds_the_profile_numbers(small):
    db, options = small
    web = client(db)
    for view in VIEWS:
        page_ = web.get(f"/d/b.com{view}")
        assert page_.status_code == 200, view
        assert "text/html" in page_.headers["content-type"]
    stored = cli_json("profile", "b.com", "--json", *options)
    overview = web.get("/d/b.com.json").json()
    assert overview["profile"] == stored
    assert [run["data_as_of"] for run in overview["runs"]] == sorted({run["data_as_of"] for run in overview["runs"]})
    assert len(overview["runs"]) == 2
    totals = {view: web.get(f"/d/b.com/{view}.json").json()["total"]
              for view in ("backlinks", "referring-domains", "new", "lost", "broken")}  # fmt: skip
    assert totals == {"backlinks": stored["backlinks"]["live"], "referring-domains": stored["referring"]["domains"],
                      "new": stored["new"]["count"], "lost": stored["lost"]["count"],
                      "broken": stored["broken"]["count"]}  # fmt: skip
    assert web.get("/d/b.com/backlinks.json?state=all").json()["total"] == stored["backlinks"]["all_time"]
    assert web.get("/d/b.com/backlinks.json?follow=follow").json()["total"] == stored["backlinks"]["dofollow"]
    assert web.get("/d/b.com/backlinks", headers={"accept": "application/json"}).json()["total"] == totals["backlinks"]
    home = web.get("/index.json").json()
    assert {p["_id"]: p["backlinks"]["live"] for p in home["profiles"]}["b.com"] == stored["backlinks"]["live"]
    assert web.get("/d/b.com/top-pages.json").json()["rows"] == stored["top_pages"]
    assert web.get("/d/b.com/risk.json").json()["risk"] == stored["risk"]
    compared = web.get("/compare.json?d=b.com&d=A.com").json()
    assert [p["domain"] for p in compared["profiles"]] == ["b.com", "a.com"]


@pytest.mark.parametrize(
    ("view", "kind", "query", "flags"),
    [
        ("backlinks", "backlinks", "", []),
        ("backlinks", "backlinks", "?follow=nofollow&anchor=POST", ["--nofollow", "--anchor-contains", "POST"]),
        ("backlinks", "backlinks", "?source_domain=c.com&since=2024-06-01",
         ["--source-domain", "c.com", "--since", "2024-06-01"]),
        ("new", "new", "", []),
        ("lost", "lost", "", []),
        ("broken", "broken", "", []),
        ("outgoing", "outlinks", "", []),
        ("referring-domains", "referring-domains", "", []),
        ("anchors", "anchors", "?follow=follow", ["--follow"]),
    ],
)  # fmt: skip
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_export_these_rows_equals_linkcrawler_export(small, tmp_path, view, kind, query, flags, fmt):
    db, options = small
    domain = "b.com"
    served = client(db).get(f"/d/{domain}/{view}.{fmt}{query}")
    assert served.status_code == 200 and "attachment" in served.headers["content-disposition"]
    written = tmp_path / f"export.{fmt}"
    result = CliRunner().invoke(cli, ["export", kind, domain, *flags, "--format", fmt, "-o", str(written), *options])
    assert result.exit_code == 0, result.output
    assert served.content == written.read_bytes()
    assert len(served.content.decode("utf-8-sig").splitlines()) > (1 if fmt == "csv" else 0)


def test_intersect_json_equals_linkcrawler_intersect(small):
    db, options = small
    expected = cli_json("intersect", "b.com", "a.com", "--min", "1", "--json", *options)
    served = client(db).get("/intersect.json?c=b.com&c=A.com&min=1").json()
    assert served["rows"] == expected and expected
    assert client(db).get("/intersect?c=b.com&c=a.com&min=1").status_code == 200


def test_keyset_paging_walks_every_row_once_forward_and_back_in_the_export_order(small):
    db, _ = small
    web = client(db)
    exported = list(csv.DictReader(io.StringIO(web.get("/d/b.com/backlinks.csv").content.decode("utf-8-sig"))))
    for sort in ("newest", "oldest", "source"):
        pages, url = [], f"/d/b.com/backlinks.json?n=10&sort={sort}"
        while url:
            body = web.get(url).json()
            pages.append(body)
            url = body["next"] and f"/d/b.com/backlinks.json?n=10&sort={sort}&after={body['next']}"
        rows = [(r["source_url"], r["target_url"], r["anchor"]) for p in pages for r in p["rows"]]
        assert len(rows) == len(set(rows)) == pages[0]["total"] == len(exported) > 10
        if sort == "newest":
            assert rows == [(r["source_url"], r["target_url"], r["anchor"]) for r in exported]
        back = web.get(f"/d/b.com/backlinks.json?n=10&sort={sort}&before={pages[-1]['previous']}").json()
        assert back["rows"] == pages[-2]["rows"]
    html = web.get("/d/b.com/backlinks?n=10")
    assert 'rel="next"' in html.text and 'rel="prev"' not in html.text


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/d/b.com/backlinks?sort=anchor", "sort"),
        ("/d/b.com/backlinks?n=1000000000", "n"),
        ("/d/b.com/backlinks?n=abc", "n"),
        ("/d/b.com/backlinks?since=yesterday", "since"),
        ("/d/b.com/new?until=2024-13-45", "until"),
        ("/d/b.com/backlinks?type=banner", "type"),
        ("/d/b.com/backlinks?follow=maybe", "follow"),
        ("/d/b.com/backlinks?state=zombie", "state"),
        ("/d/b.com/referring-domains?sort=authority", "sort"),
        ("/d/b.com/backlinks?after=W10.0000000000000000", "after"),
        ("/compare?d=a.com&d=b.com&d=c.com&d=d.com&d=e.com&d=f.com", "d"),
        ("/intersect?c=b.com&min=x", "min"),
        ("/page?url=javascript:alert(1)", "url"),
        ("/search?q=", "q"),
    ],
)
def test_bad_parameters_get_a_400_naming_the_parameter(small, url, parameter):
    web = client(small[0])
    answer = web.get(
        url.replace("?", ".json?", 1) if url.startswith("/d/") else url, headers={"accept": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json()["parameter"] == parameter and parameter in answer.json()["error"]
    page_ = web.get(url)
    assert page_.status_code == 400 and f"parameter &#39;{parameter}&#39;" in page_.text


def test_an_edited_page_token_or_one_from_another_sort_is_refused(small):
    web = client(small[0])
    token = web.get("/d/b.com/backlinks.json?n=10").json()["next"]
    payload, check = token.split(".")
    edited = ("A" if payload[0] != "A" else "B") + payload[1:]
    for url in (f"?n=10&after={edited}.{check}", f"?n=10&after={token}&sort=oldest", f"?n=10&before={token}x"):
        answer = web.get(f"/d/b.com/backlinks.json{url}")
        assert answer.status_code == 400 and answer.json()["parameter"] in ("after", "before"), url


def test_an_unknown_domain_or_page_is_a_404(small):
    web = client(small[0])
    assert web.get("/d/nowhere.org").status_code == 404
    assert "no profile for nowhere.org" in web.get("/d/nowhere.org/backlinks.json").json()["error"]
    assert web.get("/d/b.com/bogus").status_code == 404
    assert web.get("/d/b.com/risk.csv").status_code == 404


def test_a_domain_typed_as_a_url_or_host_goes_to_its_registered_domain(small):
    web = client(small[0])
    assert web.get("/search?q=HTTPS://WWW.B.com/x", follow_redirects=False).headers["location"] == "/d/b.com"
    moved = web.get("/d/WWW.B.COM/backlinks?n=10", follow_redirects=False)
    assert moved.status_code == 307 and moved.headers["location"] == "/d/b.com/backlinks?n=10"


def test_no_request_writes_to_the_database(small):
    db, _ = small

    def contents():
        return {
            name: list(db[name].find({}, sort=[("_id", 1)])) for name in (*COLLECTIONS, *db.list_collection_names())
        }

    before = contents()
    web = client(db)
    for view in VIEWS:
        for suffix in ("", ".json"):
            web.get(f"/d/b.com{view}{suffix}" if view else f"/d/b.com{suffix}")
    for url in ("/", "/index.json", "/d/b.com/backlinks.csv", "/d/b.com/anchors.jsonl", "/d/b.com/disavow.txt",
                "/compare?d=a.com&d=b.com", "/intersect?c=a.com&c=b.com&min=1", "/page?url=http://b.com/",
                "/d/b.com/backlinks?sort=bogus", "/d/WWW.b.com"):  # fmt: skip
        web.get(url)
    assert contents() == before


def test_crawled_text_is_escaped_and_only_web_urls_become_links(hostile):
    db, _ = hostile
    web = client(db)
    pages = [web.get(url) for url in ("/d/b.com/backlinks", "/d/b.com/anchors", "/d/evil.com/outgoing",
                                      "/d/b.com/referring-domains", "/page?url=http://b.com/")]  # fmt: skip
    text = "".join(p.text for p in pages)
    assert all(p.status_code == 200 for p in pages)
    assert "<script" not in text and "<img" not in text and 'onerror="' not in text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in text
    assert "[link=https://evil.example]click[/link]" in text
    assert 'href="javascript:' not in text.lower() and "javascript:alert(document.cookie)//" in text
    external = [chunk for chunk in text.split("<a ")[1:] if chunk.startswith('href="http')]
    assert external and all('rel="noopener noreferrer nofollow"' in chunk.split(">")[0] for chunk in external)
    policy = pages[0].headers["content-security-policy"]
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy and "script-src" not in policy
    assert pages[0].headers["x-content-type-options"] == "nosniff"
    exported = web.get("/d/b.com/backlinks.csv").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in exported and ",=HYPERLINK" not in exported


def test_a_token_is_required_on_every_request_when_set(small):
    web = client(small[0], token="s3cret-token")
    assert web.get("/").status_code == 401
    assert web.get("/d/b.com.json").status_code == 401
    assert web.get("/", headers={"authorization": "Bearer wrong"}).status_code == 401
    assert web.get("/?token=s3cret-tokeX").status_code == 401
    assert web.get("/", headers={"authorization": "Bearer s3cret-token"}).status_code == 200
    welcome = web.get("/d/b.com?token=s3cret-token&x=1", follow_redirects=False)
    assert welcome.status_code == 303 and welcome.headers["location"] == "/d/b.com?x=1"
    assert "httponly" in welcome.headers["set-cookie"].lower()
    assert web.get("/d/b.com").status_code == 200  # the cookie
    web.cookies.clear()
    assert web.get("/d/b.com").status_code == 401


def test_binding_beyond_loopback_without_a_token_is_refused_in_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "MONGO_URI": "mongomock://refused", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "linkcrawler", "serve", "--host", "0.0.0.0", "--port", "1"],
                            capture_output=True, text=True, timeout=60, env=env)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "without a token" in result.stderr and "--token" in result.stderr


def test_an_unreachable_mongodb_is_a_page_saying_so_and_the_server_keeps_answering():
    down = pymongo.MongoClient("mongodb://127.0.0.1:9/", serverSelectionTimeoutMS=300, connect=False)
    web = TestClient(create_app(Sources(down["x"], "mongodb://127.0.0.1:9/")))
    for _ in range(2):
        answer = web.get("/")
        assert answer.status_code == 503
        assert "MongoDB at mongodb://127.0.0.1:9/ did not answer" in answer.text and "--mongo-uri" in answer.text
    assert "did not answer" in web.get("/d/b.com.json").json()["error"]
    down.close()


def test_the_home_page_shows_the_crawl_from_redis_or_why_not(small, redis_client, redis_url):
    db, _ = small
    live = TestClient(create_app(Sources(db, "test", redis_client, redis_url))).get("/index.json").json()
    assert live["crawl"]["available"] and live["crawl"]["frontier"] == 0
    dead = connect_redis("redis://127.0.0.1:9/0", check=False, timeout=0.5, retries=0)
    shown = TestClient(create_app(Sources(db, "test", dead, "redis://127.0.0.1:9/0"))).get("/")
    assert shown.status_code == 200 and "Redis at redis://127.0.0.1:9/0 did not answer" in shown.text
    assert "no Redis configured" in client(db).get("/").text


def test_the_home_page_charts_the_pages_per_minute_the_workers_report(small, redis_client, redis_url):
    """A worker's heartbeat counts 42 pages in this minute; three minutes ago 17 were counted (an earlier beat)."""
    db, _ = small
    pages_key = keys.spider_key(keys.PAGES_PER_MINUTE_KEY, keys.SPIDER_NAME)
    registry = WorkerRegistry(redis_client, keys.spider_key(keys.WORKERS_KEY, keys.SPIDER_NAME), "w1", pages_key)
    while time.time() % 60 > 55:  # the beat and the page in the same minute
        time.sleep(0.5)
    registry.beat(time.time(), 42)
    minute = minute_of(time.time())
    redis_client.hset(pages_key, str(minute - 3), 17)
    web = TestClient(create_app(Sources(db, "test", redis_client, redis_url)))

    crawl = web.get("/index.json").json()["crawl"]
    assert crawl["live_workers"] == 1 and crawl["pages_this_minute"] == 42
    counted = [entry["pages"] for entry in crawl["pages_per_minute"]]
    assert len(counted) == views.RATE_MINUTES and counted[-4:] == [17, 0, 0, 42]
    assert sum(counted) == 59
    shown = web.get("/").text
    chart = shown[shown.index("Pages per minute") :]
    assert "<svg" in chart and ">42</text>" in chart and ">17</text>" in chart


@pytest.fixture
def gap(cli_db):
    """24 referring domains r00.org … r23.org: each links to x.com once to three times (anchors of their own, every
    other one followed), most to y.com, every sixth to z.com; summarized. More than two pages of 10 of referring
    domains, anchors and intersect rows."""
    db, options = cli_db
    links, pages = [], []
    for i in range(24):
        source = f"http://r{i:02}.org/p"
        pages.append(page(source))
        links += [
            link(source, f"http://x.com/{n}", f"anchor {i} {n}", follow=(i + n) % 2 == 0) for n in range(i % 3 + 1)
        ]
        links += [link(source, "http://y.com/", "why")] if i % 4 != 3 else []
        links += [link(source, "http://z.com/", "zed")] if i % 6 == 0 else []
    db.links.insert_many(links)
    db.pages.insert_many(pages)
    upgrade(db)
    summarize(db, None)
    return db, options


def walk(web: TestClient, path: str) -> list[dict]:
    """Every page of a table's JSON twin, 10 rows a page, from the first through each page's next token."""
    twin = path.replace("?", ".json?", 1) if "?" in path else f"{path}.json"
    first = f"{twin}{'&' if '?' in twin else '?'}n=10"
    pages, url = [], first
    while url:
        body = web.get(url).json()
        pages.append(body)
        url = body["next"] and f"{first}&after={body['next']}"
    assert len(pages) >= 2, path
    back = web.get(f"{first}&before={pages[-1]['previous']}").json()
    assert back["rows"] == pages[-2]["rows"] and bool(back["previous"]) == (len(pages) > 2), path
    return pages


def jsonl(response) -> list[dict]:
    assert response.status_code == 200, response.text[:300]
    return [json.loads(line) for line in response.text.splitlines()]


def test_anchors_and_intersect_page_through_exactly_the_rows_of_their_export(gap):
    db, options = gap
    web = client(db)
    pages = walk(web, "/d/x.com/anchors")
    rows = [row for p in pages for row in p["rows"]]
    exported = jsonl(web.get("/d/x.com/anchors.jsonl"))
    assert json.loads(json.dumps(rows)) == exported and len(exported) == pages[0]["total"] == 48
    filtered = walk(web, "/d/x.com/anchors?follow=follow")
    assert [row for p in filtered for row in p["rows"]] == jsonl(web.get("/d/x.com/anchors.jsonl?follow=follow"))
    assert filtered[0]["total"] == 24

    question = "/intersect?c=x.com&c=Y.com&not=z.com&min=1"
    pages = walk(web, question)
    rows = [row for p in pages for row in p["rows"]]
    expected = cli_json("intersect", "x.com", "y.com", "--not", "z.com", "--min", "1", "--limit", "0", "--json",
                        *options)  # fmt: skip
    assert rows == expected and len(expected) == pages[0]["total"] == 20
    assert jsonl(web.get(question.replace("?", ".jsonl?"))) == expected


def test_the_intersect_csv_is_what_linkcrawler_intersect_writes(gap):
    db, options = gap
    served = client(db).get("/intersect.csv?c=x.com&c=y.com&not=z.com")
    assert served.status_code == 200 and 'filename="intersect.csv"' in served.headers["content-disposition"]
    printed = CliRunner().invoke(
        cli, ["intersect", "x.com", "y.com", "--not", "z.com", "--limit", "0", "--csv", *options]
    )
    assert printed.exit_code == 0, printed.output
    table = list(csv.reader(io.StringIO(served.content.decode("utf-8-sig"))))
    assert table == list(csv.reader(io.StringIO(printed.stdout))) and len(table) == 15


@pytest.mark.parametrize("sort", ["links", "domain", "dofollow"])
def test_referring_domains_page_through_every_row_once_in_each_sort(gap, sort):
    db, _ = gap
    web = client(db)
    rows = [row for p in walk(web, f"/d/x.com/referring-domains?sort={sort}") for row in p["rows"]]
    key = {"links": lambda r: (-r["links"], r["domain"]), "domain": lambda r: r["domain"],
           "dofollow": lambda r: (-r["dofollow"], r["domain"])}[sort]  # fmt: skip
    assert rows == sorted(rows, key=key) and len({r["domain"] for r in rows}) == len(rows) == 24
    exported = {row["domain"]: row["links"] for row in jsonl(web.get("/d/x.com/referring-domains.jsonl"))}
    assert {row["domain"]: row["links"] for row in rows} == exported


def test_the_next_page_link_of_the_intersect_keeps_every_competitor(gap):
    html = client(gap[0]).get("/intersect?c=x.com&c=y.com&not=z.com&min=1&n=10").text
    pager = html[html.index('<nav class="pager">') :]
    assert 'href="?c=x.com&amp;c=y.com&amp;not=z.com&amp;min=1&amp;n=10&amp;after=' in pager
    assert 'rel="next"' in pager and "/intersect.csv?c=x.com&amp;c=y.com&amp;not=z.com" in html


class TimingOut:
    """A collection whose every read ends as MongoDB ends one that ran out of time."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str):
        def read(*args, **kwargs):
            raise self.error

        return read


class SlowDatabase:
    """A database in which the collections named are `TimingOut`."""

    def __init__(self, db, slow: tuple[str, ...], error: Exception) -> None:
        self.db, self.slow, self.error = db, slow, error

    def __getitem__(self, name: str):
        return TimingOut(self.error) if name in self.slow else self.db[name]


TIMEOUTS = [
    pymongo.errors.ExecutionTimeout("operation exceeded time limit", 50, {"code": 50}),
    pymongo.errors.NetworkTimeout("127.0.0.1:27017: timed out"),
]


@pytest.mark.parametrize("error", TIMEOUTS, ids=["ExecutionTimeout", "NetworkTimeout"])
@pytest.mark.parametrize(
    ("path", "slow"),
    [
        ("/", "domain_profiles"),
        ("/d/b.com", "domain_profiles"),
        ("/d/b.com/backlinks", "links"),
        ("/d/b.com/backlinks.csv", "links"),
        ("/d/b.com/referring-domains", "referring_domains"),
        ("/d/b.com/anchors", "links"),
        ("/d/b.com/anchors.jsonl", "links"),
        ("/d/b.com/lost", "links"),
        ("/page?url=http://b.com/", "links"),
        ("/intersect?c=a.com&c=b.com&min=1", "links"),
        ("/intersect.csv?c=a.com&c=b.com&min=1", "links"),
    ],
)
def test_a_query_stopped_at_the_time_limit_is_a_504_page_naming_it(small, path, slow, error):
    web = TestClient(create_app(Sources(SlowDatabase(small[0], (slow,), error), "test"), query_seconds=2.5))
    page_ = web.get(path)
    assert page_.status_code == 504 and "text/html" in page_.headers["content-type"]
    assert "Query time limit" in page_.text and "time limit of 2.5 s (maxTimeMS)" in page_.text
    assert "--query-timeout" in page_.text
    twin = web.get(path, headers={"accept": "application/json"})
    assert twin.status_code == 504 and "time limit of 2.5 s" in twin.json()["error"]


def test_a_server_that_cannot_be_selected_is_mongodb_unreachable_not_a_slow_query(small):
    lost = pymongo.errors.ServerSelectionTimeoutError("127.0.0.1:27017: [Errno 111] Connection refused")
    web = TestClient(create_app(Sources(SlowDatabase(small[0], ("links",), lost), "mongodb://127.0.0.1:27017/")))
    answer = web.get("/d/b.com/backlinks")
    assert answer.status_code == 503 and "MongoDB unreachable" in answer.text
    assert "MongoDB at mongodb://127.0.0.1:27017/ did not answer" in answer.text
