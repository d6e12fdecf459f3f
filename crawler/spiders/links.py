"""The link-health spider: one check per catalog link, with a verdict from catalog.verdicts.

Each link is one `Task` that may take several requests: HEAD then GET, redirect hops (followed
by hand, so the chain and each hop's status are recorded and every hop obeys robots.txt, the
per-host limit and the address guard), retries with backoff, and waits for Retry-After, all
within the link's deadline. The jobs live in their own modules: feeding (`crawler.linkfeed`),
the task and its requests (`crawler.linktask`), answer handling (`crawler.linkanswers`), retries
(`crawler.linkretry`), the failure classifier (`crawler.failures`) and the page call-outs
(`crawler.linkjudge`).
No input leaves a link open: an exception while handling an answer ends it as `check_error`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from time import monotonic
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.utils.defer import _schedule_coro

from shelfcheck.catalog.verdicts import FAILING
from shelfcheck.crawler.linkanswers import PROBE_KINDS, LinkAnswers
from shelfcheck.crawler.linkfeed import Feeder, HostQueue
from shelfcheck.crawler.linkjudge import PageJudge, Probe
from shelfcheck.crawler.linkretry import LinkRetries, Tarpit
from shelfcheck.crawler.linksource import LinkRow, LinkSource
from shelfcheck.crawler.linktask import Task, build_request, first_method, result_item
from shelfcheck.errors import short_error

_log = logging.getLogger("links")  # the spider's own logger name

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

class LinkSpider(LinkAnswers, scrapy.Spider):
    """Checks the catalog's links; yields one result dict per link."""

    name = "links"
    per_host = 2
    max_in_flight = 128
    max_redirects = 10
    link_method = "auto"
    soft404_probe = True
    retries: LinkRetries

    def __init__(self, *, source: LinkSource | None = None, canary_url: str | None = None,
                 progress: Callable[[int, int, int], None] | None = None,
                 hosts: HostQueue | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.hosts = hosts  # None: every host of the source
        self.canary_url = canary_url
        self.progress = progress
        self.checked = 0
        self.failures = 0
        self.canary_failure: str | None = None
        self.error: str | None = None
        self.requests = 0
        self.finish_reason: str | None = None
        self.judge = PageJudge(self._done, self._crashed, self._follow, self._home_request)
        self.feeder: Feeder | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        s = crawler.settings
        spider.per_host = max(1, s.getint("CONCURRENT_REQUESTS_PER_DOMAIN"))
        spider.max_in_flight = max(1, s.getint("CONCURRENT_REQUESTS"))
        spider.max_redirects = s.getint("REDIRECT_MAX_TIMES")
        spider.link_method = s.get("SHELFCHECK_LINK_METHOD", "auto")
        spider.soft404_probe = s.getbool("SHELFCHECK_SOFT404_PROBE", True)
        spider.retries = LinkRetries(spider, s)
        return spider

    def closed(self, reason: str) -> None:
        """Scrapy's close callback: keep why the crawl ended (finished, closespider_timeout...)."""
        self.finish_reason = reason

    @property
    def total(self) -> int:
        return self.feeder.total if self.feeder is not None else 0

    @property
    def probes(self) -> dict[str, Probe]:
        return self.judge.probes

    # --- feeding -----------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        assert self.source is not None
        self.feeder = Feeder(self.source, self.per_host, self.max_in_flight, self.hosts)
        try:
            self.feeder.load()
        except Exception as exc:
            self._reading_failed(exc)
            return
        self._report()
        if self.canary_url:
            yield self._request(self._task("canary", self.canary_url, ""), self.canary_url,
                                "GET", priority=100)
        for output in self._refill():
            yield output

    def _refill(self, host: str | None = None) -> list[Any]:
        """What to send now (see `Feeder.refill`), as requests and items.

        Called at the start and whenever a link (of `host`) is done, so the requests come from
        callbacks and Scrapy's queues hold only a few requests per host. A link that ends
        before it is sent (no request can be made for it) makes room at once: fed again.
        """
        assert self.feeder is not None
        out: list[Any] = []
        hosts: list[str | None] = [host]
        while hosts:
            try:
                steps = self.feeder.refill(self.soft404_probe, hosts.pop())
            except Exception as exc:
                self._reading_failed(exc)
                break
            for step, row, priority in steps:
                if step == "invalid":
                    out.append(self._finish(self._task("link", row.url, "", row),
                                            "invalid_url", detail="not a valid http(s) URL"))
                elif step == "probe":
                    request = self._probe_request(row)
                    if request is not None:
                        out.append(request)
                else:
                    out.append(self._link_request(row, priority))
                    if isinstance(out[-1], dict):  # ended at once: its host has room again
                        hosts.append(row.host)
        return [o for o in out if o is not None]

    def _reading_failed(self, exc: Exception) -> None:
        """The catalog could not be read (the database went away): the run has failed."""
        if self.error is None:
            self.error = f"reading the links failed: {short_error(exc)}"
            self.logger.error("%s; stopping the link check", self.error)
        if self.crawler.engine is not None and self.crawler.engine.spider is not None:
            _schedule_coro(self.crawler.engine.close_spider_async(reason="source_error"))

    def _task(self, kind: str, url: str, host: str, row: LinkRow | None = None) -> Task:
        task = Task(kind, url, host)
        if row is not None:
            task.link_id, task.etag, task.last_modified = row.id, row.etag, row.last_modified
            task.row = row
        self.retries.start(task)
        return task

    def _link_request(self, row: LinkRow, priority: int = 0) -> Any:
        task = self._task("link", row.url, row.host, row)
        task.seen[row.url] = 1
        task.method = first_method(row.url, self.link_method)
        # The URL as written in the catalog: the normalized form is the link's identity only.
        written = (row.request_url or "").strip()
        try:
            error: ValueError | None = None
            for url in dict.fromkeys(u for u in (written, row.url) if u):
                try:
                    return self._request(task, url, task.method, conditional=True,
                                         priority=priority)
                except ValueError as exc:
                    error = exc
            return self._finish(task, "invalid_url", detail=str(error))
        except Exception as exc:  # never a link left open
            self.logger.debug("requesting %s raised", row.url, exc_info=exc)
            return self._finish(task, "check_error", detail=f"shelfcheck could not request it: "
                                f"{type(exc).__name__}: {short_error(exc)}")

    def _probe_request(self, row: LinkRow) -> Any:
        url = self.judge.probe_started(row.url, row.host)
        try:
            return self._request(self._task("probe", url, row.host), url, "GET", priority=50)
        except Exception:  # no probe: pages of the host are judged without one
            self.probes[row.host].pending = 0
            return None

    def _home_request(self, host: str, url: str) -> scrapy.Request | None:
        """The host's home page, to tell a site-wide page from a soft-404."""
        try:
            return self._request(self._task("home", url, host), url, "GET", priority=50)
        except Exception:
            return None

    def _request(self, task: Task, url: str, method: str, *, conditional: bool = False,
                 priority: int = 0) -> scrapy.Request:
        self.requests += 1
        return build_request(task, url, method, callback=self.on_response,
                             errback=self.on_error, timeout=self.retries.timeout,
                             conditional=conditional, priority=priority)

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self.checked, self.total, self.failures)

    # --- outcomes ----------------------------------------------------------------------------

    def _finish(self, task: Task, verdict: str, **fields: Any) -> dict[str, Any] | None:
        """Record the verdict of a task; returns the item for a link, else None."""
        if task.finished:
            return None
        task.finished = True
        if task.kind == "canary":
            if verdict not in ("ok", "redirected"):
                detail = fields.get("detail") or fields.get("status")
                self.canary_failure = f"{task.url}: {verdict} ({detail})"
            return None
        item = result_item(task, verdict, **fields)
        if _log.isEnabledFor(logging.DEBUG):  # Spider.logger builds an adapter per use
            _log.debug("checked %s: %s in %.2f s", task.url, verdict, monotonic() - task.started)
        if task.host and self.feeder is not None:
            self.feeder.done(task.host)
        self.checked += 1
        if verdict in FAILING:
            self.failures += 1
        self._report()
        return item

    def _done(self, task: Task, verdict: str, **fields: Any) -> Iterator[Any]:
        if task.kind in PROBE_KINDS:
            yield from self.judge.probe_done(task, None)
            return
        item = self._finish(task, verdict, **fields)
        if item is not None:
            yield item
        if task.kind == "link" and task.host:
            yield from self._refill(task.host)

    def _crashed(self, task: Task, exc: BaseException) -> Iterator[Any]:
        """An exception while handling `task`: end it with a verdict, never leave it open."""
        if isinstance(exc, Tarpit):
            yield from self._done(task, "tarpit", detail=str(exc))
            return
        self.logger.debug("checking %s raised", task.url, exc_info=exc)
        yield from self._done(task, "check_error",
                              detail=f"shelfcheck could not handle the answer: "
                                     f"{type(exc).__name__}: {short_error(exc)}")
