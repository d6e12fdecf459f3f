"""robots.txt as RFC 9309 reads it, bounded: Scrapy's robots middleware with the RFC's rules.

- 2xx: parse at most `max_robots_size` bytes (the RFC allows stopping at 500 KiB);
- 3xx: follow up to five redirects, to other hosts too; more, or an unusable Location, is
  "unavailable" (allow all); all hops together within `link_deadline`;
- 4xx: unavailable, allow all;
- 5xx, a timeout or a connection error: unreachable, complete disallow for that host in this
  run. Its links end as `blocked` (5xx) or `robots_unreachable` (no answer): unverifiable,
  never broken. A host name that does not resolve, a refused address (the private-address
  guard) or a failed TLS handshake is not an answer of the host: its requests go on and fail
  the same way with their own verdict (`dns_error`, `blocked`, `tls_error`), since an expired
  domain is the commonest broken link.
"""

from __future__ import annotations

import logging
from time import monotonic
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, StopDownload
from scrapy.http import Request
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler
from twisted.internet.defer import Deferred

from shelfcheck.crawler.failures import (
    REDIRECTS,
    InvalidRedirect,
    classify_failure,
    redirect_target,
)
from shelfcheck.crawler.settings import link_deadline, shelfcheck_setting

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)
ROBOTS_META = "shelfcheck_robots_limit"
MAX_HOPS = 5


class RobotsUnavailable(IgnoreRequest):
    """A request not sent because its host's robots.txt was unreachable (complete disallow)."""

    def __init__(self, verdict: str, detail: str) -> None:
        super().__init__(detail)
        self.verdict, self.detail = verdict, detail


class DisallowAll:
    """The parser of an unreachable robots.txt: nothing may be fetched."""

    def __init__(self, verdict: str, detail: str) -> None:
        self.verdict, self.detail = verdict, detail

    def allowed(self, url: str, user_agent: Any) -> bool:
        return False

    def crawl_delay(self, user_agent: Any) -> None:
        return None


class RFC9309RobotsMiddleware(RobotsTxtMiddleware):
    """Downloader middleware: Scrapy's `RobotsTxtMiddleware` with RFC 9309's status rules."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.max_size = int(shelfcheck_setting(crawler.settings, "max_robots_size"))
        self.timeout = crawler.settings.getfloat("DOWNLOAD_TIMEOUT")
        self.deadline = link_deadline(crawler.settings)
        crawler.signals.connect(self._bytes_received, signal=signals.bytes_received)

    def _bytes_received(self, data: bytes, request: Request) -> None:
        limit = request.meta.get(ROBOTS_META)
        if limit:
            seen = request.meta.get("shelfcheck_robots_bytes", 0) + len(data)
            request.meta["shelfcheck_robots_bytes"] = seen
            if seen >= limit:
                raise StopDownload(fail=False)

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        if isinstance(rp, DisallowAll):
            self._stats.inc_value("robotstxt/unreachable_forbidden")
            raise RobotsUnavailable(rp.verdict, rp.detail)
        super().process_request_2(rp, request)

    async def robot_parser(self, request: Request) -> RobotParser | None:
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self._parsers:
            waiting: Deferred[Any] = Deferred()
            self._parsers[netloc] = waiting
            try:
                parser = await self._read(f"{url.scheme}://{netloc}/robots.txt", request)
            except Exception as exc:  # a bug must not strand the host's requests
                logger.debug("reading robots.txt of %s failed", netloc, exc_info=True)
                parser = DisallowAll("check_error", f"robots.txt could not be read: {exc!r}")
            self._parsers[netloc] = parser
            self._stats.inc_value("robotstxt/request_count")
            waiting.callback(parser)
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    async def _read(self, robots_url: str, request: Request) -> Any:
        """The parser for a host's robots.txt, after at most `MAX_HOPS` redirects."""
        url = robots_url
        assert self.crawler.engine is not None
        deadline = monotonic() + self.deadline
        for _hop in range(MAX_HOPS + 1):
            left = deadline - monotonic()
            if left <= 0.1:
                return self._too_slow()
            robots_request = Request(
                url, priority=self.DOWNLOAD_PRIORITY, callback=NO_CALLBACK,
                meta={"dont_obey_robotstxt": True, "dont_redirect": True, "dont_retry": True,
                      "handle_httpstatus_all": True, ROBOTS_META: self.max_size,
                      "download_timeout": min(self.timeout, left)})
            try:
                response = await self.crawler.engine.download_async(robots_request)
            except Exception as exc:
                if deadline - monotonic() <= 0.1:
                    return self._too_slow()
                return self._unreachable(url, exc, request)
            status = response.status
            self._stats.inc_value(f"robotstxt/response_status_count/{status}")
            location = response.headers.get(b"Location")
            if status in REDIRECTS and location:
                try:
                    url = redirect_target(response.url, location)
                except InvalidRedirect:
                    return self._parse(b"", request)
                continue
            if 200 <= status < 300:
                return await self._parsed(response, request)
            if 500 <= status < 600:
                return DisallowAll("blocked", f"robots.txt answered HTTP {status}; RFC 9309 "
                                   "treats the host as disallowed for this run")
            return self._parse(b"", request)  # 4xx and the rest: unavailable, allow all
        return self._parse(b"", request)  # more than five redirects: unavailable

    def _too_slow(self) -> DisallowAll:
        return DisallowAll("robots_unreachable", f"robots.txt took longer than {self.deadline:g} s"
                           " over its redirects (link_deadline); RFC 9309 treats the host as "
                           "disallowed for this run")

    def _unreachable(self, url: str, exc: Exception, request: Request) -> Any:
        verdict, detail = classify_failure(exc)
        if verdict in ("dns_error", "blocked", "tls_error"):
            # No HTTP byte can reach the host: its own requests fail the same way, each with
            # its own detail (the address guard, the name, the certificate).
            return self._parse(b"", request)
        return DisallowAll("robots_unreachable",
                           f"robots.txt did not answer ({verdict}: {detail}); RFC 9309 treats "
                           "the host as disallowed for this run")

    def _parse(self, body: bytes, request: Request) -> Any:
        return build_from_crawler(self._parserimpl, self.crawler, body)

    async def _parsed(self, response: Response, request: Request) -> Any:
        self._stats.inc_value("robotstxt/response_count")
        parser = self._parse(response.body[:self.max_size], request)
        await self.crawler.signals.send_catch_log_async(
            signal=signals.robots_parsed, robotparser=parser, request=request)
        return parser

