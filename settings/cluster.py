"""Cluster workers: everything from the environment, and no default may point at localhost.

A worker that silently fell back to a local Redis would crawl alone, so
REDIS_URL and MONGO_URI have no default here. Importing this module never
fails (a traceback from deep inside Scrapy's settings loader helps nobody);
`scrapy crawl` checks REQUIRED_SETTINGS before it starts and names what is
missing in one line.
"""

import os

from settings.base import *  # noqa: F403

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
MONGO_URI = os.environ.get("MONGO_URI", "").strip()

# Settings `scrapy crawl` refuses to start without (checked in linkcrawler/cli/commands/crawl.py).
REQUIRED_SETTINGS = ["REDIS_URL", "MONGO_URI"]
