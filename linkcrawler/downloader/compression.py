"""Scrapy's decompression, with a body that inflates too far recorded instead of vanishing.

A compressed body that inflates past `DOWNLOAD_MAXSIZE` makes Scrapy's
`HttpCompressionMiddleware` raise `IgnoreRequest`, which a spider cannot tell
from a robots.txt refusal, so the page would vanish without a record.
`HttpCompressionMiddleware` here raises `ResponseTooLarge` instead, and the
page is recorded with that error.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware as ScrapyHttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response


class ResponseTooLarge(Exception):
    """A response body (after decompression) over `DOWNLOAD_MAXSIZE`."""


class HttpCompressionMiddleware(ScrapyHttpCompressionMiddleware):
    """Scrapy's, with a body that inflates past `DOWNLOAD_MAXSIZE` failing as `ResponseTooLarge`.

    Replaces `scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware`
    at the same order (590); reads the same settings (`DOWNLOAD_MAXSIZE`, `DOWNLOAD_WARNSIZE`).
    """

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        try:
            return super().process_response(request, response)
        except IgnoreRequest as exc:
            raise ResponseTooLarge(str(exc)) from exc
