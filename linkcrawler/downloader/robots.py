"""Scrapy's robots.txt middleware, with every waiting request actually checked.

In Scrapy 2.19 requests that arrive while a host's robots.txt is still being
downloaded all await one shared Deferred. Awaiting a Deferred from asyncio
(`Deferred.asFuture`) consumes its result, so only the first of them gets the
parser and the others get `None`, which the middleware reads as "no
robots.txt, everything allowed": on a fresh host, every request after the
first few slips past Disallow rules. Each waiter here gets a branch of the
Deferred that hands the parser on.

It also passes the site's Crawl-delay on to the shared politeness slots
(`linkcrawler.downloader.politeness`), which apply it across all workers,
and reads no more of a robots.txt than Google does (`ROBOTSTXT_MAX_BYTES`):
parsing runs on the reactor thread, and a 0.9 MB file of 40,000 rules
stalled every download and the heartbeat of its worker for seconds.

`RobotsTxtShare` keeps each robots.txt in Redis for the other workers:
Scrapy keeps it per process, so every worker fetched every site's
robots.txt, one more request under the site's delay per worker.
"""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from linkcrawler import config
from linkcrawler.downloader.politeness import CRAWL_DELAY_META
from linkcrawler.frontier import keys
from linkcrawler.frontier.connection import redis_from_settings
from linkcrawler.internals.scrapy_private import pending_robots_parser, robots_user_agent

logger = logging.getLogger(__name__)

ROBOTSTXT_MAX_BYTES = 500 * 1024
"""Google reads the first 500 KiB of a robots.txt and ignores the rest; RFC 9309 asks crawlers to read at least
that much. A crawler parsing more would only spend CPU on rules the site cannot rely on."""
TRUNCATED_STAT = "robotstxt/truncated"


def robots_head(body: bytes) -> bytes:
    """What is read of a robots.txt: its lines that end within the first `ROBOTSTXT_MAX_BYTES`.

    A line cut at the limit is dropped, not read in part: a rule cut short
    would refuse more than the site asked.
    """
    if len(body) <= ROBOTSTXT_MAX_BYTES:
        return body
    head = body[:ROBOTSTXT_MAX_BYTES]
    return head[: max(head.rfind(b"\n"), head.rfind(b"\r")) + 1]


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    """Replaces `scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware` (same order, 100)."""

    async def robot_parser(self, request: Any) -> Any:
        pending = pending_robots_parser(self, urlparse_cached(request).netloc)
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)
        branch: Deferred[Any] = Deferred()

        def hand_on(result: Any) -> Any:
            branch.callback(result)
            return result

        pending.addBoth(hand_on)
        return await maybe_deferred_to_future(branch)

    def process_response(self, request: Any, response: Response) -> Response:
        """A robots.txt past `ROBOTSTXT_MAX_BYTES` reaches the parser cut to its head (counted, logged once)."""
        if not is_robots_request(request) or len(response.body) <= ROBOTSTXT_MAX_BYTES:
            return response
        self.crawler.stats.inc_value(TRUNCATED_STAT)
        logger.info(
            "robots.txt %s is %s bytes: only its first %s are read, as Google does",
            response.url, f"{len(response.body):,}", f"{ROBOTSTXT_MAX_BYTES:,}",
        )  # fmt: skip
        return response.replace(body=robots_head(response.body))

    def process_request_2(self, rp: Any, request: Any) -> None:
        super().process_request_2(rp, request)
        if rp is not None:
            delay = rp.crawl_delay(robots_user_agent(self, request))
            if delay:
                request.meta[CRAWL_DELAY_META] = delay


SHARED_FLAG = "robots.txt shared"
"""`Response.flags` entry of a robots.txt read from Redis rather than downloaded."""


class RobotsTxtShare:
    """Downloader middleware between robots.txt (100) and politeness (110): one robots.txt fetch per site, shared.

    A robots.txt request (the one Scrapy's middleware sends, marked
    `dont_obey_robotstxt`) is answered from Redis when another worker
    fetched that URL less than `ROBOTSTXT_SHARE_SECONDS` ago (default one
    day, as long as Google caches one); it then costs the site no request
    and waits on no delay. A downloaded answer below 500 (a 404 means "no
    rules" to every worker alike) is stored for the others; a 5xx or an
    error is not, so each worker tries again. Two workers that ask for the
    same robots.txt at the same moment both fetch it. 0 turns sharing off.
    Only what is read of it (`robots_head`) is stored.

    Sharing is a saving, never a condition: with Redis unreachable, the
    worker fetches robots.txt itself and keeps its answer to itself (a
    warning says so). An error here would fail the robots.txt request, and
    Scrapy then obeys no rule for that site for the rest of the run.
    """

    def __init__(self, server: Any, prefix: str, seconds: int) -> None:
        self.server = server
        self.prefix = prefix
        self.seconds = seconds

    @classmethod
    def from_crawler(cls, crawler: Any) -> RobotsTxtShare:
        settings = crawler.settings
        seconds = config.get(settings, "ROBOTSTXT_SHARE_SECONDS")
        if not config.get(settings, "ROBOTSTXT_OBEY") or seconds <= 0:
            raise NotConfigured
        prefix = keys.spider_key(keys.ROBOTS_PREFIX, crawler.spidercls.name)
        return cls(redis_from_settings(settings), prefix, seconds)

    def process_request(self, request: Any) -> Response | None:
        if not is_robots_request(request):
            return None
        try:
            stored = self.server.get(self._key(request.url))
        except RedisError as exc:
            logger.warning("%s: not read from the shared robots.txt answers, fetched instead: %s", request.url, exc)
            return None
        if stored is None:
            return None
        status, _, body = stored.partition(b"\n")
        return Response(request.url, status=int(status), body=body, request=request, flags=[SHARED_FLAG])

    def process_response(self, request: Any, response: Response) -> Response:
        if is_robots_request(request) and SHARED_FLAG not in response.flags and response.status < 500:
            body = robots_head(response.body)  # this runs before RobotsTxtMiddleware's process_response cuts it
            try:
                self.server.set(self._key(request.url), b"%d\n" % response.status + body, ex=self.seconds)
            except RedisError as exc:
                logger.warning("%s: not shared with the other workers: %s", request.url, exc)
        return response

    def _key(self, url: str) -> str:
        return f"{self.prefix}:{url}"


def is_robots_request(request: Any) -> bool:
    """A robots.txt request, as Scrapy's robots middleware makes one (never a page of the crawl)."""
    return bool(request.meta.get("dont_obey_robotstxt")) and urlparse_cached(request).path == "/robots.txt"
