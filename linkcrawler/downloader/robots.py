"""Scrapy's robots.txt middleware, with every waiting request actually checked.

In Scrapy 2.19 requests that arrive while a host's robots.txt is still being
downloaded all await one shared Deferred. Awaiting a Deferred from asyncio
(`Deferred.asFuture`) consumes its result, so only the first of them gets the
parser and the others get `None`, which the middleware reads as "no
robots.txt, everything allowed": on a fresh host, every request after the
first few slips past Disallow rules. Each waiter here gets a branch of the
Deferred that hands the parser on.

It also passes the site's Crawl-delay on to the shared politeness slots
(`linkcrawler.downloader.politeness`), which apply it across all workers.
"""

from __future__ import annotations

from typing import Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from linkcrawler.downloader.politeness import CRAWL_DELAY_META
from linkcrawler.internals.scrapy_private import pending_robots_parser, robots_user_agent


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

    def process_request_2(self, rp: Any, request: Any) -> None:
        super().process_request_2(rp, request)
        if rp is not None:
            delay = rp.crawl_delay(robots_user_agent(self, request))
            if delay:
                request.meta[CRAWL_DELAY_META] = delay
