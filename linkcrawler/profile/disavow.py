"""A disavow file from a profile's risk flags, in the format Google's disavow tool reads.

Google's rules (Search Console help, "Disavow links to your site"): a UTF-8
(or 7-bit ASCII) text file, one entry per line, `domain:example.com` for a
whole domain or a URL for one page, `#` starting a comment line, at most
100,000 lines and 2 MB, URLs at most 2,048 characters. Entries here are whole
referring domains (a flag is about a domain's pattern, not one page), each
preceded by a comment naming its flags and their evidence, so whoever uploads
the file can see why each line is there. Domains under an allow-listed domain
are never written. Nothing is uploaded: the file is for a person to review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linkcrawler.frontier.scope import DomainFilter
from linkcrawler.profile.risk import describe_flags

MAX_LINES = 100_000
MAX_BYTES = 2_000_000
MAX_URL_LENGTH = 2048


@dataclass
class DisavowFile:
    text: str
    entries: int
    candidates: int
    """Flagged referring domains with enough flags and not allowed; more than `entries` when the limits cut."""


def disavow_file(profile: dict[str, Any], min_flags: int, allowed: list[str]) -> DisavowFile:
    """The disavow file of one stored profile: referring domains with at least `min_flags` flags, not `allowed`."""
    allow = DomainFilter(denied=allowed)
    rows = [
        row for row in profile["risk"]["referring_domains"]
        if len(row["flags"]) >= min_flags and allow.allows(row["domain"])
    ]  # fmt: skip
    as_of = profile["data_as_of"]
    header = [
        f"# Disavow file for {profile['domain']} written by linkcrawler from its profile"
        f" (data as of {as_of.isoformat() if isinstance(as_of, datetime) else as_of}).",
        f"# Referring domains with at least {min_flags} risk flag(s); review every entry before uploading.",
    ]
    lines, size, written = header, sum(len(line.encode()) + 1 for line in header), 0
    for row in rows:
        entry = [_comment(row), f"domain:{row['domain']}"]
        cost = sum(len(line.encode()) + 1 for line in entry)
        if len(lines) + len(entry) > MAX_LINES or size + cost > MAX_BYTES:
            break
        lines += entry
        size += cost
        written += 1
    return DisavowFile("\n".join(lines) + "\n", written, len(rows))


def _comment(row: dict[str, Any]) -> str:
    """`# domain: N link(s); flag (key=value, ...); flag (...)` on one line."""
    return f"# {row['domain']}: {row['links']} link(s); {describe_flags(row['flags'])}"
