"""Settings shared by every deployment. Each value here can be overridden by the
environment variable of the same name (see `linkcrawler.config`), so
compose, Kubernetes and scrapyd configure workers the same way.

Components document the settings they read where they read them; this module
holds their values.
"""

from linkcrawler.config import env_bool, env_float, env_int, env_list, env_str
from linkcrawler.extract.urls import DEFAULT_TRACKING_PARAMS

BOT_NAME = "linkcrawler"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
COMMANDS_MODULE = "linkcrawler.cli.commands"
USER_AGENT = env_str("USER_AGENT", "linkcrawler/0.1 (+https://github.com/linkcrawler/linkcrawler)")

# Shared services.
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
# scrapy-redis's own client (the spider's seed list) reconnects like ours (linkcrawler.frontier.connection).
REDIS_PARAMS = {"redis_cls": "linkcrawler.frontier.connection.ResilientRedis"}
MONGO_URI = env_str("MONGO_URI", "mongodb://127.0.0.1:27017/")
MONGO_DATABASE = env_str("MONGO_DATABASE", "linkcrawler")

# The shared frontier (linkcrawler.frontier.scheduler).
SCHEDULER = "linkcrawler.frontier.scheduler.Scheduler"
DUPEFILTER_CLASS = env_str("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter")
BLOOM_CAPACITY = env_int("BLOOM_CAPACITY", 10_000_000)
BLOOM_ERROR_RATE = env_float("BLOOM_ERROR_RATE", 0.001)
PAGES_PER_DOMAIN = env_int("PAGES_PER_DOMAIN", 0)
DEPTH_LIMIT = env_int("DEPTH_LIMIT", 0)
ALLOWED_DOMAINS = env_list("ALLOWED_DOMAINS", [])
DENIED_DOMAINS = env_list("DENIED_DOMAINS", [])
IDLE_CLOSE_SECONDS = env_float("IDLE_CLOSE_SECONDS", 0)
WORKER_HEARTBEAT_SECONDS = env_float("WORKER_HEARTBEAT_SECONDS", 1.0)
FRONTIER_LEASES = env_bool("FRONTIER_LEASES", True)
LEASE_SECONDS = env_float("LEASE_SECONDS", 30.0)

# Politeness. CONCURRENT_REQUESTS_PER_DOMAIN and DOWNLOAD_DELAY hold per worker
# process; POLITENESS_* hold across all workers together (linkcrawler.downloader.politeness).
ROBOTSTXT_OBEY = env_bool("ROBOTSTXT_OBEY", True)
ROBOTSTXT_CRAWL_DELAY = env_bool("ROBOTSTXT_CRAWL_DELAY", True)
POLITENESS_ENABLED = env_bool("POLITENESS_ENABLED", True)
POLITENESS_CONCURRENCY = env_int("POLITENESS_CONCURRENCY", 2)
POLITENESS_DELAY = env_float("POLITENESS_DELAY", 0.0)
POLITENESS_BY = env_str("POLITENESS_BY", "host")
POLITENESS_MAX_DELAY = env_float("POLITENESS_MAX_DELAY", 30.0)
POLITENESS_SLOT_SECONDS = env_float("POLITENESS_SLOT_SECONDS", 0.0)
ROBOTSTXT_PARSER = "scrapy.robotstxt.ProtegoRobotParser"
CONCURRENT_REQUESTS = env_int("CONCURRENT_REQUESTS", 32)
CONCURRENT_REQUESTS_PER_DOMAIN = env_int("CONCURRENT_REQUESTS_PER_DOMAIN", 4)
DOWNLOAD_DELAY = env_float("DOWNLOAD_DELAY", 0.0)
# Scrapy starts this many tasks per response to run its output through the
# pipelines in parallel (default 100). Ours are synchronous, so the tasks only
# cost time: a few percent of a worker at 100 (bench/crawl.py measures).
CONCURRENT_ITEMS = env_int("CONCURRENT_ITEMS", 16)
DOWNLOAD_TIMEOUT = env_int("DOWNLOAD_TIMEOUT", 30)
DOWNLOAD_MAXSIZE = env_int("DOWNLOAD_MAXSIZE", 10 * 1024 * 1024)
DOWNLOAD_WARNSIZE = env_int("DOWNLOAD_WARNSIZE", 2 * 1024 * 1024)

# Every response reaches the spider, so error pages are recorded with their
# status; meta refresh is extracted as a redirect link instead of followed
# silently; 500 is a page's answer, not a transient failure, so it is not
# retried (and a recrawl sees it again).
HTTPERROR_ALLOW_ALL = True
METAREFRESH_ENABLED = False
# As Scrapy's broad-crawl advice has it, and as search engine crawlers do: no
# cookies, and no Referer telling each site where its link was found. Queued
# requests then carry no headers, which keeps the frontier small in Redis.
COOKIES_ENABLED = False
REFERER_ENABLED = False
RETRY_TIMES = env_int("RETRY_TIMES", 2)
RETRY_HTTP_CODES = [502, 503, 504, 522, 524, 408, 429]

# Network policy (linkcrawler.downloader.resolver, linkcrawler.downloader.netpolicy): public
# addresses only unless CRAWL_NETWORKS says otherwise.
TWISTED_DNS_RESOLVER = "linkcrawler.downloader.resolver.PolicyResolver"
CRAWL_NETWORKS = env_list("CRAWL_NETWORKS", [])
CRAWL_HOSTS: dict[str, str] = {}
CRAWL_HOSTS_ONLY = False
DOWNLOADER_MIDDLEWARES = {
    "linkcrawler.downloader.resolver.AddressPolicyMiddleware": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "linkcrawler.downloader.robots.RobotsTxtMiddleware": 100,
    "linkcrawler.downloader.politeness.PolitenessMiddleware": 110,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "linkcrawler.downloader.compression.HttpCompressionMiddleware": 590,
}

# Extraction (linkcrawler.extract.page) and what is stored of it (pipelines.normalize).
TRACKING_PARAMS = env_list("TRACKING_PARAMS", list(DEFAULT_TRACKING_PARAMS))
MAX_URL_LENGTH = env_int("MAX_URL_LENGTH", 2048)
MAX_ANCHOR_LENGTH = env_int("MAX_ANCHOR_LENGTH", 300)
MAX_DOCUMENT_LENGTH = env_int("MAX_DOCUMENT_LENGTH", 15 * 1024 * 1024)
# Infinite URL spaces (linkcrawler.frontier.scope).
MAX_QUERY_PARAMS = env_int("MAX_QUERY_PARAMS", 16)
SPIDER_MIDDLEWARES = {"linkcrawler.frontier.scope.QueryParamsMiddleware": 750}
STORE_INTERNAL_LINKS = env_bool("STORE_INTERNAL_LINKS", False)

# Storage (pipelines.store).
ITEM_PIPELINES = {
    "pipelines.normalize.NormalizePipeline": 100,
    "pipelines.store.StorePipeline": 800,
}
STORE_BATCH_SIZE = env_int("STORE_BATCH_SIZE", 2000)
STORE_FLUSH_SECONDS = env_float("STORE_FLUSH_SECONDS", 5.0)
STORE_RETRY_TIMES = env_int("STORE_RETRY_TIMES", 5)
STORE_RETRY_BACKOFF = env_float("STORE_RETRY_BACKOFF", 0.5)
STORE_RETRY_BACKOFF_MAX = env_float("STORE_RETRY_BACKOFF_MAX", 30.0)
STORE_BUFFER_SIZE = env_int("STORE_BUFFER_SIZE", 10_000)
STORE_SPILL_DIR = env_str("STORE_SPILL_DIR", "linkcrawler-spill")
STORE_WRITE_TIMEOUT = env_float("STORE_WRITE_TIMEOUT", 10.0)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
TELNETCONSOLE_ENABLED = False
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
