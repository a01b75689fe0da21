"""Which hosts the crawl may follow links to: users' allowed and denied domain lists."""

from __future__ import annotations

from collections.abc import Iterable


def _clean(domains: Iterable[str]) -> tuple[str, ...]:
    return tuple(d.strip().lower().lstrip(".") for d in domains if d.strip())


class DomainFilter:
    """A host passes when it is, or is under, an allowed domain (if any) and under no denied one."""

    def __init__(self, allowed: Iterable[str] = (), denied: Iterable[str] = ()) -> None:
        self.allowed = _clean(allowed)
        self.denied = _clean(denied)

    def allows(self, host: str) -> bool:
        host = host.lower()
        if self.denied and _under_any(host, self.denied):
            return False
        return not self.allowed or _under_any(host, self.allowed)


def _under_any(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)
