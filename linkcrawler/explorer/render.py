"""Answers in the format asked for: an HTML page, its JSON twin, an export file, or an error of either kind.

Templates are autoescaped (Jinja2): every crawled string (anchor, URL,
domain) is text, never markup. Only http(s) URLs become links, with
`rel="noopener noreferrer nofollow"`; anything else (`javascript:`, `data:`)
stays text. JSON goes through `jsonout` (ISO dates, controls escaped);
exports through `linkcrawler.export.formats` (formula-guarded CSV cells).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse

from linkcrawler.export import formats
from linkcrawler.profile import jsonout

FORMATS = ("json", "csv", "jsonl", "txt")
SPOOL_BYTES = 8 * 1024 * 1024
"""An export is written here before it is sent (then to disk beyond this), so a query that fails midway gives an
error page, never half a file."""

ENV = Environment(loader=PackageLoader("linkcrawler.explorer", "templates"), autoescape=select_autoescape(["html"]))


def split_format(name: str) -> tuple[str, str]:
    """`backlinks.json` -> (`backlinks`, `json`); no known suffix: HTML."""
    stem, _, suffix = name.rpartition(".")
    return (stem, suffix) if stem and suffix in FORMATS else (name, "html")


def wants_json(request: Request, fmt: str) -> bool:
    """The JSON twin: asked for by its path, or by an Accept header naming JSON and not HTML (which an error of
    an export honours too)."""
    accept = request.headers.get("accept", "")
    return fmt == "json" or ("application/json" in accept and "text/html" not in accept)


def with_params(request: Request, **changes: Any) -> str:
    """The current URL's query string with `changes` applied (None removes a parameter, and paging restarts);
    a repeated parameter (the intersect's competitors) keeps every value."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("after", "before", *changes)]
    added = [(k, str(v)) for k, v in changes.items() if v is not None and v != ""]
    return f"?{urlencode(kept + added)}" if kept or added else "?"


def is_web_url(value: Any) -> bool:
    return isinstance(value, str) and value.lower().startswith(("http://", "https://"))


def num(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value).lower()
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}" if isinstance(value, int | float) else str(value)


def day(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else ""


ENV.filters.update(num=num, day=day)
ENV.tests["web_url"] = is_web_url
ENV.globals["with_params"] = with_params


def page(request: Request, template: str, context: Mapping[str, Any], status: int = 200) -> HTMLResponse:
    html = ENV.get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status)


def json_response(data: Any, status: int = 200) -> Response:
    return Response(jsonout.dumps(data), status_code=status, media_type="application/json")


def answer(
    request: Request, fmt: str, template: str, data: Mapping[str, Any], extra: Mapping[str, Any] = ()
) -> Response:
    """The page, or its JSON twin: `data` is what both show; `extra` only the page needs (charts, links)."""
    if wants_json(request, fmt):
        return json_response(data)
    return page(request, template, {**data, **dict(extra)})


def chart(svg: str) -> Markup:
    """A chart drawn by `report_html` (which escapes every label) placed in a page as markup."""
    return Markup(svg)


def export(rows: Iterable[dict[str, Any]], columns: tuple[str, ...], fmt: str, filename: str) -> Response:
    """Rows as CSV (UTF-8 with BOM, as `linkcrawler export --output` writes it) or JSON lines, as a download."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (closed by _chunks when sent)
    text = io.TextIOWrapper(spool, encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="")
    formats.WRITERS[fmt](rows, columns, text)
    text.flush()
    spool.seek(0)
    media = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    headers = {"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'}
    return StreamingResponse(_chunks(text), media_type=media, headers=headers)


def _chunks(text: io.TextIOWrapper) -> Iterator[bytes]:
    with text:
        while chunk := text.buffer.read(64 * 1024):
            yield chunk
