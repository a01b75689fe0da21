"""The frontier's format in Redis: a worker refuses a frontier kept in another one.

The frontier is kept in partitions (`linkcrawler.frontier.partitions`), each
site's clock and delay in keys that expire (`linkcrawler.frontier.sites`).
Frontiers kept otherwise (every request in one sorted set, per-site queues
outside the partitions, or partitions keeping their sites' clocks in
hashes) hold requests this worker would never see: a worker finding one
refuses to start, in one line, rather than crawl beside them. Checking is a
few EXISTS in one pipeline, no scan of the keyspace.
"""

from __future__ import annotations

from typing import Any

from linkcrawler.errors import UserError
from linkcrawler.frontier import keys
from linkcrawler.frontier.partitions import Partitions

OTHER_FORMAT_KEYS = ("%(spider)s:requests", "%(spider)s:sites", "%(spider)s:leases", "%(spider)s:domain_pages")
"""Keys frontiers of other formats kept, and this one never writes."""
OTHER_FORMAT_PARTITION_KEYS = ("site_last", "site_delay")
"""Names in a partition that frontiers of another format kept, and this one never writes."""


def check_format(server: Any, partitions: Partitions) -> None:
    """Refuse, in one line naming the way out, a frontier in Redis kept in a format this worker does not know."""
    names = [keys.spider_key(pattern, partitions.spider) for pattern in OTHER_FORMAT_KEYS]
    names += [key for name in OTHER_FORMAT_PARTITION_KEYS for key in partitions.keys(name)]
    with server.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.exists(name)
        found = [name for name, exists in zip(names, pipe.execute(), strict=True) if exists]
    if found:
        raise UserError(
            f"the frontier in Redis is in a format this worker does not know ({found[0]}): run "
            "`linkcrawler seed --new-run` on an empty Redis, or the previous release to drain it"
        )
