"""Settings shared by every deployment.

The settings a deployment may set, and their defaults, are in
`linkcrawler.config`: each is read here from the environment variable of the
same name, so compose, Kubernetes and scrapyd configure workers the same way,
and `-s NAME=VALUE` overrides it as usual. This module adds the fixed wiring:
which components run, and Scrapy behaviour the crawler relies on.
"""

from linkcrawler import config

# Every setting a deployment may set, from the environment or its default (linkcrawler.config).
_environment = config.from_environment()
globals().update(_environment)

BOT_NAME = "linkcrawler"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
COMMANDS_MODULE = "linkcrawler.cli.commands"

# scrapy-redis's own clients are ours: they reconnect, and talk to a cluster with REDIS_CLUSTER
# (linkcrawler.frontier.connection).
REDIS_PARAMS = {
    "redis_cls": "linkcrawler.frontier.connection.SharedRedis",
    "cluster": _environment["REDIS_CLUSTER"],
    "retries": _environment["REDIS_RETRIES"],
}

# The shared frontier (linkcrawler.frontier.scheduler), and each worker's heartbeat: it reports the worker, takes
# seeds and closes the spider once the whole crawl is done (linkcrawler.frontier.heartbeat). Python's cycle
# collector runs less often than its default, and never over start-up's objects (linkcrawler.garbage).
SCHEDULER = "linkcrawler.frontier.scheduler.Scheduler"
EXTENSIONS = {"linkcrawler.frontier.heartbeat.Heartbeat": 500, "linkcrawler.garbage.CollectorTuning": 0}
# Deeper requests get a lower priority, so each site's queue is crawled breadth first: its home page and hubs
# before deep pages (Scrapy's DepthMiddleware).
DEPTH_PRIORITY = 1

# Politeness. CONCURRENT_REQUESTS_PER_DOMAIN and DOWNLOAD_DELAY hold per worker
# process; POLITENESS_* hold across all workers together (linkcrawler.downloader.politeness).
ROBOTSTXT_PARSER = "scrapy.robotstxt.ProtegoRobotParser"

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
RETRY_HTTP_CODES = [502, 503, 504, 522, 524, 408, 429]

# Response headers bounded as bodies are (linkcrawler.downloader.headers): DOWNLOAD_MAX_HEADER_BYTES.
DOWNLOAD_HANDLERS = {
    "http": "linkcrawler.downloader.headers.HeaderCappedDownloadHandler",
    "https": "linkcrawler.downloader.headers.HeaderCappedDownloadHandler",
}

# Network policy (linkcrawler.downloader.resolver, linkcrawler.downloader.netpolicy): public
# addresses only unless CRAWL_NETWORKS says otherwise.
TWISTED_DNS_RESOLVER = "linkcrawler.downloader.resolver.PolicyResolver"
DOWNLOADER_MIDDLEWARES = {
    "linkcrawler.downloader.resolver.AddressPolicyMiddleware": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "linkcrawler.downloader.robots.RobotsTxtMiddleware": 100,
    "linkcrawler.downloader.robots.RobotsTxtShare": 105,
    "linkcrawler.downloader.politeness.PolitenessMiddleware": 110,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "linkcrawler.downloader.compression.HttpCompressionMiddleware": 590,
}

# Infinite URL spaces (linkcrawler.frontier.scope).
SPIDER_MIDDLEWARES = {"linkcrawler.frontier.scope.QueryParamsMiddleware": 750}

# Scrapy's per-page DEBUG lines are not made when LOG_LEVEL discards them (linkcrawler.logs), and its stats
# are kept without the wrapping of every access that warns of a deprecated argument
# (linkcrawler.internals.scrapy_private).
LOG_FORMATTER = "linkcrawler.logs.LevelLogFormatter"
STATS_CLASS = "linkcrawler.internals.scrapy_private.StatsCollector"

# Storage (pipelines.store).
ITEM_PIPELINES = {
    "pipelines.normalize.NormalizePipeline": 100,
    "pipelines.store.StorePipeline": 800,
}

TELNETCONSOLE_ENABLED = False
