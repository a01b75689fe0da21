"""Cluster workers: everything from the environment, and no default may point at localhost.

A worker that silently fell back to a local Redis would crawl alone, so
REDIS_URL and MONGO_URI are required here.
"""

import os

from linkcrawler.errors import UserError
from settings.base import *  # noqa: F403

for _name in ("REDIS_URL", "MONGO_URI"):
    if not os.environ.get(_name, "").strip():
        raise UserError(f"{_name} must be set for settings.cluster (the shared service's URI)")
