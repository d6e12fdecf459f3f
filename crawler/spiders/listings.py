"""The one listing spider: walks every provider's recipe (listing pages, pagination to the end,
detail pages, feeds) and hands each page to the provider's `ProviderWalk`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from shelfcheck.crawler.extract.model import Page
from shelfcheck.crawler.pagecache import META_PROVIDER, NOT_MODIFIED
from shelfcheck.crawler.walk import Fetch, ProviderWalk

log = logging.getLogger(__name__)
_T = TypeVar("_T")


@dataclass
class ProviderRun:
    """A provider's walk plus the count of its fetches still in flight."""

    walk: ProviderWalk
    pending: int = 0
    done: bool = False


@dataclass
class ListingJobs:
    """The walks one crawl runs, and what the caller hears when a provider is finished."""

    runs: dict[str, ProviderRun]
    on_done: Callable[[ProviderRun], None] | None = None
    close_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def failure_reason(failure: Failure) -> str:
    """A short reason for a failed fetch: "HTTP 503", "DNS lookup failed", "timeout", ..."""
    from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.internet.error import (
        ConnectionRefusedError,
        DNSLookupError,
        TCPTimedOutError,
        TimeoutError,
    )

    value = failure.value
    if isinstance(value, DownloadCancelledError) and not str(value):
        return "download cancelled: larger than max_download_size (or the crawl stopped)"
    if isinstance(value, HttpError):
        return f"HTTP {value.response.status}"
    if isinstance(value, DNSLookupError):
        return "DNS lookup failed"
    if isinstance(value, TimeoutError | TCPTimedOutError):
        return "timeout"
    if isinstance(value, ConnectionRefusedError):
        return "connection refused"
    if isinstance(value, IgnoreRequest):
        text = str(value) or "request ignored"
        return "blocked by robots.txt" if "robots" in text.lower() else text
    return f"{type(value).__name__}: {value}".strip(": ")[:200]


class ListingSpider(scrapy.Spider):
    """Fetches what each provider's walk asks for; the walks do the extraction."""

    name = "listings"

    def __init__(self, jobs: ListingJobs, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.jobs = jobs
        # One thread: each provider's walk sees its pages one at a time, in arrival order.
        self._extraction = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extraction")

    def _request(self, run: ProviderRun, fetch: Fetch) -> scrapy.Request:
        run.pending += 1
        return scrapy.Request(
            fetch.url,
            callback=self.parse_page,
            errback=self.page_failed,
            dont_filter=True,
            meta={META_PROVIDER: run.walk.slug, "fetch": fetch},
            priority={"listing": 20, "feed": 10, "preset-feed": 10, "detail": 0,
                      "moved": -10}.get(fetch.kind, 0),
        )

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """The listing URLs and feeds of every provider."""
        for run in self.jobs.runs.values():
            fetches = run.walk.start()
            if not fetches:
                self._finish(run)
            for fetch in fetches:
                yield self._request(run, fetch)

    def _finish(self, run: ProviderRun) -> None:
        if run.pending == 0 and not run.done:
            run.done = True
            if self.jobs.on_done is not None:
                self.jobs.on_done(run)

    async def _off_reactor(self, func: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Run extraction in the spider's one extraction thread, not in the reactor's.

        A listing of thousands of items takes seconds to extract; done in the reactor it would
        stall every other host's downloads and make their timeouts fire.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._extraction, partial(func, *args, **kwargs))

    def _read_page(self, run: ProviderRun, fetch: Fetch, response: Response) -> list[Fetch]:
        if not isinstance(response, TextResponse):
            raw_type = response.headers.get(b"Content-Type") or b"?"
            run.walk.on_failure(fetch, f"not a text page ({raw_type.decode('latin-1')})")
            return []
        raw_type = response.headers.get(b"Content-Type") or b"text/html"
        page = Page(response.url, response.text, raw_type.decode("latin-1"))
        try:
            return run.walk.on_page(fetch, page, not_modified=NOT_MODIFIED in response.flags)
        except Exception as exc:  # a page that breaks an extractor must not end the crawl
            log.exception("extraction failed on %s", response.url)
            run.walk.on_failure(fetch, f"extraction failed: {type(exc).__name__}: {exc}")
            return []

    async def parse_page(self, response: Response) -> list[scrapy.Request]:
        """Hand a page to its provider's walk; request what it leads to."""
        run = self.jobs.runs[response.meta[META_PROVIDER]]
        fetch: Fetch = response.meta["fetch"]
        fetches = await self._off_reactor(self._read_page, run, fetch, response)
        run.pending -= 1
        if run.pending == 0 and not fetches:
            fetches = run.walk.followups()
        out = [self._request(run, f) for f in fetches]
        self._finish(run)
        return out

    async def page_failed(self, failure: Failure) -> list[scrapy.Request]:
        """A page could not be fetched: the provider's crawl is incomplete."""
        request = failure.request  # type: ignore[attr-defined]
        run = self.jobs.runs[request.meta[META_PROVIDER]]
        response = getattr(failure.value, "response", None)
        await self._off_reactor(run.walk.on_failure, request.meta["fetch"],
                                failure_reason(failure),
                                status=response.status if response is not None else None)
        run.pending -= 1
        fetches = run.walk.followups() if run.pending == 0 else []
        out = [self._request(run, f) for f in fetches]
        self._finish(run)
        return out

    def closed(self, reason: str) -> None:
        """Remember why the crawl ended ("finished", "shutdown", "closespider_timeout", ...)."""
        self.jobs.close_reason = reason
        self._extraction.shutdown(wait=False, cancel_futures=True)
