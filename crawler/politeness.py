"""Scrapy components for polite, bounded link checks.

- `HostSlotMiddleware`: one download slot per host *and port*, so the per-host in-flight limit
  holds for every request to that host, robots.txt and redirect hops included.
- `CrawlDelay`: applies robots.txt ``Crawl-delay`` to the host's download slot (capped).
- `BodyPrefix`: reads at most a bounded prefix of a page, and no body at all of non-HTML files.
- `WaitMiddleware`: holds a request back (retry backoff, Retry-After) outside the host's slot.
- `PoliteDownloader`: enforces the per-host limit exactly (see its docstring).
"""

from __future__ import annotations

from time import monotonic
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.core.downloader import Downloader, Slot
from scrapy.exceptions import NotConfigured, StopDownload
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro, maybe_deferred_to_future

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Headers

HTML_TYPES = (b"text/html", b"application/xhtml", b"text/plain")
PREFIX_META = "shelfcheck_prefix"


def slot_key(url: str) -> str:
    """The politeness key of a URL: lower-case host, plus the port when it is not the default."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return host if port in (None, default) else f"{host}:{port}"


class HostSlotMiddleware:
    """Downloader middleware: put every request in its host's slot (see `slot_key`)."""

    def process_request(self, request: Request) -> None:
        request.meta["download_slot"] = slot_key(request.url)


class CrawlDelay:
    """Extension: honour robots.txt Crawl-delay on the host's download slot."""

    def __init__(self, crawler: Crawler, cap: float, agent: str) -> None:
        self.crawler = crawler
        self.cap = cap
        self.agent = agent
        self.delays: dict[str, float] = {}
        crawler.signals.connect(self.robots_parsed, signal=signals.robots_parsed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        return cls(crawler, crawler.settings.getfloat("SHELFCHECK_MAX_CRAWL_DELAY", 30.0),
                   crawler.settings.get("ROBOTSTXT_USER_AGENT") or "*")

    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        parser = getattr(robotparser, "rp", None)  # Protego behind Scrapy's ProtegoRobotParser
        if parser is None:
            return
        delay = parser.crawl_delay(self.agent)
        if not delay:
            return
        delay = min(float(delay), self.cap)
        key = slot_key(request.url)
        self.delays[key] = delay
        downloader = self.crawler.engine.downloader if self.crawler.engine else None
        if downloader is None:
            return
        downloader.per_slot_settings[key] = {"delay": delay, "jitter": 0}
        slot = downloader.slots.get(key)
        if slot is not None:
            slot.delay, slot.jitter = delay, 0


class BodyPrefix:
    """Extension: stop a download after `limit` bytes, or at the headers when it is not HTML.

    Only requests with ``meta["shelfcheck_prefix"]`` are affected; the response keeps what was
    read so far (``StopDownload(fail=False)``).
    """

    def __init__(self, crawler: Crawler, limit: int) -> None:
        self.limit = limit
        crawler.signals.connect(self.headers_received, signal=signals.headers_received)
        crawler.signals.connect(self.bytes_received, signal=signals.bytes_received)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, crawler.settings.getint("SHELFCHECK_BODY_PREFIX_SIZE", 256 * 1024))

    def headers_received(self, headers: Headers, body_length: int, request: Request) -> None:
        if not request.meta.get(PREFIX_META):
            return
        ctype = (headers.get(b"Content-Type") or b"").lower()
        if ctype and not ctype.startswith(HTML_TYPES):
            raise StopDownload(fail=False)

    def bytes_received(self, data: bytes, request: Request) -> None:
        if not request.meta.get(PREFIX_META):
            return
        seen = request.meta.get("shelfcheck_bytes", 0) + len(data)
        request.meta["shelfcheck_bytes"] = seen
        if seen >= self.limit:
            raise StopDownload(fail=False)


class WaitMiddleware:
    """Downloader middleware: hold a request for ``meta["shelfcheck_wait"]`` seconds (retry
    backoff, Retry-After) before it takes its host's download slot."""

    async def process_request(self, request: Request) -> None:
        wait = request.meta.pop("shelfcheck_wait", 0) or 0
        if wait > 0:
            from twisted.internet import reactor
            from twisted.internet.task import deferLater

            await maybe_deferred_to_future(deferLater(reactor, wait))


class PoliteDownloader(Downloader):
    """Scrapy's downloader with the per-slot concurrency limit enforced at once.

    With the asyncio reactor, Scrapy 2.19 starts each download as a task and marks it as
    transferring only when the task runs, so one pass over a slot's queue could start every
    queued request and exceed the per-host limit. Here a request counts as transferring from the
    moment it leaves the queue.
    """

    def _process_queue(self, slot: Slot) -> None:
        if slot.latercall:
            return
        now = monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:
                self._process_queue(slot)
                break
