"""Scrapy's log formatter, with its per-page DEBUG messages dropped when the log level would discard them.

Scrapy logs a DEBUG line for every response (`crawled`) and every item
(`scraped`), and leaves the root logger at NOTSET, so that only its handler,
at `LOG_LEVEL`, discards them: each is still made into a log record first,
about 2% of a worker's CPU on the bench web (`bench/crawl.py`). Returning
None is Scrapy's way to skip a message; with `LOG_LEVEL=DEBUG` both come
as before.

Settings read here: `LOG_LEVEL`.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.logformatter import LogFormatter, LogFormatterResult


class LevelLogFormatter(LogFormatter):
    """`LOG_FORMATTER`: Scrapy's, its `crawled` and `scraped` messages made only when they would be written."""

    def __init__(self, level: int) -> None:
        self.level = level

    @classmethod
    def from_crawler(cls, crawler: Any) -> LevelLogFormatter:
        level = crawler.settings.get("LOG_LEVEL")
        if not isinstance(level, int):
            level = logging.getLevelNamesMapping().get(str(level).upper(), logging.NOTSET)
        return cls(level)

    def crawled(self, *args: Any, **kwargs: Any) -> LogFormatterResult | None:
        return super().crawled(*args, **kwargs) if self.level <= logging.DEBUG else None

    def scraped(self, *args: Any, **kwargs: Any) -> LogFormatterResult | None:
        return super().scraped(*args, **kwargs) if self.level <= logging.DEBUG else None
