"""The Site Explorer in a real browser: Playwright drives Debian's chromium against `linkcrawler serve` started as
a subprocess on a synthetic web crawled twice (so new and lost links exist), read from a saved snapshot.

Without chromium these tests skip with one line saying how to get it (`.ci/run` installs it where it can)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from linkcrawler.cli.main import app as cli
from linkcrawler.local.synthweb import generate_web
from linkcrawler.profile.job import summarize
from linkcrawler.store.snapshot import save
from tests.conftest import two_crawl_runs
from tests.profile_data import link

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium")
SCREENSHOTS = os.environ.get("LINKCRAWLER_SCREENSHOTS_DIR", "").strip()
"""Where the screenshots go: the documentation's pictures (docs/explorer.md) are taken with it set to `docs` (each
run otherwise keeps its own in a temporary folder, and the repository is never written by a test)."""
HOSTILE = [
    "<script>window.pwned=1</script>",
    '<img src=x onerror="window.pwned=2">',
    "[link=https://evil.example]x[/link]",
]

if CHROMIUM is None:
    pytest.skip("no chromium: `apt-get install chromium` (Debian) runs the browser tests", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def served(redis_url, tmp_path_factory):
    """`linkcrawler serve` on the crawled web's snapshot, with the CLI options naming the same data."""
    folder = tmp_path_factory.mktemp("explorer") / "data"
    web = generate_web(seed=5, sites=12, pages_per_site=10)
    with two_crawl_runs(redis_url, "linkcrawler_explorer", web, lambda crawl: summarize(crawl.store.db)) as (crawl, _):
        db = crawl.store.db
        target = db.domain_profiles.find_one(sort=[("authority", -1)])["domain"]
        when = datetime.now(UTC)
        db.links.insert_many([link(f"http://evil.com/{i}", f"http://{target}/", anchor, first=when, last=when)
                              for i, anchor in enumerate(HOSTILE)])  # fmt: skip
        db.links.update_many({"source_domain": "evil.com"}, {"$set": {"live": True, "broken": False}})
        summarize(db, everything=True)
        save(db, folder)
        options = ["--mongo-uri", f"mongomock://{folder}", "--database", crawl.database]
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "linkcrawler", "serve", "--port", str(port), *options],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()
                time.sleep(0.3)
        yield {"base": f"http://127.0.0.1:{port}", "options": options, "hostile_target": target}
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def cli_json(*args: str):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def number(text: str) -> float:
    return float(text.replace(",", "").strip())


def test_click_from_home_to_a_domain_its_referring_domains_and_one_domains_links(served, page):
    page.goto(served["base"] + "/")
    first = page.locator("tbody tr").first
    domain = first.locator("td a").inner_text()
    stored = cli_json("profile", domain, "--json", *served["options"])
    assert number(first.locator("td").nth(2).inner_text()) == stored["backlinks"]["live"]
    first.locator("td a").click()
    assert page.locator("h1").inner_text() == domain
    cards = {c.locator("span").inner_text(): c.locator("b").inner_text() for c in page.locator(".card").all()}
    assert number(cards["Backlinks"]) == stored["backlinks"]["live"]
    assert number(cards["Referring domains"]) == stored["referring"]["domains"]
    assert number(cards["New"]) == stored["new"]["count"] and number(cards["Lost"]) == stored["lost"]["count"]
    page.get_by_role("link", name="Referring domains").first.click()
    assert number(page.locator(".total").inner_text()) == stored["referring"]["domains"]
    row = page.locator("tbody tr").first
    source, links = row.locator("td a").inner_text(), number(row.locator("td").nth(1).inner_text())
    row.locator("td a").click()
    assert number(page.locator(".total").inner_text()) == links
    assert f"source_domain={source}" in page.url
    page.go_back()
    assert "referring-domains" in page.url


def test_filter_sort_page_reload_and_back_find_the_same_rows(served, page):
    base = served["base"]
    page.goto(base + "/index.json")
    domain = json.loads(page.inner_text("body"))["profiles"][0]["_id"]
    page.goto(f"{base}/d/{domain}/backlinks")
    page.select_option("select[name=follow]", "nofollow")
    page.select_option("select[name=sort]", "oldest")
    page.click("form.filters button[type=submit]")
    assert "follow=nofollow" in page.url and "sort=oldest" in page.url
    total = number(page.locator(".total").inner_text())
    exported = cli_json("profile", domain, "--json", *served["options"])["backlinks"]["not_followed"]
    assert total == exported
    page.goto(f"{base}/d/{domain}/backlinks?n=10")
    first_rows = page.locator("tbody").inner_text()
    page.get_by_role("link", name="Next →").click()
    second_rows = page.locator("tbody").inner_text()
    assert second_rows != first_rows
    page.reload()
    assert page.locator("tbody").inner_text() == second_rows
    page.get_by_role("link", name="← Previous").click()
    assert page.locator("tbody").inner_text() == first_rows
    page.go_back()
    assert page.locator("tbody").inner_text() == second_rows


def test_export_these_rows_downloads_what_linkcrawler_export_writes(served, page, tmp_path):
    base = served["base"]
    page.goto(base + "/index.json")
    domain = json.loads(page.inner_text("body"))["profiles"][0]["_id"]
    page.goto(f"{base}/d/{domain}/backlinks?follow=follow")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    got = tmp_path / "got.csv"
    download.value.save_as(got)
    expected = tmp_path / "expected.csv"
    result = CliRunner().invoke(
        cli, ["export", "backlinks", domain, "--follow", "-o", str(expected), *served["options"]]
    )
    assert result.exit_code == 0, result.output
    assert got.read_bytes() == expected.read_bytes()


def test_hostile_anchors_show_literally_and_run_nothing(served, page):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{served['base']}/d/{served['hostile_target']}/backlinks?source_domain=evil.com")
    shown = page.locator("td.anchor").all_inner_texts()
    assert sorted(shown) == sorted(HOSTILE)
    assert page.evaluate("typeof window.pwned") == "undefined" and dialogs == []
    assert page.locator("main img, main script").count() == 0


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_of_home_overview_and_backlinks(served, browser, width, tmp_path):
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    context = browser.new_context(viewport={"width": width, "height": 900})
    shot = context.new_page()
    shot.goto(served["base"] + "/index.json")
    domain = json.loads(shot.inner_text("body"))["profiles"][0]["_id"]
    for name, path in (("home", "/"), ("overview", f"/d/{domain}"), ("backlinks", f"/d/{domain}/backlinks")):
        shot.goto(served["base"] + path)
        shot.screenshot(path=str(folder / f"explorer-{name}-{width}.png"), full_page=False)
        assert (folder / f"explorer-{name}-{width}.png").stat().st_size > 1000
    context.close()
