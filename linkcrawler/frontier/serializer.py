"""Request serialization for the Redis frontier: a page's URL and depth, or JSON, never pickle.

Most requests are pages to fetch, made by the spider's `page_request(url)`
for the links of a page (`linkcrawler.frontier.following`): the frontier
stores those as their depth and their URL without the scheme and site the
queue's key names already (`encode_page`), about 40 bytes where their JSON
took 270, and rebuilds them with the spider's `page_request` when popped;
their priority is the queue's score. A broad crawl keeps tens of millions
of them queued, so their size is the frontier's memory.

Any other request (a seed, a retry, a request a spider made itself) is
stored whole as JSON.

scrapy-redis pickles requests by default; a pickle written by one version of
Scrapy or Python may not load in another, and a frontier outlives upgrades.
`Request.to_dict()` holds bytes (body, headers) and tuples, which JSON lacks,
so they are tagged: `{"$b": base64}` for bytes and `{"$m": [[k, v], ...]}` for
mappings whose keys are not all strings. The module has the `dumps`/`loads`
pair that scrapy-redis's `SCHEDULER_SERIALIZER` setting expects; a request
is stored as `dumps(request.to_dict(spider=...))`, which is how scrapy-redis's
queues store one with this serializer, so a stored request reads the same
either way.
"""

from __future__ import annotations

import base64
import inspect
import json
import re
from typing import Any, NamedTuple

from scrapy import Request
from scrapy.utils.request import request_from_dict


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {"$m": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot put a {type(value).__name__} into the frontier: {value!r}")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "$b" in value:
            return base64.b64decode(value["$b"])
        if "$m" in value:
            return {_decode(k): _decode(v) for k, v in value["$m"]}
        return {k: _decode(v) for k, v in value.items()}
    return value


def dumps(obj: dict[str, Any]) -> bytes:
    return json.dumps(_encode(obj), separators=(",", ":")).encode()


def loads(data: bytes | str) -> dict[str, Any]:
    return _decode(json.loads(data))


def encode_request(request: Request, spider: SpiderMethods) -> bytes:
    """A request as the frontier stores it, its callback and errback named as methods of `spider`."""
    return dumps(request.to_dict(spider=spider))


def decode_request(data: bytes, spider: SpiderMethods) -> Request:
    """A stored request, its callback and errback the methods of `spider` they name."""
    return request_from_dict(loads(data), spider=spider)


PAGE_SCHEMES = {b"s": "https://", b"h": "http://"}
"""How a page's URL starts, by the letter after its depth: the scheme and the queue's site follow. `u`: the whole URL
follows (a URL on another host than the site, with POLITENESS_BY = domain)."""
_PAGE = re.compile(rb"([0-9]+)([shu])")


class Page(NamedTuple):
    """A page to fetch with the spider's `page_request`, at its depth in the crawl."""

    url: str
    depth: int


def encode_page(page: Page, site: str) -> bytes:
    """`page` as the queue of `site` stores it: `3s/path?query` for `https://SITE/path?query` at depth 3."""
    for letter, scheme in PAGE_SCHEMES.items():
        if page.url.startswith(scheme) and page.url.startswith(site, len(scheme)):
            return b"%d%s%s" % (page.depth, letter, page.url[len(scheme) + len(site) :].encode())
    return b"%du%s" % (page.depth, page.url.encode())


def decode_page(data: bytes, site: str) -> Page | None:
    """The page `encode_page` stored in the queue of `site`, or None for a request stored as JSON."""
    match = _PAGE.match(data)
    if match is None:
        return None
    rest = data[match.end() :].decode()
    letter = match.group(2)
    url = rest if letter == b"u" else PAGE_SCHEMES[letter] + site + rest
    return Page(url, int(match.group(1)))


class SpiderMethods:
    """A spider's bound methods and nothing else, to name a request's callbacks by and find them again.

    `Request.to_dict(spider=...)` names a request's callback and errback by
    listing every member of the object it is given, and a spider's members
    include properties (`logger` builds an adapter at each access): that
    search cost more than encoding the request. Names resolve back to the
    spider's own methods, so requests read the same either way.
    """

    def __init__(self, spider: Any) -> None:
        self.__dict__.update(inspect.getmembers(spider, inspect.ismethod))
