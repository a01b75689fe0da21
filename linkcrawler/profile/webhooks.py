"""Delivering alert bodies to webhook URLs: retried, bounded in time, and kept on disk when they cannot go.

A receiver that is down or hangs must neither fail the profile job nor hold
it up for long, and must not lose an alert. So:

- each POST waits at most `NOTIFY_TIMEOUT` seconds, and is retried
  `NOTIFY_RETRIES` times after `NOTIFY_BACKOFF` seconds, doubled each time;
- all deliveries of a run share one budget, `NOTIFY_MAX_SECONDS`: once it is
  spent, what is left is not tried (a hanging receiver costs the run at most
  the budget plus one timeout), and a URL that failed all its retries once is
  not tried again in the run;
- an alert not delivered is written to `NOTIFY_SPOOL_DIR` (one JSON file:
  the URL and the body) and sent, oldest first, before the next run's own
  alerts; its file is removed once delivered.

Delivered means a 2xx answer. Requests go straight to the receiver (no HTTP
proxy), with the standard library's client. Webhook URLs often carry their
secret in the path (Slack's do), so messages name only scheme and host.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from linkcrawler import config
from linkcrawler.errors import UserError
from linkcrawler.profile.jsonout import dumps

SPOOL_SUFFIX = ".alert.json"


@dataclass
class DeliveryReport:
    delivered: int = 0
    kept: int = 0
    problems: dict[str, str] = field(default_factory=dict)
    """Receiver (scheme://host) -> the last reason an alert to it was not delivered."""


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout: float
    retries: int
    backoff: float
    max_seconds: float
    spool: Path

    @classmethod
    def from_settings(cls, settings: Any) -> DeliveryPolicy:
        return cls(
            config.get(settings, "NOTIFY_TIMEOUT"),
            config.get(settings, "NOTIFY_RETRIES"),
            config.get(settings, "NOTIFY_BACKOFF"),
            config.get(settings, "NOTIFY_MAX_SECONDS"),
            Path(config.get(settings, "NOTIFY_SPOOL_DIR")),
        )

    def check_spool(self) -> None:
        """Make sure undelivered alerts can be kept, before the job runs: else `UserError`, and nothing is done."""
        try:
            self.spool.mkdir(parents=True, exist_ok=True)
            probe = self.spool / ".writable"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise UserError(
                f"NOTIFY_SPOOL_DIR {self.spool} is not a writable directory ({exc.strerror or exc}); "
                "nothing was summarized"
            ) from None


def check_webhook_urls(urls: list[str]) -> list[str]:
    """The URLs, or one `UserError` naming the first that is not an absolute http(s) URL."""
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UserError(f"alert URL {receiver(url)!r} is not an absolute http(s) URL; nothing was summarized")
    return urls


def receiver(url: str) -> str:
    """scheme://host[:port] of a webhook URL: enough to say which receiver, without the secret in its path."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else url[:20]


class Notifier:
    """Sends bodies to URLs under a `DeliveryPolicy`, spooled ones first."""

    def __init__(self, policy: DeliveryPolicy) -> None:
        self.policy = policy
        self.given_up: set[str] = set()
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def deliver(self, urls: list[str], bodies: list[dict[str, Any]]) -> DeliveryReport:
        """Kept alerts first (oldest first), then each body to every URL; a failure is reported, not raised."""
        report = DeliveryReport()
        deadline = time.monotonic() + self.policy.max_seconds
        self.given_up.clear()
        for path in sorted(self.policy.spool.glob(f"*{SPOOL_SUFFIX}")):
            try:
                kept = json.loads(path.read_text(encoding="utf-8"))
                url, data = kept["url"], kept["body"]
            except (OSError, ValueError, KeyError, TypeError):
                report.problems[str(path)] = "not a spooled alert; left in place"
                continue
            if self._send(url, data, deadline, report):
                path.unlink()
                report.delivered += 1
            else:
                report.kept += 1
        for body in bodies:
            data = dumps(body)
            for url in urls:
                if self._send(url, data, deadline, report):
                    report.delivered += 1
                else:
                    self._keep(url, data)
                    report.kept += 1
        return report

    def _send(self, url: str, data: str, deadline: float, report: DeliveryReport) -> bool:
        """POST with retries until `deadline`; False (and the last reason in `report`) when not delivered.

        A URL that failed every retry once is not tried again in this run: its other alerts go to the spool at once.
        """
        if url in self.given_up:
            return False
        delay, reason = self.policy.backoff, ""
        for attempt in range(self.policy.retries + 1):
            if attempt:
                time.sleep(max(0.0, min(delay, deadline - time.monotonic())))
                delay *= 2
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                reason = reason or f"out of time (NOTIFY_MAX_SECONDS {self.policy.max_seconds:g})"
                break
            reason = self._post(url, data, min(self.policy.timeout, remaining)) or ""
            if not reason:
                return True
        report.problems[receiver(url)] = reason
        self.given_up.add(url)
        return False

    def _post(self, url: str, data: str, timeout: float) -> str | None:
        """None when the receiver answered 2xx, else why not, in a few words."""
        request = urllib.request.Request(
            url, data.encode("utf-8"), {"Content-Type": "application/json", "User-Agent": "linkcrawler"}, method="POST"
        )
        try:
            with self.opener.open(request, timeout=timeout) as response:
                response.read(64 * 1024)
                return None
        except urllib.error.HTTPError as exc:
            return f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return str(reason) or type(reason).__name__

    def _keep(self, url: str, data: str) -> None:
        """Write one undelivered alert to the spool atomically (a crash leaves no half file)."""
        self.policy.spool.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(f"{url}\n{data}".encode()).hexdigest()[:16]
        path = self.policy.spool / f"{time.time_ns():020d}-{digest}{SPOOL_SUFFIX}"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"url": url, "body": data}), encoding="utf-8")
        os.replace(temporary, path)
