"""What a user may type for a domain: a URL or a host, in any case, mapped to the registered domain."""

from __future__ import annotations

from linkcrawler.errors import UserError
from linkcrawler.extract.urls import normalize_seed, split_host


def domain_of(text: str) -> str:
    """`https://WWW.Example.co.uk/page` -> `example.co.uk`; a bare host or domain works too.

    The text goes through the crawler's own URL normalization (punycode,
    case, trailing dot), so it names a domain exactly as `links` stores it.
    """
    value = text.strip()
    url = normalize_seed(value if "://" in value else f"http://{value}/")
    domain = split_host(url)[1] if url else ""
    if not domain:
        raise UserError(f"{text!r} is not a domain or URL; give one like example.com or https://example.com/")
    return domain
