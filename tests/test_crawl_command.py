"""`scrapy crawl backlinks` refuses to start, in one line, when its services are unreachable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def crawl(**env):
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "backlinks"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={**os.environ, "SCRAPY_SETTINGS_MODULE": "settings.local", **env},
    )  # fmt: skip


def test_unreachable_redis(tmp_path):
    result = crawl(REDIS_URL="redis://:pw@127.0.0.1:1/0", MONGO_URI=f"journal://{tmp_path}")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("scrapy crawl: error: cannot reach Redis at redis://:***@127.0.0.1:1/0")


def test_unreachable_mongodb(redis_url):
    result = crawl(REDIS_URL=redis_url, MONGO_URI="mongodb://admin:pw@127.0.0.1:1/?serverSelectionTimeoutMS=500")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("scrapy crawl: error: cannot reach MongoDB at mongodb://admin:***@127.0.0.1:1/")


def test_wrong_uri_scheme(redis_url):
    result = crawl(REDIS_URL=redis_url, MONGO_URI="postgres://db/")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "scrapy crawl: error: MONGO_URI 'postgres://db/' has an unsupported scheme; "
        "use mongodb://HOST/, mongodb+srv://HOST/ or mongomock:// (in-process emulation)"
    ]
