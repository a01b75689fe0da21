"""Item pipeline: a crawled page becomes the `links` and `pages` documents to store."""

from __future__ import annotations

from typing import Any

from linkcrawler import config
from linkcrawler.extract.items import PageItem
from linkcrawler.store.documents import page_records


class NormalizePipeline:
    """Turns each `PageItem` into `PageRecords` (see `linkcrawler.store.documents`).

    Settings read here:

    - `STORE_INTERNAL_LINKS` (bool, default False): also store links between
      pages of one registered domain (they are always followed, stored only
      when asked, with `internal: true`).

    Stats: `linkcrawler/links/found`, `linkcrawler/links/stored`, and
    `linkcrawler/skipped/<kind>` for every href extraction skipped (non-http
    schemes, malformed hosts, URLs over the length limit, ...).
    """

    def __init__(self, stats: Any, store_internal: bool) -> None:
        self.stats = stats
        self.store_internal = store_internal

    @classmethod
    def from_crawler(cls, crawler: Any) -> NormalizePipeline:
        return cls(crawler.stats, config.get(crawler.settings, "STORE_INTERNAL_LINKS"))

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, PageItem):
            return item
        records = page_records(item, store_internal=self.store_internal)
        self.stats.inc_value("linkcrawler/links/found", len(item.links))
        self.stats.inc_value("linkcrawler/links/stored", len(records.links))
        for kind, count in item.skipped.items():
            self.stats.inc_value(f"linkcrawler/skipped/{kind}", count)
        return records
