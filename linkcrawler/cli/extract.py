"""`linkcrawler extract FILE_OR_URL --base-url URL [--json]`: the links the crawler would store for one document.

The tool for when a number looks wrong: it runs the crawler's own extraction
and storage filter on one document. Reading a file sends no request; a URL is
fetched only when its address passes the same network policy as the crawler
(`CRAWL_NETWORKS`, public addresses by default).
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from linkcrawler.cli.app import app
from linkcrawler.envsettings import env_list
from linkcrawler.errors import UserError
from linkcrawler.extract import Extractor
from linkcrawler.items import PageItem
from linkcrawler.netpolicy import address_allowed, parse_networks
from linkcrawler.records import link_documents

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
FIELDS = (
    "source_url", "target_url", "target_host", "target_domain", "anchor", "link_type",
    "nofollow", "ugc", "sponsored", "follow", "position",
)  # fmt: skip


def _read_url(url: str) -> tuple[bytes, dict[str, str], str]:
    """Body, headers and final URL of `url`, fetched only if its address is allowed."""
    host = urllib.request.urlparse(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError as exc:
        raise UserError(f"cannot resolve {host!r}: {exc}") from None
    networks = parse_networks(env_list("CRAWL_NETWORKS", []))
    refused = sorted(a for a in addresses if not address_allowed(a, networks))
    if refused:
        raise UserError(f"{host} resolves to {', '.join(refused)}, which CRAWL_NETWORKS does not allow")
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.read(MAX_DOCUMENT_BYTES), dict(response.headers.items()), response.url
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise UserError(f"cannot fetch {url}: {exc}") from None


def _read_file(path: Path) -> bytes:
    try:
        with path.open("rb") as document:
            return document.read(MAX_DOCUMENT_BYTES)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None


@app.command("extract")
def extract(
    source: Annotated[str, typer.Argument(help="An HTML file, or an http(s) URL to fetch.")],
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="The document's URL (required for a file).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per link.")] = False,
    include_internal: Annotated[
        bool, typer.Option("--all", help="Internal links too (not stored by default).")
    ] = False,
) -> None:
    """Print the link records the crawler would store for one document."""
    is_url = source.startswith(("http://", "https://"))
    if is_url:
        body, headers, final_url = _read_url(source)
        base_url = base_url or final_url
    else:
        if not base_url:
            raise UserError("--base-url is required for a file: the URL the document was served from")
        body, headers = _read_file(Path(source)), {}
    extractor = Extractor()
    if extractor.normalize_url(base_url, base_url) is None:
        raise UserError(f"--base-url {base_url!r} is not an absolute http(s) URL")
    page = extractor.extract(body, base_url, headers)
    item = PageItem(url=page.url, fetched_at=datetime.now(UTC), links=page.links)
    records = [{f: doc[f] for f in FIELDS} for doc in link_documents(item, store_internal=include_internal)]
    if as_json:
        for record in records:
            typer.echo(json.dumps(record, ensure_ascii=False))
        return
    _print_table(records, page.url)


def _print_table(records: list[dict], url: str) -> None:
    table = Table(title=f"{len(records)} links from {url}")
    for name in ("target_url", "anchor", "link_type", "follow", "position"):
        table.add_column(name)
    for r in records:
        table.add_row(r["target_url"], r["anchor"], r["link_type"], str(r["follow"]), r["position"])
    Console().print(table)
