"""Who may ask, and what every answer carries.

A token (`--token` / `EXPLORER_TOKEN`) is required to bind anything but
loopback, and once set it is checked on every request with a constant-time
comparison: `Authorization: Bearer TOKEN`, the cookie a first visit with
`?token=TOKEN` sets (HttpOnly, SameSite=Strict), or that query parameter.
Every response carries a Content-Security-Policy without inline scripts (the
explorer has no JavaScript at all) and headers against framing and sniffing.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from linkcrawler.errors import UserError

COOKIE = "explorer_token"
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def check_bind(host: str, token: str | None) -> None:
    """Refuse, in one line, to listen beyond loopback without a token."""
    if not token and not is_loopback(host):
        raise UserError(
            f"refusing to listen on {host} without a token: anyone who reaches it could read the index; "
            "pass --token or set EXPLORER_TOKEN (or bind 127.0.0.1)"
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Guard(BaseHTTPMiddleware):
    """The token check (when a token is set) and the security headers, on every response."""

    def __init__(self, app, token: str | None) -> None:
        super().__init__(app)
        self.token = token

    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = self._refused(request) if self.token else None
        if response is None and self.token and "token" in request.query_params:
            response = self._welcome(request)
        if response is None:
            response = await call_next(request)
        response.headers.update(HEADERS)
        return response

    def _matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), str(self.token).encode())

    def _refused(self, request: Request) -> Response | None:
        bearer = request.headers.get("authorization", "")
        offered = [request.cookies.get(COOKIE), request.query_params.get("token")]
        if bearer.lower().startswith("bearer "):
            offered.append(bearer[7:].strip())
        if any(self._matches(given) for given in offered):
            return None
        return PlainTextResponse(
            "this explorer needs its token: open it once as /?token=TOKEN, or send 'Authorization: Bearer TOKEN'\n",
            status_code=401,
        )

    def _welcome(self, request: Request) -> Response:
        """A valid `?token=`: keep it in a cookie and drop it from the address bar (and from the history)."""
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        response = RedirectResponse(request.url.path + (f"?{urlencode(kept)}" if kept else ""), 303)
        response.set_cookie(COOKIE, str(self.token), httponly=True, samesite="strict")
        return response
