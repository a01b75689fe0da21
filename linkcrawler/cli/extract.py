"""`linkcrawler extract FILE_OR_URL --base-url URL [--json] [--all]`: the links the crawler would store.

The tool for when a number looks wrong: it runs the crawler's own extraction
and storage filter on one document and prints the link records, external
ones only unless `--all` is given. Reading a file sends no request and treats
the file as HTML (unless it is binary). A URL is fetched only when its
address, and the address of every redirect it makes, passes the crawler's
network policy (`CRAWL_NETWORKS`; public addresses only by default).
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.table import Table

from linkcrawler import config
from linkcrawler.cli.app import app
from linkcrawler.downloader.netpolicy import Network, address_allowed, parse_networks
from linkcrawler.errors import UserError
from linkcrawler.extract.document import is_html
from linkcrawler.extract.items import PageItem
from linkcrawler.extract.page import Extractor
from linkcrawler.store.documents import link_documents

FETCH_TIMEOUT = 30
FIELDS = (
    "source_url", "target_url", "target_host", "target_domain", "anchor", "link_type",
    "nofollow", "ugc", "sponsored", "follow", "position",
)  # fmt: skip


def _networks(settings: Any) -> list[Network]:
    try:
        return parse_networks(config.get(settings, "CRAWL_NETWORKS"))
    except ValueError as exc:
        raise UserError(f"{exc}; give comma-separated CIDR networks") from None


def _check_address(url: str, networks: list[Network]) -> None:
    """Refuse `url` unless every address its host resolves to may be crawled."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError as exc:
        raise UserError(f"cannot resolve {host!r}: {exc}") from None
    refused = sorted(a for a in addresses if not address_allowed(a, networks))
    if refused:
        raise UserError(
            f"{host} resolves to {', '.join(refused)}, which CRAWL_NETWORKS does not allow"
            " (set CRAWL_NETWORKS, e.g. 127.0.0.0/8, to allow it)"
        )


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to an http(s) URL whose address passes the network policy."""

    def __init__(self, networks: list[Network]) -> None:
        self.networks = networks

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        if urlsplit(newurl).scheme not in ("http", "https"):
            raise UserError(f"{req.full_url} redirects to {newurl}, which is not an http(s) URL")
        _check_address(newurl, self.networks)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _read_url(url: str, networks: list[Network], limit: int) -> tuple[bytes, dict[str, str], str]:
    """Body (at most `limit` bytes, plus one to see it was cut), headers, final URL."""
    _check_address(url, networks)
    opener = urllib.request.build_opener(_CheckedRedirects(networks))
    try:
        with opener.open(url, timeout=FETCH_TIMEOUT) as response:
            body = response.read(limit + 1)
            return body, dict(response.headers.items()), response.url
    except urllib.error.HTTPError as exc:
        raise UserError(f"cannot fetch {url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise UserError(f"cannot fetch {url}: {getattr(exc, 'reason', exc)}") from None


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
        body, headers, final_url = _read_url(source, _networks(settings), limit)
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
            typer.echo(json.dumps(record, ensure_ascii=False))
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
    console = Console()
    console.print(table)
    if robots:
        console.print(f"robots: {', '.join(robots)}")
    if skipped:
        console.print("skipped: " + ", ".join(f"{kind} {count}" for kind, count in sorted(skipped.items())))
