"""Every Redis key pattern and default value, in one place.

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

REDIS_URL = "redis://127.0.0.1:6379/0"
MONGO_DATABASE = "linkcrawler"

STORE_BATCH_SIZE = 2000
STORE_FLUSH_SECONDS = 5.0
STORE_SPILL_DIR = "linkcrawler-spill"
IDLE_CLOSE_SECONDS = 0
WORKER_HEARTBEAT_SECONDS = 1.0
LEASE_SECONDS = 30.0


def spider_key(pattern: str, spider_name: str) -> str:
    """Format a key pattern for one spider (accepts both `%(spider)s` and `%(name)s`)."""
    return pattern % {"spider": spider_name, "name": spider_name}
