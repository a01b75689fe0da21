"""`scrapy crawl`, with Redis and MongoDB checked before the reactor starts.

Scrapy reports a component that fails to start with a traceback from deep
inside Twisted; a worker whose Redis or MongoDB is unreachable, or whose
CRAWL_NETWORKS does not parse, should say so in one line and exit non-zero.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from linkcrawler import config
from linkcrawler.downloader.netpolicy import parse_networks
from linkcrawler.errors import UserError, check_writable_directory, mask_uri
from linkcrawler.frontier import keys
from linkcrawler.frontier.connection import redis_from_settings
from linkcrawler.frontier.format import check_format
from linkcrawler.frontier.partitions import Partitions
from linkcrawler.store.mongo import JOURNAL_SCHEME, get_database


def check_services(settings: object, spider: str = keys.SPIDER_NAME) -> None:
    """Raise `UserError` if a required setting is empty, the network policy is malformed, the shared Redis or
    MongoDB cannot be reached, the frontier in Redis is in a format this worker does not know
    (`linkcrawler.frontier.format`), or the spill directory (`STORE_SPILL_DIR`) cannot be written.

    REQUIRED_SETTINGS (a list of setting names, empty by default) is how a
    settings module such as settings.cluster says which values must come
    from the environment.
    """
    module = settings.get("SETTINGS_MODULE") or "the settings module"
    for name in settings.getlist("REQUIRED_SETTINGS"):
        if not str(settings.get(name) or "").strip():
            raise UserError(f"{name} must be set for {module}: export {name}=... (the shared service's URI)")
    try:
        parse_networks(settings.getlist("CRAWL_NETWORKS"))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    server = redis_from_settings(settings)
    try:
        check_format(server, Partitions.of_crawl(server, spider))
    finally:
        server.close()
    uri = settings.get("MONGO_URI")
    if not uri.startswith(JOURNAL_SCHEME):
        get_database(uri, settings.get("MONGO_DATABASE"))
        spill_dir = Path(config.get(settings, "STORE_SPILL_DIR"))
        check_writable_directory(
            spill_dir, "STORE_SPILL_DIR", "set it to a writable volume, where batches MongoDB cannot take are kept"
        )


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        try:
            check_services(self.settings, *args[:1])
        except UserError as exc:
            print(f"scrapy crawl: error: {mask_uri(str(exc))}", file=sys.stderr)
            self.exitcode = 2
            return
        super().run(args, opts)
