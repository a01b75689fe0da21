"""Every Redis key pattern, in one place (settings and their defaults are in `linkcrawler.config`).

Keys are formatted with the spider name, so several crawls (spiders) can share
one Redis without seeing each other's frontier.

Requests wait per site (a host, or a registered domain with
`POLITENESS_BY=domain`): `{spider}:queue:{site}` is that site's sorted set and
`{spider}:slots:{site}` the requests to it in flight. The braces are Redis
Cluster hash tags, so each site's keys share a slot. The Lua scripts build
these names from `SITE_PREFIX` (see `linkcrawler.frontier.sites`).
"""

SPIDER_NAME = "backlinks"

START_URLS_KEY = "%(name)s:start_urls"
SITE_PREFIX = "%(spider)s"
SITES_KEY = "%(spider)s:sites"
QUEUED_KEY = "%(spider)s:queued"
SITE_LAST_KEY = "%(spider)s:site_last"
SITE_DELAY_KEY = "%(spider)s:site_delay"
LEGACY_QUEUE_KEY = "%(spider)s:requests"
"""The one sorted set of every queued request, as linkcrawler 0.1 kept it: carried over on start."""
DUPEFILTER_KEY = "%(spider)s:dupefilter"
DOMAIN_PAGES_KEY = "%(spider)s:domain_pages"
WORKERS_KEY = "%(spider)s:workers"
LEASES_KEY = "%(spider)s:leases"
LEASE_HOLDERS_KEY = "%(spider)s:lease_holders"
SEEDS_TAKEN_KEY = "%(spider)s:seeds_taken"
PAGES_PER_MINUTE_KEY = "%(spider)s:pages_per_minute"
ROBOTS_PREFIX = "%(spider)s:robots"
"""`{prefix}:{robots.txt URL}`: a robots.txt fetched by one worker, for the others (`linkcrawler.downloader.robots`)."""


def spider_key(pattern: str, spider_name: str) -> str:
    """Format a key pattern for one spider (accepts both `%(spider)s` and `%(name)s`)."""
    return pattern % {"spider": spider_name, "name": spider_name}


def site_queue_key(prefix: str, site: str) -> str:
    return f"{prefix}:queue:{{{site}}}"


def site_slots_key(prefix: str, site: str) -> str:
    return f"{prefix}:slots:{{{site}}}"
