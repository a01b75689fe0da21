"""Scrapy internals (written against Scrapy 2.19).

- `ExecutionEngine._slot.nextcall`: Scrapy has no public call to make an idle
  engine ask its scheduler for requests now; its own `engine.crawl` schedules
  this call after queueing a request.
- `RobotsTxtMiddleware._parsers`: the per-netloc parser, or the Deferred of a
  robots.txt still downloading, which our middleware hands to every waiting
  request (see `linkcrawler.downloader.robots`).
- `RobotsTxtMiddleware._robotstxt_useragent` / `_default_useragent`: the user
  agent robots.txt rules are matched against, as Scrapy chooses it.
- `HTTP11DownloadHandler._pool._factory` and the protocol classes it builds
  (`_LenientHTTP11ClientFactory`, `_LenientHTTP11ClientProtocol`, whose
  `request` leaves the response parser in `_parser`): the one place where a
  response's header lines can be counted as they arrive (see
  `linkcrawler.downloader.headers`); Scrapy swaps in its own parser class the
  same way.
- `StatsCollector.__getattribute__`: Scrapy wraps every stats method, at
  every attribute access of the collector (its own `_stats` included), to
  warn of a `spider` argument; 2.9 us an `inc_value` where the call itself
  takes 0.13, about 2% of a worker's CPU (`bench/crawl.py`). The project's
  code passes none, so `StatsCollector` takes attributes the plain way.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.core.downloader.handlers import http11
from scrapy.statscollectors import MemoryStatsCollector

logger = logging.getLogger(__name__)

LenientHTTP11ClientFactory = http11._LenientHTTP11ClientFactory
LenientHTTP11ClientProtocol = http11._LenientHTTP11ClientProtocol


class StatsCollector(MemoryStatsCollector):
    """`STATS_CLASS`: Scrapy's in-memory stats, without the per-access wrapping that warns of a `spider` argument."""

    __getattribute__ = object.__getattribute__


def wake_engine(engine: Any) -> bool:
    """Have an open engine ask the scheduler for requests on its next turn; False (logged) if Scrapy moved it."""
    slot = getattr(engine, "_slot", None)
    nextcall = getattr(slot, "nextcall", None)
    if nextcall is None:
        if slot is not None:
            logger.warning("Scrapy's ExecutionEngine._slot.nextcall moved: idle workers poll every 5 s instead")
        return False
    nextcall.schedule()
    return True


def pending_robots_parser(middleware: Any, netloc: str) -> Any:
    """The robots.txt parser of `netloc`, the Deferred of one downloading, or None."""
    return middleware._parsers.get(netloc)


def robots_user_agent(middleware: Any, request: Any) -> Any:
    """The user agent robots.txt rules apply to for `request`: `ROBOTSTXT_USER_AGENT`, else the request's."""
    return middleware._robotstxt_useragent or request.headers.get(b"User-Agent", middleware._default_useragent)
