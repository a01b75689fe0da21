"""Settings modules read the environment the same way for every deployment."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = (
    "import json; from scrapy.utils.project import get_project_settings as g; s = g(); "
    "print(json.dumps({k: s.get(k) for k in ('REDIS_URL', 'MONGO_URI', 'PAGES_PER_DOMAIN', 'DEPTH_LIMIT', "
    "'DENIED_DOMAINS', 'TRACKING_PARAMS', 'ROBOTSTXT_OBEY')}))"
)


def settings_of(module: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "MONGO_URI")}
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, "SCRAPY_SETTINGS_MODULE": module, **env},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_cluster_settings_come_from_the_environment():
    result = settings_of(
        "settings.cluster",
        REDIS_URL="rediss://:pw@redis.internal:6380/2",
        MONGO_URI="mongodb+srv://crawler:pw@cluster0.example.net/",
        PAGES_PER_DOMAIN="500",
        DEPTH_LIMIT="4",
        DENIED_DOMAINS="ads.example, tracker.example",
        TRACKING_PARAMS="utm_*,ref",
        ROBOTSTXT_OBEY="true",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "REDIS_URL": "rediss://:pw@redis.internal:6380/2",
        "MONGO_URI": "mongodb+srv://crawler:pw@cluster0.example.net/",
        "PAGES_PER_DOMAIN": 500,
        "DEPTH_LIMIT": 4,
        "DENIED_DOMAINS": ["ads.example", "tracker.example"],
        "TRACKING_PARAMS": ["utm_*", "ref"],
        "ROBOTSTXT_OBEY": True,
    }


def test_cluster_settings_never_fall_back_to_localhost():
    """Loading the module succeeds (no traceback); the empty value is what `scrapy crawl` refuses."""
    result = settings_of("settings.cluster", MONGO_URI="mongodb://db/")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["REDIS_URL"] == ""


def test_local_settings_default_to_localhost():
    result = settings_of("settings.local")
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert (values["REDIS_URL"], values["MONGO_URI"]) == ("redis://127.0.0.1:6379/0", "mongodb://127.0.0.1:27017/")
