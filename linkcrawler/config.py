"""Every setting a deployment may set, with its one default, read the same way by workers and commands.

A setting reaches a component by two roads: the environment variable of the
same name (compose, Kubernetes and scrapyd configure workers that way), which
`settings/base.py` turns into the project's settings through `from_environment`,
and `scrapy crawl -s NAME=VALUE`, which Scrapy lays on top. Components read
every setting through `get`, so a component built from settings that lack a
name (a test's `Settings()`, a script) still gets the default written here,
and nowhere else.

An environment value that does not parse raises `UserError` naming the
variable, instead of surfacing later as a wrong type deep inside Scrapy.

Each setting carries its one description too: the settings reference of the
documentation site is generated from this table when the site is built.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from linkcrawler.errors import UserError

DEFAULT_SETTINGS_MODULE = "settings.local"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _parse_bool(raw: str) -> bool:
    value = raw.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(raw)


def _parse_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _parse_dict(raw: str) -> dict[str, Any]:
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError(raw)
    return value


_KINDS: dict[type, tuple[Callable[[str], Any], str, str]] = {
    # kind: (parse an environment string, what a bad value is not, the Scrapy getter)
    str: (str, "text", "get"),
    int: (int, "a whole number", "getint"),
    float: (float, "a number", "getfloat"),
    bool: (_parse_bool, "a boolean (use true or false)", "getbool"),
    list: (_parse_list, "a comma-separated list", "getlist"),
    dict: (_parse_dict, 'a JSON object (such as {"host": "127.0.0.1"})', "getdict"),
}


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    kind: type
    # What it does, said once: the documentation's settings tables are generated from it
    # (docs/hooks/settings_reference.py), so they cannot drift from the default above.
    description: str = ""

    def from_text(self, raw: str, source: str) -> Any:
        parse, expected, _ = _KINDS[self.kind]
        try:
            return parse(raw)
        except ValueError:
            raise UserError(f"{source} {self.name}={raw!r} is not {expected}") from None


TRACKING_PARAMS = (
    "utm_*", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "fbclid", "msclkid", "yclid", "twclid", "ttclid",
    "igshid", "li_fat_id", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_enc_id",
    "oly_anon_id", "vero_id", "vero_conv", "srsltid",
)  # fmt: skip
"""Query parameters that identify a click or campaign, not a page: glob patterns, matched case-insensitively."""

SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        # Shared services.
        Setting(
            "REDIS_URL",
            "redis://127.0.0.1:6379/0",
            str,
            "The shared frontier's Redis: `redis://`, or `rediss://` for TLS, the password in the URL (TLS "
            "options as redis-py reads them, such as `?ssl_cert_reqs=required`). With `REDIS_CLUSTER`, any one "
            "node of the cluster.",
        ),
        Setting(
            "REDIS_RETRIES",
            10,
            int,
            "Reconnection attempts (exponential backoff with jitter, 0.2 s to 5 s; about half a minute in all) "
            "before a Redis error surfaces: every client rides out a Redis restart or a cluster failover this "
            "way.",
        ),
        Setting(
            "REDIS_CLUSTER",
            False,
            bool,
            "`REDIS_URL` is one node of a Redis Cluster: every component uses redis-py's cluster client. A "
            "cluster node without it, or it without a cluster node, is refused in one line.",
        ),
        Setting(
            "MONGO_URI",
            "mongodb://127.0.0.1:27017/",
            str,
            "Where links and pages go: `mongodb://`, `mongodb+srv://`, `mongomock://` (the in-process emulation; "
            "`mongomock:///DIR` loads a folder of JSON-lines files) or `journal:///DIR` (workers append their "
            "batches to files there for `linkcrawler replay`).",
        ),
        Setting(
            "MONGO_DATABASE",
            "linkcrawler",
            str,
            "The database holding `links`, `pages`, the profiles and their history.",
        ),
        # The frontier.
        Setting(
            "DUPEFILTER_CLASS",
            "scrapy_redis.dupefilter.RFPDupeFilter",
            str,
            "The seen-set: scrapy-redis's fingerprint set, or `linkcrawler.frontier.bloom.BloomDupeFilter` for a "
            "Bloom filter (about 1.8 bytes of Redis a URL instead of 84) in large crawls.",
        ),
        Setting(
            "BLOOM_CAPACITY",
            10_000_000,
            int,
            "URLs per crawl run the Bloom filter is sized for (18 MB of Redis at 0.1%); past it the "
            "false-positive rate climbs. Every worker must use the same.",
        ),
        Setting(
            "BLOOM_ERROR_RATE",
            0.001,
            float,
            "The share of new URLs the Bloom filter wrongly takes for seen at capacity (they are not crawled in "
            "that run). Every worker must use the same.",
        ),
        Setting(
            "PAGES_PER_DOMAIN",
            0,
            int,
            "Pages per registered domain per crawl run, counted in Redis across all workers (0: no limit); a "
            "retry of a page is the same page and is not counted again. Pages past it are not crawled and get no "
            "page document: counted as `frontier/over_domain_budget`, one INFO line per domain the first time a "
            "worker meets its budget in a run (each URL at DEBUG).",
        ),
        Setting(
            "DEPTH_LIMIT",
            0,
            int,
            "Link hops from a seed (0: no limit).",
        ),
        Setting(
            "ALLOWED_DOMAINS",
            [],
            list,
            "Comma-separated: follow only links under these domains (empty: any). Links are stored either way.",
        ),
        Setting(
            "DENIED_DOMAINS",
            [],
            list,
            "Comma-separated: never follow links under these domains. Links are stored either way.",
        ),
        Setting(
            "MAX_QUERY_PARAMS",
            16,
            int,
            "Links with more query parameters are stored, not followed (`linkcrawler/skipped/query_params`): a "
            "guard against infinite URL spaces such as calendars and facets (0: no limit).",
        ),
        Setting(
            "IDLE_CLOSE_SECONDS",
            0.0,
            float,
            "A worker closes once the frontier is empty, no lease is outstanding and no worker fetched anything "
            "for this long (0: it waits for work forever).",
        ),
        Setting(
            "WORKER_HEARTBEAT_SECONDS",
            1.0,
            float,
            "How often a worker reports itself in `backlinks:workers` (pages, last activity), pushes its leases' "
            "deadline forward and, while it has nothing to fetch, looks for new requests or seeds (Scrapy's own "
            "idle engine looks every 5 s).",
        ),
        Setting(
            "FRONTIER_LEASES",
            True,
            bool,
            "Lease popped requests until their page is stored, so a worker's death loses none. Off: a popped "
            "request is acknowledged at once, as scrapy-redis's pop removes it.",
        ),
        Setting(
            "FRONTIER_PREFETCH",
            4,
            int,
            "At most this many requests leased per round trip, never more than the downloader has room for; the "
            "ones not yet downloading wait in the worker, still leased.",
        ),
        Setting(
            "FRONTIER_PARTITIONS",
            0,
            int,
            "The frontier's partitions, key groups a Redis Cluster spreads over its nodes (0: automatic, 16 with "
            "`REDIS_CLUSTER`, else 1). The same for every worker of a crawl, which refuses another count.",
        ),
        Setting(
            "LEASE_SECONDS",
            30.0,
            float,
            "A dead worker's leases, and the seeds it took, return to the frontier this long after its last heartbeat.",
        ),
        # Downloading and politeness.
        Setting(
            "USER_AGENT",
            "linkcrawler/0.1 (+https://github.com/linkcrawler/linkcrawler)",
            str,
            "Scrapy's own: the User-Agent header of every request, which robots.txt rules are matched against.",
        ),
        Setting(
            "ROBOTSTXT_OBEY",
            True,
            bool,
            "Obey robots.txt (parsed by Protego), in workers and in `linkcrawler seed --sitemaps`.",
        ),
        Setting(
            "ROBOTSTXT_CRAWL_DELAY",
            True,
            bool,
            "Honour robots.txt `Crawl-delay`: it becomes its site's delay for every worker (at least "
            "`POLITENESS_DELAY`).",
        ),
        Setting(
            "ROBOTSTXT_SHARE_SECONDS",
            86_400,
            int,
            "A robots.txt one worker fetched answers the others from Redis (`backlinks:robots:{URL}`) for this "
            "long, so a site sees one robots.txt request, not one per worker; a 5xx is not shared, and one over "
            "500 KiB is shared as the 500 KiB that are read (0: each worker fetches its own).",
        ),
        Setting(
            "POLITENESS_ENABLED",
            True,
            bool,
            "Per-site limits shared by all workers. Off: pops still rotate over sites but hold none back.",
        ),
        Setting(
            "POLITENESS_CONCURRENCY",
            2,
            int,
            "Requests in flight per site, all workers together; one for a site with a delay.",
        ),
        Setting(
            "POLITENESS_DELAY",
            0.0,
            float,
            "Seconds from the end of one request to a site to the start of the next, all workers together.",
        ),
        Setting(
            "POLITENESS_BY",
            "host",
            str,
            "What one site is: `host`, or `domain` to count all hosts of a registered domain as one site.",
        ),
        Setting(
            "POLITENESS_MAX_DELAY",
            30.0,
            float,
            "Seconds: a site whose robots.txt asks for a longer Crawl-delay is not crawled past its robots.txt "
            "(`politeness/crawl_delay_over_max`); raise it to crawl such sites at the pace they ask.",
        ),
        Setting(
            "POLITENESS_SLOT_SECONDS",
            0.0,
            float,
            "How long a politeness slot held by a dead worker stays taken (0: `DOWNLOAD_TIMEOUT` + 30).",
        ),
        Setting(
            "CONCURRENT_REQUESTS",
            32,
            int,
            "Scrapy's own: requests in flight per worker (the limits all workers share are `POLITENESS_*`).",
        ),
        Setting(
            "CONCURRENT_REQUESTS_PER_DOMAIN",
            4,
            int,
            "Scrapy's own, per worker process (the limit all workers share is `POLITENESS_CONCURRENCY`).",
        ),
        Setting(
            "DOWNLOAD_DELAY",
            0.0,
            float,
            "Scrapy's own, per worker process (the delay all workers share is `POLITENESS_DELAY`).",
        ),
        # Scrapy starts this many tasks per response to run its output through the pipelines in parallel
        # (its default 100). The spider yields one item a page and the pipelines are synchronous, so more tasks
        # only cost time (bench/crawl.py measures).
        Setting(
            "CONCURRENT_ITEMS",
            1,
            int,
            "Scrapy's own: tasks started per response to run its output through the pipelines (the spider yields "
            "one item a page, and the project's pipelines are synchronous: more only cost time).",
        ),
        Setting(
            "GC_THRESHOLD",
            10_000,
            int,
            "Net allocations between two young-generation runs of Python's cycle collector (Python's own is 700; "
            "0 leaves the collector untouched). Objects built before the spider opens are frozen out of its "
            "sight (`linkcrawler.garbage`).",
        ),
        Setting(
            "DOWNLOAD_TIMEOUT",
            30,
            int,
            "Scrapy's own: seconds a request may take, then `RETRY_TIMES` retries. `linkcrawler seed --sitemaps` "
            "and `linkcrawler extract` hold each fetch to it as a whole (connecting, headers and body).",
        ),
        Setting(
            "DOWNLOAD_MAXSIZE",
            10 * 1024 * 1024,
            int,
            "Larger responses are dropped (for a compressed one, its inflated body counts), and the page is "
            "recorded with `error: ResponseTooLarge: ...`.",
        ),
        Setting(
            "DOWNLOAD_WARNSIZE",
            2 * 1024 * 1024,
            int,
            "Scrapy's own: a response larger than this is logged as a warning.",
        ),
        # A response's status line and headers, which Scrapy does not bound (linkcrawler.downloader.headers);
        # as much as Chrome takes.
        Setting(
            "DOWNLOAD_MAX_HEADER_BYTES",
            256 * 1024,
            int,
            "A response whose status line and headers pass this fails at once and its connection is closed "
            "(Scrapy bounds only bodies): the page is recorded with `error: ResponseHeadersTooLarge: ...`, not "
            "retried, counted as `downloader/response_headers_too_large`, one WARNING line.",
        ),
        Setting(
            "RETRY_TIMES",
            2,
            int,
            "Scrapy's own: retries of a request that timed out, failed to connect or got a transient status "
            "(408, 429, 502, 503, 504, 522, 524); a 500 is the page's answer and is not retried.",
        ),
        Setting(
            "CRAWL_NETWORKS",
            [],
            list,
            "Comma-separated CIDRs the crawler may connect to (empty: public addresses only). Private, loopback, "
            "link-local, multicast and reserved addresses are refused unless listed; an IPv6 address carrying an "
            "IPv4 address (NAT64, 6to4, Teredo, `::a.b.c.d`) must pass as both, and `64:ff9b:1::/48` is refused.",
        ),
        Setting(
            "CRAWL_HOSTS",
            {},
            dict,
            "A static hosts table, a JSON object of host name to address (the synthetic web uses it).",
        ),
        Setting(
            "CRAWL_HOSTS_ONLY",
            False,
            bool,
            "Resolve no name that `CRAWL_HOSTS` does not list.",
        ),
        # Scrapy's own switch for `http_proxy`/`https_proxy` (its HttpProxyMiddleware), off unless the operator
        # opts in: through a proxy only the proxy's address meets the network policy, the proxy resolves targets.
        Setting(
            "HTTPPROXY_ENABLED",
            False,
            bool,
            "Send requests through the proxy `http_proxy` / `https_proxy` name (Scrapy's `HttpProxyMiddleware`, "
            "`no_proxy` honoured). The network policy then checks only the proxy's address: see the network "
            "policy.",
        ),
        # Seeds from sitemaps (`linkcrawler seed --sitemaps`), per site: the sitemaps protocol's own limits
        # (50,000 URLs and 50 MB a file) for one file, and no more than that many index entries fetched.
        Setting(
            "SITEMAP_MAX_FILES",
            50,
            int,
            "Sitemaps (indexes included) `linkcrawler seed --sitemaps` fetches per site.",
        ),
        Setting(
            "SITEMAP_MAX_BYTES",
            50 * 1024 * 1024,
            int,
            "Bytes of one sitemap, after gunzip: the sitemaps protocol's own limit for one file.",
        ),
        Setting(
            "SITEMAP_MAX_URLS",
            50_000,
            int,
            "URLs `linkcrawler seed --sitemaps` queues per site (one full sitemap's worth).",
        ),
        # Extraction and what is stored of it.
        Setting(
            "TRACKING_PARAMS",
            list(TRACKING_PARAMS),
            list,
            "Query parameters removed from every URL: glob patterns, matched case-insensitively (`utm_*`, "
            "`gclid`, `fbclid`, `msclkid`, ...).",
        ),
        Setting(
            "MAX_URL_LENGTH",
            2048,
            int,
            "Longer URLs are skipped (counted as `linkcrawler/skipped/too_long`).",
        ),
        Setting(
            "MAX_ANCHOR_LENGTH",
            300,
            int,
            "Anchors are cut to this many characters.",
        ),
        Setting(
            "MAX_DOCUMENT_LENGTH",
            15 * 1024 * 1024,
            int,
            "HTML past this length is not parsed (`linkcrawler/skipped/truncated`); the links before the cut are "
            "stored.",
        ),
        Setting(
            "PARSE_TIMEOUT",
            10.0,
            float,
            "Seconds a page's HTML may take to parse (0: no limit). A page past it keeps the page record and its "
            "header links, loses its body's links (`linkcrawler/skipped/parse_timeout`, one WARNING line), and its "
            "parse runs on in a thread; a worker with two such parses running closes (reason `runaway_parses`) so "
            "that its supervisor starts a fresh one.",
        ),
        Setting(
            "MAX_LINKS_PER_PAGE",
            20_000,
            int,
            "Links read from one page (0: no limit); the link elements after them are counted "
            "(`linkcrawler/skipped/over_link_limit`) and recorded on the page (`links_over_limit`).",
        ),
        Setting(
            "STORE_INTERNAL_LINKS",
            False,
            bool,
            "Also store links within one registered domain (`internal: true`).",
        ),
        # Storage.
        Setting(
            "STORE_BATCH_SIZE",
            4000,
            int,
            "A batch is written once it holds this many links or pages.",
        ),
        Setting(
            "STORE_FLUSH_SECONDS",
            5.0,
            float,
            "A batch is written at the latest this many seconds after its first page arrived, which also bounds "
            "what a killed worker's pages make others refetch.",
        ),
        Setting(
            "STORE_RETRY_TIMES",
            5,
            int,
            "Retries of a failed write before its batch is spilled to `STORE_SPILL_DIR`.",
        ),
        Setting(
            "STORE_RETRY_BACKOFF",
            0.5,
            float,
            "Seconds before the first retry of a failed write, doubled after each consecutive failure up to "
            "`STORE_RETRY_BACKOFF_MAX`.",
        ),
        Setting(
            "STORE_RETRY_BACKOFF_MAX",
            30.0,
            float,
            "The longest wait between two retries of a failed write, in seconds.",
        ),
        Setting(
            "STORE_BUFFER_SIZE",
            10_000,
            int,
            "Links and pages a worker holds in memory while a write is in flight or retried; batches past it are "
            "spilled.",
        ),
        Setting(
            "STORE_SPILL_DIR",
            "linkcrawler-spill",
            str,
            "Where batches MongoDB did not take are spilled (one file per worker and outage); must be writable, "
            "checked at start.",
        ),
        Setting(
            "STORE_WRITE_TIMEOUT",
            10.0,
            float,
            "Seconds: a write (server selection included) taking longer fails and is retried.",
        ),
        # `linkcrawler replay` deletes the files it replayed (and files of writers that died before naming theirs)
        # once they are this old: kept a while to check a replay against, never forever.
        Setting(
            "STORE_REPLAYED_RETENTION_DAYS",
            7.0,
            float,
            "`linkcrawler replay` deletes the files it replayed this many days ago (and files of writers that "
            "died before naming theirs).",
        ),
        # Link risk flags in profiles (linkcrawler.profile.risk; each description says why its value).
        Setting(
            "RISK_SITEWIDE_SHARE",
            0.5,
            float,
            "A referring domain linking from at least this share of its crawled pages is flagged `sitewide`: a "
            "link on half or more of a site's pages is in its template (footer, sidebar), not an editorial "
            "choice.",
        ),
        Setting(
            "RISK_SITEWIDE_MIN_PAGES",
            10,
            int,
            "The fewest linking pages for `sitewide`: fewer than 10 pages is too small a site to tell.",
        ),
        Setting(
            "RISK_FARM_LINKS",
            100,
            int,
            "External links on one page above which its links are flagged `link_farm`: an article rarely has "
            "more than a few dozen, a link directory or farm page hundreds.",
        ),
        Setting(
            "RISK_ANCHOR_SHARE",
            0.2,
            float,
            "The share of a domain's links one commercial anchor must carry for `exact_anchor`: natural profiles "
            "are dominated by brand and URL anchors, so one commercial phrase on a fifth of all links was chosen "
            "by whoever bought them.",
        ),
        Setting(
            "RISK_ANCHOR_MIN_LINKS",
            10,
            int,
            "The fewest links carrying that anchor for `exact_anchor`.",
        ),
        Setting(
            "RISK_SUBNET_DOMAINS",
            5,
            int,
            "Referring domains from one /24 (IPv4) or /48 (IPv6) linking to the same domain for "
            "`subnet_cluster`: shared hosting puts a few unrelated sites on one /24; five or more suggests one "
            "owner.",
        ),
        # Alerts after `summarize` (linkcrawler.profile.webhooks): a receiver down or hanging costs the run at most
        # NOTIFY_MAX_SECONDS (plus one timeout); what is not delivered waits in the spool for the next run.
        Setting(
            "NOTIFY_URLS",
            [],
            list,
            "Comma-separated webhook URLs alerted after each `summarize` (`--notify` replaces them).",
        ),
        Setting(
            "NOTIFY_MIN_AUTHORITY",
            0.0,
            float,
            "Alerts list only links from referring domains with at least this authority, 0-100 "
            "(`--notify-min-authority`).",
        ),
        Setting(
            "NOTIFY_LINKS",
            10,
            int,
            "Links listed per kind (new, lost, broken) in an alert's body.",
        ),
        Setting(
            "NOTIFY_TIMEOUT",
            10.0,
            float,
            "Seconds each alert POST may take.",
        ),
        Setting(
            "NOTIFY_RETRIES",
            3,
            int,
            "Retries of an alert POST that failed.",
        ),
        Setting(
            "NOTIFY_BACKOFF",
            1.0,
            float,
            "Seconds before the first retry of an alert POST, doubled after each retry.",
        ),
        Setting(
            "NOTIFY_MAX_SECONDS",
            60.0,
            float,
            "All alert deliveries of one run together; what is left is kept for the next run.",
        ),
        Setting(
            "NOTIFY_SPOOL_DIR",
            "linkcrawler-alerts",
            str,
            "Where undelivered alerts wait for the next run (give the profile job a volume for it).",
        ),
        # The spool's bounds: a kept alert older than this, or beyond this many (the oldest first), is dropped.
        Setting(
            "NOTIFY_SPOOL_MAX_AGE_SECONDS",
            7 * 86_400.0,
            float,
            "A kept alert older than this is dropped.",
        ),
        Setting(
            "NOTIFY_SPOOL_MAX_FILES",
            1000,
            int,
            "At most this many kept alerts; the oldest beyond it are dropped.",
        ),
        Setting(
            "LOG_LEVEL",
            "INFO",
            str,
            "Scrapy's own: the least severe log level written (`DEBUG`, `INFO`, `WARNING`, `ERROR`).",
        ),
    )
}


def default(name: str) -> Any:
    """The one default of a setting (a fresh copy of a list, so callers may change theirs)."""
    value = SETTINGS[name].default
    return type(value)(value) if isinstance(value, list | dict) else value


def environment_values(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings the environment sets (blank counts as unset), parsed."""
    environ = os.environ if environ is None else environ
    values = {}
    for name, spec in SETTINGS.items():
        raw = environ.get(name, "").strip()
        if raw:
            values[name] = spec.from_text(raw, "environment variable")
    return values


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every setting's value: the environment variable's where it is set and not blank, else the default."""
    return {name: default(name) for name in SETTINGS} | environment_values(environ)


def get(settings: Any, name: str) -> Any:
    """A setting as a component reads it: from Scrapy settings (environment or `-s`), else its default."""
    spec = SETTINGS[name]
    value = None if settings is None else settings.get(name)
    if value is None:
        return default(name)
    if isinstance(value, str):  # as `-s NAME=VALUE` gives it: parsed as the environment's would be
        return spec.from_text(value.strip(), "setting") if value.strip() or spec.kind is str else default(name)
    return getattr(settings, _KINDS[spec.kind][2])(name)


def project_settings() -> Any:
    """The settings a worker started here would read: the project's settings module, `settings.local` by default.

    Commands run from any directory, where Scrapy finds no `scrapy.cfg`:
    without the fallback they would see Scrapy's defaults instead of the
    project's, and ignore what the environment sets.
    """
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    if not settings.get("SETTINGS_MODULE"):
        settings.setmodule(DEFAULT_SETTINGS_MODULE, priority="project")
        settings.set("SETTINGS_MODULE", DEFAULT_SETTINGS_MODULE, priority="project")
    # The module read the environment when it was first imported; a long-lived caller sees today's.
    settings.setdict(environment_values(), priority="project")
    return settings
