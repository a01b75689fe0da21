"""A hand-made link table for profile and query tests: small enough to check by eye."""

from __future__ import annotations

from datetime import UTC, datetime

from linkcrawler.store.migrate import upgrade

T1 = datetime(2024, 5, 1, tzinfo=UTC)
T2 = datetime(2024, 6, 1, tzinfo=UTC)


def link(source: str, target: str, anchor: str = "", *, follow: bool = True, first=T1, last=T1, **extra) -> dict:
    source_host, target_host = source.split("/")[2], target.split("/")[2]
    source_domain, target_domain = (".".join(h.split(".")[-2:]) for h in (source_host, target_host))
    doc = {
        "_id": f"{source} {target} {anchor}",
        "source_url": source, "source_host": source_host, "source_domain": source_domain,
        "source_ip": "127.0.0.1", "source_subnet": "127.0.0.0/24",
        "target_url": target, "target_host": target_host, "target_domain": target_domain,
        "anchor": anchor, "link_type": "text", "nofollow": not follow, "ugc": False, "sponsored": False,
        "follow": follow, "position": "content", "internal": False,
        "first_seen": first, "last_seen": last, "seen_count": 1,
    }  # fmt: skip
    doc.update(extra)
    return doc


def page(url: str, fetched_at=T1, status: int = 200) -> dict:
    return {"_id": url, "url": url, "status": status, "fetched_at": fetched_at}


def load(db) -> None:
    """a.com and c.com link to b.com; b.com links back to a.com; one link lost, one new, one broken.

    Written as version 1 wrote it, then upgraded: the links get their state from the pages.
    """
    load_version_1(db)
    upgrade(db)


def load_version_1(db) -> None:
    """The same tables as version 1 of the store wrote them: links without their state, its indexes."""
    db.links.create_index("target_url", name="target_url")
    db.links.insert_many(
        [
            link("http://a.com/1", "http://b.com/", "B Shop"),
            link("http://a.com/1", "http://b.com/x", "click here", follow=False),
            link("http://a.com/2", "http://b.com/", "gone", last=T1),
            link("http://c.com/", "http://b.com/", "http://b.com", first=T2, last=T2),
            link("http://c.com/", "http://b.com/dead", "", first=T2, last=T2),
            link("http://www.b.com/", "http://a.com/1", "A"),
        ]
    )
    db.pages.insert_many(
        [
            page("http://a.com/1"),
            page("http://a.com/2", fetched_at=T2),
            page("http://c.com/", fetched_at=T2),
            page("http://b.com/dead", fetched_at=T2, status=404),
            page("http://www.b.com/"),
        ]
    )
