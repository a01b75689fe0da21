"""Pages as a worker stores them, for store and profile tests: a fetch turned into its `links` and `pages`
documents by the crawler's own extraction and mapping."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from linkcrawler import config
from linkcrawler.extract.items import PageItem
from linkcrawler.extract.page import Extractor
from linkcrawler.store.documents import page_records

Batch = tuple[list[dict[str, Any]], list[dict[str, Any]]]


def batch(url: str, when: datetime, body: str = "", *, status: int = 200, head: str = "",
          location: str | None = None) -> Batch:  # fmt: skip
    """The documents a worker stores for one fetch of `url`: its links and its page."""
    if status >= 300:
        item = PageItem(url=url, fetched_at=when, status=status, redirect_to=location, links=[])
    else:
        html = f"<html><head>{head}</head><body>{body}</body></html>"
        page = Extractor.from_settings(config.project_settings()).extract(html, url, {})
        item = PageItem(url=page.url, fetched_at=when, status=status, content_type="text/html", parsed=True,
                        canonical=page.canonical, robots=page.robots, links=page.links)  # fmt: skip
    records = page_records(item)
    return records.links, records.pages


def links_to(*targets: str) -> str:
    return "".join(f'<p><a href="{target}">to {target}</a></p>' for target in targets)
