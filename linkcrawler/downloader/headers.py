"""Scrapy's HTTP download handler, with a response's headers bounded as its body is.

Scrapy bounds a body (`DOWNLOAD_MAXSIZE`) but not the status line and
headers before it. Twisted's parser refuses a header line over 16 KiB, but
a header folded over continuation lines is one header however many lines it
has: a server could dribble hundreds of MB of it into a worker's memory,
stopped only by `DOWNLOAD_TIMEOUT`. Here a response whose status line and
headers pass `DOWNLOAD_MAX_HEADER_BYTES` (default 256 KiB, what Chrome
takes) fails the moment they do, its connection closed: the page is recorded
with `ResponseHeadersTooLarge` (not retried: the server would send the same
again), counted as `downloader/response_headers_too_large` and logged once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.exceptions import DownloadFailedError
from scrapy.http import Response

from linkcrawler import config
from linkcrawler.internals.scrapy_private import LenientHTTP11ClientFactory, LenientHTTP11ClientProtocol

logger = logging.getLogger(__name__)

TOO_LARGE_STAT = "downloader/response_headers_too_large"


class ResponseHeadersTooLarge(Exception):
    """A response whose status line and headers passed `DOWNLOAD_MAX_HEADER_BYTES`."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the response's headers passed {limit:,} bytes (DOWNLOAD_MAX_HEADER_BYTES)")


class HeaderCappedDownloadHandler(HTTP11DownloadHandler):
    """`DOWNLOAD_HANDLERS` for http and https: Scrapy's, its connections built by `_CappedFactory`."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        limit = config.get(crawler.settings, "DOWNLOAD_MAX_HEADER_BYTES")
        self._pool._factory = partial(_CappedFactory, max_header_bytes=limit)

    async def download_request(self, request: Any) -> Response:
        try:
            return await super().download_request(request)
        except DownloadFailedError as exc:
            too_large = _headers_too_large(exc)
            if too_large is None:
                raise
            self._crawler.stats.inc_value(TOO_LARGE_STAT)
            logger.warning("%s: %s", request.url, too_large)
            raise too_large from None


def _headers_too_large(exc: DownloadFailedError) -> ResponseHeadersTooLarge | None:
    """The cap's exception inside Scrapy's wrapping of Twisted's `ResponseFailed`, if it is why the download failed."""
    for reason in getattr(exc.__cause__, "reasons", ()):
        if isinstance(reason.value, ResponseHeadersTooLarge):
            return reason.value
    return None


class _CappedFactory(LenientHTTP11ClientFactory):
    def __init__(self, quiescentCallback: Any, metadata: Any, max_header_bytes: int) -> None:
        super().__init__(quiescentCallback, metadata)
        self.max_header_bytes = max_header_bytes

    def buildProtocol(self, addr: Any) -> _CappedProtocol:
        return _CappedProtocol(self._quiescentCallback, self.max_header_bytes)


class _CappedProtocol(LenientHTTP11ClientProtocol):
    """Every response parser it makes counts the header lines it receives.

    A parser takes the status line and headers line by line
    (`lineReceived`), then the body as raw data; an exception from it makes
    the protocol close the connection and fail the response.
    """

    def __init__(self, quiescentCallback: Any, max_header_bytes: int) -> None:
        super().__init__(quiescentCallback)
        self.max_header_bytes = max_header_bytes

    def request(self, request: Any) -> Any:
        result = super().request(request)
        self._parser.lineReceived = _capped(self._parser.lineReceived, self.max_header_bytes)
        return result


def _capped(line_received: Callable[[bytes], None], limit: int) -> Callable[[bytes], None]:
    received = 0

    def count(line: bytes) -> None:
        nonlocal received
        received += len(line) + 1  # the line feed the parser strips
        if received > limit:
            raise ResponseHeadersTooLarge(limit)
        line_received(line)

    return count
