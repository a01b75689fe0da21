"""`linkcrawler extract FILE_OR_URL --base-url URL [--json] [--all]`: the links the crawler would store.

The tool for when a number looks wrong: it runs the crawler's own extraction
and storage filter on one document and prints the link records, external
ones only unless `--all` is given. Reading a file sends no request and treats
the file as HTML (unless it is binary). A URL is fetched as `seed
--sitemaps` fetches (`linkcrawler.downloader.fetch`): under the crawler's
network policy (`CRAWL_HOSTS`, `CRAWL_NETWORKS`; public addresses only by
default) for it and every redirect, connecting to the address that was
checked, never through a proxy, within `DOWNLOAD_TIMEOUT`.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from linkcrawler import config
from linkcrawler.cli.app import app
from linkcrawler.downloader.fetch import FetchError, PolicyFetcher
from linkcrawler.errors import UserError
from linkcrawler.extract.document import is_html
from linkcrawler.extract.items import PageItem
from linkcrawler.extract.page import Extractor
from linkcrawler.profile import jsonout
from linkcrawler.store.documents import link_documents
from linkcrawler.terminal import DataConsole

FIELDS = (
    "source_url", "target_url", "target_host", "target_domain", "anchor", "link_type",
    "nofollow", "ugc", "sponsored", "follow", "position",
)  # fmt: skip


def _fetcher(settings: Any, limit: int) -> PolicyFetcher:
    """The sitemaps' fetcher, keeping `limit` bytes and one more (to see the document was cut, as a worker does)."""
    try:
        return PolicyFetcher.from_settings(settings, limit + 1, cut=True)
    except ValueError as exc:
        raise UserError(f"{exc}; give comma-separated CIDR networks") from None


def _read_url(url: str, fetcher: PolicyFetcher) -> tuple[bytes, dict[str, str], str]:
    """Body, headers, final URL."""
    try:
        fetched = fetcher.get(url)
    except FetchError as exc:
        raise UserError(f"cannot fetch {url}: {exc}") from None
    if fetched.status >= 400:
        raise UserError(f"cannot fetch {url}: HTTP {fetched.status}")
    return fetched.body, fetched.headers, fetched.url


def _read_file(path: Path, limit: int) -> bytes:
    try:
        with path.open("rb") as document:
            return document.read(limit + 1)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None


@app.command("extract")
def extract(
    source: Annotated[str, typer.Argument(help="An HTML file, or an http(s) URL to fetch.")],
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="The URL the document was served from (required for a file)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per link, one per line.")] = False,
    include_internal: Annotated[
        bool, typer.Option("--all", help="Internal links too (same registered domain; not stored by default).")
    ] = False,
) -> None:
    """Print the link records the crawler would store for one document, under the same settings a worker reads."""
    settings = config.project_settings()
    extractor = Extractor.from_settings(settings)
    limit = extractor.max_document_length
    if source.lower().startswith(("http://", "https://")):
        body, headers, final_url = _read_url(source, _fetcher(settings, limit))
        base_url = base_url or final_url
    else:
        if not base_url:
            raise UserError("--base-url is required for a file: give the URL the document was served from")
        body, headers = _read_file(Path(source), limit), {"Content-Type": "text/html"}
    if extractor.normalize_url(base_url, base_url) is None:
        raise UserError(f"--base-url {base_url!r} is not an absolute http(s) URL")
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    parsed = is_html(content_type, body[:1024])
    page = extractor.extract(body if parsed else b"", base_url, headers)
    item = PageItem(url=page.url, fetched_at=datetime.now(UTC), links=page.links)
    records = [
        {f: doc[f] for f in FIELDS}
        for doc in link_documents(item, store_internal=include_internal or config.get(settings, "STORE_INTERNAL_LINKS"))
    ]
    if as_json:
        for record in records:
            typer.echo(jsonout.dumps(record))
        return
    note = "" if parsed else f" (not parsed: {content_type or 'unknown type'} is not HTML)"
    _print_table(records, page.url + note, page.robots, page.skipped)


def _print_table(records: list[dict[str, Any]], title: str, robots: list[str], skipped: Counter[str]) -> None:
    table = Table(title=f"{len(records)} links from {title}")
    for name in ("target_url", "anchor", "link_type", "rel", "follow", "position"):
        table.add_column(name)
    for r in records:
        rel = " ".join(flag for flag in ("nofollow", "ugc", "sponsored") if r[flag])
        table.add_row(r["target_url"], r["anchor"], r["link_type"], rel, str(r["follow"]), r["position"])
    console = DataConsole()
    console.print(table)
    if robots:
        console.print(f"robots: {', '.join(robots)}")
    if skipped:
        console.print("skipped: " + ", ".join(f"{kind} {count}" for kind, count in sorted(skipped.items())))
