"""Starting `scrapy crawl backlinks` workers as real processes, for the demo, tests and benchmarks.

Each worker is a separate Python process, as in production; its output goes
to a log file so a failing worker can be diagnosed after the fact.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from linkcrawler.frontier import keys


def worker_environment(redis_url: str, mongo_uri: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for a worker on the local settings module with the given services."""
    env = dict(os.environ)
    env.update(
        SCRAPY_SETTINGS_MODULE="settings.local",
        REDIS_URL=redis_url,
        MONGO_URI=mongo_uri,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra or {})
    return env


def loopback_settings(hosts: Mapping[str, str], idle_close_seconds: float = 3.0) -> dict[str, Any]:
    """Scrapy settings that confine a worker to a synthetic web on loopback.

    Proxies are off: an `http_proxy` inherited from the environment would
    otherwise carry the synthetic web's requests off the machine.
    """
    return {
        "HTTPPROXY_ENABLED": "False",
        "CRAWL_HOSTS": json.dumps(dict(hosts)),
        "CRAWL_HOSTS_ONLY": "True",
        "CRAWL_NETWORKS": "127.0.0.0/8",
        "IDLE_CLOSE_SECONDS": str(idle_close_seconds),
    }


class WorkerProcess:
    """One `scrapy crawl backlinks` process; `settings` become `-s NAME=VALUE` options.

    `spider` names another spider of the settings module in `env` (the
    benchmarks' baselines run the same way as our workers).
    """

    def __init__(
        self, env: Mapping[str, str], settings: Mapping[str, Any], log_path: Path, spider: str = keys.SPIDER_NAME
    ) -> None:
        self.env = dict(env)
        self.settings = dict(settings)
        self.log_path = log_path
        self.spider = spider
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        command = [sys.executable, "-m", "scrapy", "crawl", self.spider]
        for name, value in self.settings.items():
            command += ["-s", f"{name}={value}"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> int | None:
        """Ask for a graceful shutdown (as Ctrl-C would), then kill if it does not come."""
        if self.process is None:
            return None
        if self.running():
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
