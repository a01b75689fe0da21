"""What a user may type for a domain: a URL or a host, in any case, mapped to the registered domain."""

from __future__ import annotations

from urllib.parse import urlsplit

from linkcrawler.errors import UserError
from linkcrawler.urls import registered_domain


def domain_of(text: str) -> str:
    """`https://WWW.Example.co.uk/page` -> `example.co.uk`; a bare host or domain works too."""
    value = text.strip()
    host = urlsplit(value if "://" in value else f"//{value}").hostname or ""
    host = host.strip(".").lower()
    if not host:
        raise UserError(f"{text!r} is not a domain or URL; give one like example.com or https://example.com/")
    return registered_domain(host)
