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
  the URL and the body, readable by its owner only: the URL is often a
  secret) and sent, oldest first, before the next run's own alerts; its file
  is removed once delivered.

Delivered means a 2xx answer. An alert is dropped, counted in the report and
never sent again, when waiting longer makes no sense:

- the receiver refused it: a 4xx answer other than 408 and 429 (which ask to
  try again) will be the same next time;
- the receiver redirects (3xx): redirects are not followed (a POST turned
  into a GET by a 301, 302 or 303 would lose the alert, and a webhook that
  moved is a configuration to fix), so it is a refusal too;
- it was kept for its URL and that URL is no longer configured: alerts go
  only to the receivers the run names;
- it waited longer than `NOTIFY_SPOOL_MAX_AGE_SECONDS`, or more than
  `NOTIFY_SPOOL_MAX_FILES` wait (the oldest go): a receiver down for good
  must not fill the disk.

Requests go straight to the receiver (no HTTP proxy), with the standard
library's client. Webhook URLs often carry their secret in the path (Slack's
do), so messages name only scheme and host.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from linkcrawler import config
from linkcrawler.errors import UserError, check_writable_directory
from linkcrawler.profile.jsonout import dumps

SPOOL_SUFFIX = ".alert.json"
DELIVERED, KEPT, DROPPED = "delivered", "kept", "dropped"
RETRIED_4XX = (408, 429)
"""Request Timeout and Too Many Requests: the only client errors that ask to be tried again."""


@dataclass
class DeliveryReport:
    delivered: int = 0
    kept: int = 0
    problems: dict[str, str] = field(default_factory=dict)
    """Receiver (scheme://host) -> the last reason an alert to it was not delivered."""
    dropped: Counter[str] = field(default_factory=Counter)
    """Why alerts were dropped, never to be sent again -> how many."""


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout: float
    retries: int
    backoff: float
    max_seconds: float
    spool: Path
    spool_max_age: float
    spool_max_files: int

    @classmethod
    def from_settings(cls, settings: Any) -> DeliveryPolicy:
        return cls(
            config.get(settings, "NOTIFY_TIMEOUT"),
            config.get(settings, "NOTIFY_RETRIES"),
            config.get(settings, "NOTIFY_BACKOFF"),
            config.get(settings, "NOTIFY_MAX_SECONDS"),
            Path(config.get(settings, "NOTIFY_SPOOL_DIR")),
            config.get(settings, "NOTIFY_SPOOL_MAX_AGE_SECONDS"),
            config.get(settings, "NOTIFY_SPOOL_MAX_FILES"),
        )

    def check_spool(self) -> None:
        """Make sure undelivered alerts can be kept, before the job runs: else `UserError`, and nothing is done.

        A spool directory it creates is its owner's only; one that exists keeps its mode (it may be shared).
        """
        with contextlib.suppress(OSError):  # what is wrong is for check_writable_directory to say
            self.spool.mkdir(mode=0o700, parents=True, exist_ok=True)
        check_writable_directory(self.spool, "NOTIFY_SPOOL_DIR", "nothing was summarized")


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


class _RedirectsRefused(urllib.request.HTTPRedirectHandler):
    """A redirect comes back as the 3xx error it is, never followed (see the module docstring)."""

    def redirect_request(self, *args: Any) -> None:
        return None


@dataclass(frozen=True)
class _Failure:
    reason: str
    final: bool
    """True when trying again cannot help: the alert is dropped."""


@dataclass(frozen=True)
class _Spooled:
    path: Path
    url: str
    data: str


class Notifier:
    """Sends bodies to URLs under a `DeliveryPolicy`, spooled ones first."""

    def __init__(self, policy: DeliveryPolicy) -> None:
        self.policy = policy
        self.given_up: set[str] = set()
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _RedirectsRefused())

    def deliver(self, urls: list[str], bodies: list[dict[str, Any]]) -> DeliveryReport:
        """Kept alerts first (oldest first), then each body to every URL; a failure is reported, not raised."""
        report = DeliveryReport()
        deadline = time.monotonic() + self.policy.max_seconds
        self.given_up.clear()
        kept: list[Path] = []
        for alert in self._spooled(urls, report):
            outcome = self._send(alert.url, alert.data, deadline, report)
            if outcome == KEPT:
                kept.append(alert.path)
            else:
                alert.path.unlink()
                report.delivered += outcome == DELIVERED
        for body in bodies:
            data = dumps(body)
            for url in urls:
                outcome = self._send(url, data, deadline, report)
                if outcome == KEPT:
                    kept.append(self._keep(url, data))
                report.delivered += outcome == DELIVERED
        report.kept = len(kept) - self._trim(kept, report)
        return report

    def _spooled(self, urls: list[str], report: DeliveryReport) -> list[_Spooled]:
        """The kept alerts still worth sending, oldest first; those too old or for a URL gone are dropped here."""
        alerts, now = [], time.time()
        for path in sorted(self.policy.spool.glob(f"*{SPOOL_SUFFIX}")):
            try:
                kept = json.loads(path.read_text(encoding="utf-8"))
                alert, kept_at = _Spooled(path, kept["url"], kept["body"]), int(path.name.partition("-")[0]) / 1e9
            except (OSError, ValueError, KeyError, TypeError):
                report.problems[str(path)] = "not a spooled alert; left in place"
                continue
            if now - kept_at > self.policy.spool_max_age:
                reason = f"kept longer than NOTIFY_SPOOL_MAX_AGE_SECONDS ({self.policy.spool_max_age:g})"
            elif alert.url not in urls:
                reason = f"kept for {receiver(alert.url)}, which is no longer configured (NOTIFY_URLS, --notify)"
            else:
                alerts.append(alert)
                continue
            path.unlink()
            report.dropped[reason] += 1
        return alerts

    def _trim(self, kept: list[Path], report: DeliveryReport) -> int:
        """Drop the oldest kept alerts beyond `NOTIFY_SPOOL_MAX_FILES`; how many were dropped."""
        excess = sorted(kept)[: max(0, len(kept) - self.policy.spool_max_files)]
        for path in excess:
            path.unlink()
        if excess:
            report.dropped[f"the oldest beyond NOTIFY_SPOOL_MAX_FILES ({self.policy.spool_max_files})"] += len(excess)
        return len(excess)

    def _send(self, url: str, data: str, deadline: float, report: DeliveryReport) -> str:
        """POST with retries until `deadline`: DELIVERED, KEPT (the last reason in `report`) or DROPPED (counted).

        A URL that failed every retry once is not tried again in this run: its other alerts go to the spool at once.
        """
        if url in self.given_up:
            return KEPT
        delay, reason = self.policy.backoff, ""
        for attempt in range(self.policy.retries + 1):
            if attempt:
                time.sleep(max(0.0, min(delay, deadline - time.monotonic())))
                delay *= 2
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                reason = reason or f"out of time (NOTIFY_MAX_SECONDS {self.policy.max_seconds:g})"
                break
            failure = self._post(url, data, min(self.policy.timeout, remaining))
            if failure is None:
                return DELIVERED
            if failure.final:
                report.dropped[f"{receiver(url)} answered {failure.reason}"] += 1
                return DROPPED
            reason = failure.reason
        report.problems[receiver(url)] = reason
        self.given_up.add(url)
        return KEPT

    def _post(self, url: str, data: str, timeout: float) -> _Failure | None:
        """None when the receiver answered 2xx, else why not, in a few words, and whether that is final."""
        request = urllib.request.Request(
            url, data.encode("utf-8"), {"Content-Type": "application/json", "User-Agent": "linkcrawler"}, method="POST"
        )
        try:
            with self.opener.open(request, timeout=timeout) as response:
                response.read(64 * 1024)
                return None
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:
                return _Failure(f"HTTP {exc.code}, a redirect: not followed, configure the URL it names", final=True)
            return _Failure(f"HTTP {exc.code}", final=400 <= exc.code < 500 and exc.code not in RETRIED_4XX)
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return _Failure(str(reason) or type(reason).__name__, final=False)

    def _keep(self, url: str, data: str) -> Path:
        """Write one undelivered alert to the spool atomically (a crash leaves no half file), for its owner only."""
        self.policy.spool.mkdir(mode=0o700, parents=True, exist_ok=True)
        digest = hashlib.sha256(f"{url}\n{data}".encode()).hexdigest()[:16]
        path = self.policy.spool / f"{time.time_ns():020d}-{digest}{SPOOL_SUFFIX}"
        temporary = path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(json.dumps({"url": url, "body": data}))
        os.replace(temporary, path)
        return path
