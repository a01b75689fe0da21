"""Every Redis key pattern, in one place (settings and their defaults are in `linkcrawler.config`).

Keys are formatted with the spider name, so several crawls (spiders) can share
one Redis without seeing each other's frontier.
"""

SPIDER_NAME = "backlinks"

START_URLS_KEY = "%(name)s:start_urls"
QUEUE_KEY = "%(spider)s:requests"
DUPEFILTER_KEY = "%(spider)s:dupefilter"
DOMAIN_PAGES_KEY = "%(spider)s:domain_pages"
WORKERS_KEY = "%(spider)s:workers"
LEASES_KEY = "%(spider)s:leases"
LEASE_HOLDERS_KEY = "%(spider)s:lease_holders"
SEEDS_TAKEN_KEY = "%(spider)s:seeds_taken"
PAGES_PER_MINUTE_KEY = "%(spider)s:pages_per_minute"
POLITENESS_KEY = "%(spider)s:politeness"


def spider_key(pattern: str, spider_name: str) -> str:
    """Format a key pattern for one spider (accepts both `%(spider)s` and `%(name)s`)."""
    return pattern % {"spider": spider_name, "name": spider_name}
