"""Putting new requests on the frontier: marked seen, counted and queued in one step.

Marking a request seen, counting it against its domain's page budget and
queueing it run as one Lua script, so a worker killed between the steps
cannot leave a URL seen but never queued (lost for the rest of the run). A
flush first asks, read-only and in one round trip, which fingerprints are
seen already: most links of a page were, and they are then never encoded.
The script checks again, as another worker may have queued them since.

Each kind of seen-set has its class with the same two methods: `SetQueueing`
for scrapy-redis's set of fingerprints, `linkcrawler.frontier.bloom.BloomQueueing` for
the Bloom filter. A dupefilter offers its own through a
`queueing(prefix, budget_key)` method.
"""

from __future__ import annotations

from typing import Any, Protocol

from linkcrawler.frontier import keys
from linkcrawler.frontier.sites import SITE_LUA

Entry = tuple[str, float, str | bytes, str, str]
"""A request to queue: (fingerprint, "" for one never filtered; score; encoded request; registered domain,
"" when no budget applies; its site, see `linkcrawler.frontier.sites`)."""

QUEUE_NEW = (
    SITE_LUA
    + """
local function queue_new(prefix, limit, score, data, domain, site)
  if domain ~= '' and redis.call('hincrby', KEYS[2], domain, 1) > limit then
    return -1
  end
  enqueue(prefix, KEYS[1], site, score, data)
  return 1
end
"""
)
"""Lua: count one request against its domain's budget (KEYS[2]) and queue it on its site (KEYS[1] is the heap of
sites); 1 queued, -1 over budget. The scripts built on it return one such result per request, or 0 when it was
seen."""


class Queueing(Protocol):
    """What the frontier asks of a seen-set to queue a batch of requests."""

    def seen(self, fingerprints: list[str]) -> list[bool]:
        """Whether each fingerprint is seen already, changing nothing; one round trip."""

    def queue(self, limit: int, entries: list[Entry]) -> list[int]:
        """Mark seen, count and queue each entry, atomically; per entry 1 queued, 0 seen before, -1 over budget."""


_SET_QUEUE = """
local limit, prefix = tonumber(ARGV[1]), ARGV[2]
local results = {}
for i = 3, #ARGV, 5 do
  if ARGV[i] ~= '' and redis.call('sadd', KEYS[3], ARGV[i]) == 0 then
    results[#results + 1] = 0
  else
    results[#results + 1] = queue_new(prefix, limit, ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4])
  end
end
return results
"""


class SetQueueing:
    """Queueing through scrapy-redis's seen-set: a Redis set of hex fingerprints at `seen_key`."""

    def __init__(self, server: Any, seen_key: str, prefix: str, budget_key: str) -> None:
        self.server = server
        self.seen_key = seen_key
        self.prefix = prefix
        self.keys = [keys.spider_key(keys.SITES_KEY, prefix), budget_key, seen_key]
        self._script = server.register_script(QUEUE_NEW + _SET_QUEUE)

    def seen(self, fingerprints: list[str]) -> list[bool]:
        return [bool(found) for found in self.server.smismember(self.seen_key, fingerprints)]

    def queue(self, limit: int, entries: list[Entry]) -> list[int]:
        return self._script(keys=self.keys, args=[limit, self.prefix, *(value for entry in entries for value in entry)])
