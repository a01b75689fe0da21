"""`scrapy fetch`, `view` and `shell` here: one URL through the project's downloader, without the crawl's services.

The project's settings wire a crawl: the Redis frontier as scheduler and
seen-set, robots.txt and politeness shared across workers in Redis, pages
stored in MongoDB. A developer looking at one URL needs none of that, and
with it the commands ended in a traceback when Redis or MongoDB was not
running and hung when both were. These commands keep what decides whether
and how a URL is fetched (the network policy, robots.txt, the user agent,
timeouts and size limits) and use Scrapy's own scheduler, without the
shared components and the store.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from scrapy_redis.spiders import RedisMixin

SHARED_COMPONENTS = {
    "DOWNLOADER_MIDDLEWARES": (
        "linkcrawler.downloader.robots.RobotsTxtShare",
        "linkcrawler.downloader.politeness.PolitenessMiddleware",
    ),
    "ITEM_PIPELINES": ("pipelines.store.StorePipeline",),
}
"""The components that talk to Redis or MongoDB, turned off; each has a per-process counterpart or is not needed."""


def without_shared_services(settings: Any) -> None:
    """Scrapy's in-memory scheduler, nothing filtered as seen, and no component that needs Redis or MongoDB."""
    settings.set("SCHEDULER", "scrapy.core.scheduler.Scheduler", priority="cmdline")
    settings.set("DUPEFILTER_CLASS", "scrapy.dupefilters.BaseDupeFilter", priority="cmdline")
    for name, paths in SHARED_COMPONENTS.items():
        settings.set(name, settings.getdict(name) | dict.fromkeys(paths), priority="cmdline")


class Standalone:
    """Mixin for a Scrapy command that fetches one URL (`scrapy.commands.fetch`, `view`, `shell`)."""

    settings: Any
    crawler_process: Any
    exitcode: int

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        without_shared_services(self.settings)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        """Refuse, in one line, a `--spider` that reads the frontier: it needs Redis and never closes by itself."""
        if opts.spider and issubclass(self.crawler_process.spider_loader.load(opts.spider), RedisMixin):
            command = type(self).__module__.rsplit(".", 1)[-1]
            print(
                f"scrapy {command}: error: the {opts.spider} spider crawls the shared frontier; "
                f"run without --spider to fetch one URL through the project's downloader",
                file=sys.stderr,
            )
            self.exitcode = 2
            return
        super().run(args, opts)
