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
        Setting("REDIS_URL", "redis://127.0.0.1:6379/0", str),
        Setting("REDIS_RETRIES", 10, int),
        Setting("REDIS_CLUSTER", False, bool),
        Setting("MONGO_URI", "mongodb://127.0.0.1:27017/", str),
        Setting("MONGO_DATABASE", "linkcrawler", str),
        # The frontier.
        Setting("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter", str),
        Setting("BLOOM_CAPACITY", 10_000_000, int),
        Setting("BLOOM_ERROR_RATE", 0.001, float),
        Setting("PAGES_PER_DOMAIN", 0, int),
        Setting("DEPTH_LIMIT", 0, int),
        Setting("ALLOWED_DOMAINS", [], list),
        Setting("DENIED_DOMAINS", [], list),
        Setting("MAX_QUERY_PARAMS", 16, int),
        Setting("IDLE_CLOSE_SECONDS", 0.0, float),
        Setting("WORKER_HEARTBEAT_SECONDS", 1.0, float),
        Setting("FRONTIER_LEASES", True, bool),
        Setting("FRONTIER_PREFETCH", 4, int),
        Setting("FRONTIER_PARTITIONS", 0, int),
        Setting("LEASE_SECONDS", 30.0, float),
        # Downloading and politeness.
        Setting("USER_AGENT", "linkcrawler/0.1 (+https://github.com/linkcrawler/linkcrawler)", str),
        Setting("ROBOTSTXT_OBEY", True, bool),
        Setting("ROBOTSTXT_CRAWL_DELAY", True, bool),
        Setting("ROBOTSTXT_SHARE_SECONDS", 86_400, int),
        Setting("POLITENESS_ENABLED", True, bool),
        Setting("POLITENESS_CONCURRENCY", 2, int),
        Setting("POLITENESS_DELAY", 0.0, float),
        Setting("POLITENESS_BY", "host", str),
        Setting("POLITENESS_MAX_DELAY", 30.0, float),
        Setting("POLITENESS_SLOT_SECONDS", 0.0, float),
        Setting("CONCURRENT_REQUESTS", 32, int),
        Setting("CONCURRENT_REQUESTS_PER_DOMAIN", 4, int),
        Setting("DOWNLOAD_DELAY", 0.0, float),
        # Scrapy starts this many tasks per response to run its output through the pipelines in parallel
        # (its default 100). Ours are synchronous, so the tasks only cost time (bench/crawl.py measures).
        Setting("CONCURRENT_ITEMS", 16, int),
        Setting("DOWNLOAD_TIMEOUT", 30, int),
        Setting("DOWNLOAD_MAXSIZE", 10 * 1024 * 1024, int),
        Setting("DOWNLOAD_WARNSIZE", 2 * 1024 * 1024, int),
        # A response's status line and headers, which Scrapy does not bound (linkcrawler.downloader.headers);
        # as much as Chrome takes.
        Setting("DOWNLOAD_MAX_HEADER_BYTES", 256 * 1024, int),
        Setting("RETRY_TIMES", 2, int),
        Setting("CRAWL_NETWORKS", [], list),
        Setting("CRAWL_HOSTS", {}, dict),
        Setting("CRAWL_HOSTS_ONLY", False, bool),
        # Scrapy's own switch for `http_proxy`/`https_proxy` (its HttpProxyMiddleware), off unless the operator
        # opts in: through a proxy only the proxy's address meets the network policy, the proxy resolves targets.
        Setting("HTTPPROXY_ENABLED", False, bool),
        # Seeds from sitemaps (`linkcrawler seed --sitemaps`), per site: the sitemaps protocol's own limits
        # (50,000 URLs and 50 MB a file) for one file, and no more than that many index entries fetched.
        Setting("SITEMAP_MAX_FILES", 50, int),
        Setting("SITEMAP_MAX_BYTES", 50 * 1024 * 1024, int),
        Setting("SITEMAP_MAX_URLS", 50_000, int),
        # Extraction and what is stored of it.
        Setting("TRACKING_PARAMS", list(TRACKING_PARAMS), list),
        Setting("MAX_URL_LENGTH", 2048, int),
        Setting("MAX_ANCHOR_LENGTH", 300, int),
        Setting("MAX_DOCUMENT_LENGTH", 15 * 1024 * 1024, int),
        Setting("MAX_LINKS_PER_PAGE", 20_000, int),
        Setting("STORE_INTERNAL_LINKS", False, bool),
        # Storage.
        Setting("STORE_BATCH_SIZE", 4000, int),
        Setting("STORE_FLUSH_SECONDS", 5.0, float),
        Setting("STORE_RETRY_TIMES", 5, int),
        Setting("STORE_RETRY_BACKOFF", 0.5, float),
        Setting("STORE_RETRY_BACKOFF_MAX", 30.0, float),
        Setting("STORE_BUFFER_SIZE", 10_000, int),
        Setting("STORE_SPILL_DIR", "linkcrawler-spill", str),
        Setting("STORE_WRITE_TIMEOUT", 10.0, float),
        # `linkcrawler replay` deletes the files it replayed (and files of writers that died before naming theirs)
        # once they are this old: kept a while to check a replay against, never forever.
        Setting("STORE_REPLAYED_RETENTION_DAYS", 7.0, float),
        # Link risk flags in profiles (linkcrawler.profile.risk; the README says why these values).
        Setting("RISK_SITEWIDE_SHARE", 0.5, float),
        Setting("RISK_SITEWIDE_MIN_PAGES", 10, int),
        Setting("RISK_FARM_LINKS", 100, int),
        Setting("RISK_ANCHOR_SHARE", 0.2, float),
        Setting("RISK_ANCHOR_MIN_LINKS", 10, int),
        Setting("RISK_SUBNET_DOMAINS", 5, int),
        # Alerts after `summarize` (linkcrawler.profile.webhooks): a receiver down or hanging costs the run at most
        # NOTIFY_MAX_SECONDS (plus one timeout); what is not delivered waits in the spool for the next run.
        Setting("NOTIFY_URLS", [], list),
        Setting("NOTIFY_MIN_AUTHORITY", 0.0, float),
        Setting("NOTIFY_LINKS", 10, int),
        Setting("NOTIFY_TIMEOUT", 10.0, float),
        Setting("NOTIFY_RETRIES", 3, int),
        Setting("NOTIFY_BACKOFF", 1.0, float),
        Setting("NOTIFY_MAX_SECONDS", 60.0, float),
        Setting("NOTIFY_SPOOL_DIR", "linkcrawler-alerts", str),
        # The spool's bounds: a kept alert older than this, or beyond this many (the oldest first), is dropped.
        Setting("NOTIFY_SPOOL_MAX_AGE_SECONDS", 7 * 86_400.0, float),
        Setting("NOTIFY_SPOOL_MAX_FILES", 1000, int),
        Setting("LOG_LEVEL", "INFO", str),
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
