"""Remembering where each redirect hop was served from.

Scrapy's RedirectMiddleware keeps the URLs of a redirect chain but not the
addresses they came from, and a redirect link's referring IP is the address
of the redirecting host, not of the final page. This downloader middleware
sits before RedirectMiddleware on the way back (higher order number), notes
each response's IP in `meta["redirect_ips"]`, and the redirected request
inherits that meta.
"""

from __future__ import annotations

from typing import Any


class RedirectIpMiddleware:
    """`DOWNLOADER_MIDDLEWARES = {"linkcrawler.redirects.RedirectIpMiddleware": 650}`."""

    def process_response(self, request: Any, response: Any) -> Any:
        if 300 <= response.status < 400:
            ip = response.ip_address
            request.meta["redirect_ips"] = [*request.meta.get("redirect_ips", ()), str(ip) if ip else None]
        return response
