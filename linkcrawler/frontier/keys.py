"""Every Redis key pattern, in one place (settings and their defaults are in `linkcrawler.config`).

Keys are formatted with the spider name, so several crawls (spiders) can share
one Redis without seeing each other's frontier.

Most of the frontier lives in partitions (`linkcrawler.frontier.partitions`):
partition `n` of spider `backlinks` names its keys `backlinks:{TAG}:NAME`,
one hash tag per partition, so a Lua script touching one partition touches
one Redis Cluster slot. The `NAME`s are below; requests wait per site (a
host, or a registered domain with `POLITENESS_BY=domain`) in
`{prefix}:queue:{site}`, in flight in `{prefix}:slots:{site}`; a site's clock
is `{prefix}:last:{site}` and its own delay `{prefix}:delay:{site}`, both
expiring: names the Lua scripts build from the partition's prefix (see
`linkcrawler.frontier.sites`).
"""

SPIDER_NAME = "backlinks"

START_URLS_KEY = "%(name)s:start_urls"
SEEDS_TAKEN_KEY = "{%(spider)s:start_urls}:seeds_taken"
"""Prefix of each worker's list of seeds taken: tagged with the start list's name, so it shares its slot."""
SEED_HOLDERS_KEY = "{%(spider)s:start_urls}:seed_holders"
QUEUED_TOTAL_KEY = "%(spider)s:queued"
"""All partitions' queued counts summed, as a worker last saw them: for tools that read one key."""
DUPEFILTER_KEY = "%(spider)s:dupefilter"
WORKERS_KEY = "%(spider)s:workers"
PAGES_PER_MINUTE_KEY = "%(spider)s:pages_per_minute"
ROBOTS_PREFIX = "%(spider)s:robots"
"""`{prefix}:{robots.txt URL}`: a robots.txt fetched by one worker, for the others (`linkcrawler.downloader.robots`)."""

# Names of the keys every partition has.
SITES = "sites"
QUEUED = "queued"
LEASES = "leases"
LEASE_HOLDERS = "lease_holders"
SEEN = "dupefilter"
DOMAIN_PAGES = "domain_pages"
RUN = "run"
"""Counts the crawl runs started (`linkcrawler seed --new-run`): a worker that sees it change forgets what it
learnt of the seen-set."""


def spider_key(pattern: str, spider_name: str) -> str:
    """Format a key pattern for one spider (accepts both `%(spider)s` and `%(name)s`)."""
    return pattern % {"spider": spider_name, "name": spider_name}
