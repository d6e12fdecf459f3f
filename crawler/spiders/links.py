"""The link-health spider: one check per catalog link, with a verdict from crawler.verdicts.

Each link is one `Task` that may take several requests: HEAD then GET, redirect hops (followed
by hand, so the chain and each hop's status are recorded and every hop obeys robots.txt, the
per-host limit and the address guard), retries with backoff, and waits for Retry-After.
The spider feeds requests from `start()` host by host, so at most a few links per host wait in
Scrapy's queues and the catalog is never loaded into memory at once.
"""

from __future__ import annotations

import math
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response
from scrapy.utils.defer import _schedule_coro
from twisted.python.failure import Failure
from w3lib.url import safe_url_string

from shelfcheck.catalog.models import utcnow
from shelfcheck.catalog.urlnorm import InvalidURL, normalize_url
from shelfcheck.catalog.verdicts import FAILING
from shelfcheck.crawler.linkanalysis import (
    PERMANENT_REDIRECTS,
    REDIRECTS,
    PageSignature,
    classify_failure,
    looks_like,
    not_found_phrase,
    page_signature,
    retry_after_seconds,
    status_verdict,
)
from shelfcheck.crawler.linksource import LinkRow, LinkSource
from shelfcheck.crawler.politeness import PREFIX_META
from shelfcheck.crawler.tlsdiag import last_verify_error
from shelfcheck.errors import short_error

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

FILE_SUFFIXES = (
    ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".zip", ".gz", ".tar", ".mp3",
    ".mp4", ".m4a", ".mov", ".avi", ".wav", ".epub", ".png", ".jpg", ".jpeg", ".gif", ".svg",
    ".csv", ".txt", ".xml", ".json", ".odt", ".ods", ".odp", ".rtf",
)
WAIT_META = "shelfcheck_wait"


@dataclass
class Task:
    """One link (or the host probe, or the canary) being checked."""

    kind: str  # link | probe | canary
    url: str
    host: str
    link_id: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    method: str = "GET"
    fell_back: bool = False
    chain: list[dict[str, Any]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    attempts: int = 0
    rate_waits: int = 0
    latency: float = 0.0
    notes: list[str] = field(default_factory=list)


@dataclass
class HostFeed:
    """The links of one host still to send, and how many are out."""

    host: str
    rows: Iterator[LinkRow]
    outstanding: int = 0
    exhausted: bool = False
    ahead: deque[LinkRow] = field(default_factory=deque)
    remaining: int = 0  # links not yet sent

    @property
    def priority(self) -> int:
        """Longer queues first, so the busiest host, which sets the floor, is kept full
        (below the soft-404 probe's 50: pages wait for their host's probe)."""
        return min(self.remaining // 100, 40)

    def next(self) -> LinkRow | None:
        if self.ahead:
            return self.ahead.popleft()
        if self.exhausted:
            return None
        row = next(self.rows, None)
        if row is None:
            self.exhausted = True
        return row


@dataclass
class Probe:
    """A host's answer to a random path that cannot exist (None while pending or failed)."""

    done: bool = False
    signature: PageSignature | None = None
    parked: list[tuple[Task, Response, PageSignature]] = field(default_factory=list)

    @property
    def soft(self) -> bool:
        return self.signature is not None and 200 <= self.signature.status < 300


class LinkSpider(scrapy.Spider):
    """Checks the catalog's links; yields one result dict per link."""

    name = "links"
    per_host = 2
    max_in_flight = 64
    max_redirects = 10
    retry_times = 2
    retry_backoff = 1.0
    retry_after_cap = 60.0
    link_method = "auto"
    soft404_probe = True

    def __init__(self, *, source: LinkSource | None = None, canary_url: str | None = None,
                 progress: Callable[[int, int, int], None] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.canary_url = canary_url
        self.progress = progress
        self.total = 0
        self.checked = 0
        self.failures = 0
        self.canary_failure: str | None = None
        self.error: str | None = None
        self.probes: dict[str, Probe] = {}
        self.feeds: dict[str, HostFeed] = {}
        self.outstanding = 0
        self.requests = 0
        self._hosts: deque[tuple[str, int]] = deque()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        s = crawler.settings
        spider.per_host = max(1, s.getint("CONCURRENT_REQUESTS_PER_DOMAIN"))
        spider.max_in_flight = max(1, s.getint("CONCURRENT_REQUESTS"))
        spider.max_redirects = s.getint("REDIRECT_MAX_TIMES")
        spider.retry_times = s.getint("SHELFCHECK_RETRY_TIMES")
        spider.retry_backoff = s.getfloat("SHELFCHECK_RETRY_BACKOFF")
        spider.retry_after_cap = s.getfloat("SHELFCHECK_RETRY_AFTER_CAP")
        spider.link_method = s.get("SHELFCHECK_LINK_METHOD", "auto")
        spider.soft404_probe = s.getbool("SHELFCHECK_SOFT404_PROBE", True)
        return spider

    # --- feeding -----------------------------------------------------------------------------

    def _capacity(self) -> tuple[int, int, int]:
        # One task waiting per host keeps its slot busy; the global cap keeps the rest of the
        # catalog in the database, not in Scrapy's queues.
        host_cap = self.per_host + 1
        total_cap = self.max_in_flight + self.max_in_flight // 2
        max_hosts = max(4, 2 * math.ceil(self.max_in_flight / self.per_host))
        return host_cap, total_cap, max_hosts

    async def start(self) -> AsyncIterator[Any]:
        assert self.source is not None
        try:
            self._hosts = deque(self.source.hosts())
        except Exception as exc:
            self._reading_failed(exc)
            return
        self.total = sum(n for _h, n in self._hosts)
        self._report()
        if self.canary_url:
            yield self._request(Task("canary", self.canary_url, ""), self.canary_url, "GET",
                                priority=100)
        for output in self._refill():
            yield output

    def _refill(self) -> list[Any]:
        """What to send now: new hosts while there is room, then each host topped up.

        Called at the start and whenever a link is done, so the requests come from callbacks
        (one event-loop pass each) and Scrapy's queues hold only a few requests per host.
        """
        assert self.source is not None
        out: list[Any] = []
        host_cap, total_cap, max_hosts = self._capacity()
        try:
            while self._hosts and len(self.feeds) < max_hosts and self.outstanding < total_cap:
                host, count = self._hosts.popleft()
                if not host:
                    out.extend(self._finish(Task("link", row.url, "", row.id), "invalid_url",
                                            detail="not a valid http(s) URL")
                               for row in self.source.iter_host(host))
                    continue
                feed = HostFeed(host, self.source.iter_host(host), remaining=count)
                first: LinkRow | None = feed.next()
                if first is None:
                    continue
                self.feeds[host] = feed
                feed.ahead.append(first)
                if self.soft404_probe:
                    probe_request = self._probe_request(first)
                    if probe_request is not None:
                        out.append(probe_request)
            for host, feed in list(self.feeds.items()):
                while feed.outstanding < host_cap and self.outstanding < total_cap:
                    next_row = feed.next()
                    if next_row is None:
                        break
                    out.append(self._link_request(feed, next_row))
                if feed.exhausted and not feed.ahead and feed.outstanding == 0:
                    del self.feeds[host]
                if self.outstanding >= total_cap:
                    break
        except Exception as exc:
            self._reading_failed(exc)
        return out

    def _reading_failed(self, exc: Exception) -> None:
        """The catalog could not be read (the database went away): the run has failed."""
        if self.error is None:
            self.error = f"reading the links failed: {short_error(exc)}"
            self.logger.error("%s; stopping the link check", self.error)
        if self.crawler.engine is not None and self.crawler.engine.spider is not None:
            _schedule_coro(self.crawler.engine.close_spider_async(reason="source_error"))

    def _link_request(self, feed: HostFeed, row: LinkRow) -> Any:
        feed.outstanding += 1
        self.outstanding += 1
        task = Task("link", row.url, row.host, row.id, row.etag, row.last_modified)
        task.seen.add(row.url)
        task.method = self._first_method(row.url)
        try:
            feed.remaining -= 1
            return self._request(task, row.url, task.method, conditional=True,
                                 priority=feed.priority)
        except ValueError as exc:
            return self._finish(task, "invalid_url", detail=str(exc))

    def _first_method(self, url: str) -> str:
        if self.link_method in ("head", "get"):
            return self.link_method.upper()
        # auto: the body is needed for soft-404 analysis of pages, not of files.
        path = urlsplit(url).path.lower()
        return "HEAD" if path.endswith(FILE_SUFFIXES) else "GET"

    def _probe_request(self, row: LinkRow) -> Any:
        scheme = urlsplit(row.url).scheme
        url = f"{scheme}://{row.host}/shelfcheck-probe-{uuid.uuid4().hex[:16]}"
        self.probes[row.host] = Probe()
        try:
            return self._request(Task("probe", url, row.host), url, "GET", priority=50)
        except ValueError:
            self.probes[row.host].done = True
            return None

    def _request(self, task: Task, url: str, method: str, *, wait: float = 0.0,
                 conditional: bool = False, priority: int = 0) -> scrapy.Request:
        self.requests += 1
        headers: dict[str, str] = {"Accept-Encoding": "identity", "Accept-Language": "en"}
        if conditional and task.etag:
            headers["If-None-Match"] = task.etag
        if conditional and task.last_modified:
            headers["If-Modified-Since"] = task.last_modified
        headers["Accept"] = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
        return scrapy.Request(
            url, method=method, headers=headers, callback=self.on_response,
            errback=self.on_error, cb_kwargs={"task": task}, dont_filter=True,
            priority=priority,
            meta={"handle_httpstatus_all": True, "dont_redirect": True, "dont_retry": True,
                  PREFIX_META: method == "GET", WAIT_META: wait, "task": task},
        )

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self.checked, self.total, self.failures)

    # --- outcomes ----------------------------------------------------------------------------

    def _finish(self, task: Task, verdict: str, *, status: int | None = None,
                final_url: str | None = None, detail: str | None = None,
                validators: tuple[str | None, str | None] | None = None) -> Any:
        """Record the verdict of a task; returns the item for a link, else None."""
        if task.kind == "canary":
            if verdict not in ("ok", "redirected"):
                self.canary_failure = f"{task.url}: {verdict} ({detail or status})"
            return None
        notes = "; ".join([*task.notes, detail] if detail else task.notes) or None
        item = {
            "link_id": task.link_id, "url": task.url, "host": task.host, "verdict": verdict,
            "http_status": status, "final_url": final_url, "method": task.method
            if not task.fell_back else "HEAD,GET",
            "redirect_chain": list(task.chain) or None, "detail": notes,
            "elapsed_ms": int(task.latency * 1000), "checked_at": utcnow(),
            "validators": validators,
        }
        if task.host:
            feed = self.feeds.get(task.host)
            if feed is not None:
                feed.outstanding -= 1
            self.outstanding -= 1
        self.checked += 1
        if verdict in FAILING:
            self.failures += 1
        self._report()
        return item

    def on_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        task: Task = request.cb_kwargs["task"]
        verdict, detail = classify_failure(failure.value or Exception("unknown failure"))
        if verdict == "tls_error":
            parts = urlsplit(request.url)
            why = last_verify_error(parts.hostname or "", parts.port or 443)
            if why and "verify failed" in detail:
                detail = why
        if verdict in ("timeout", "connection_error") and task.attempts < self.retry_times:
            task.attempts += 1
            yield self._retry(task, request, self._backoff(task.attempts))
            return
        if task.attempts:
            detail = f"{detail} (after {task.attempts} retries)"
        yield from self._done(task, verdict, detail=detail)

    def _backoff(self, attempt: int) -> float:
        return float(self.retry_backoff * (2 ** (attempt - 1)))

    def _retry(self, task: Task, request: scrapy.Request, wait: float) -> scrapy.Request:
        return self._request(task, request.url, request.method, wait=wait,
                             conditional=not task.chain, priority=request.priority)

    def _done(self, task: Task, verdict: str, **kwargs: Any) -> Iterator[Any]:
        if task.kind == "probe":
            yield from self._probe_done(task, None)
            return
        item = self._finish(task, verdict, **kwargs)
        if item is not None:
            yield item
        if task.kind == "link" and task.host:
            yield from self._refill()

    def on_response(self, response: Response, task: Task) -> Iterator[Any]:
        status = response.status
        task.latency += float(response.meta.get("download_latency") or 0.0)
        request = response.request
        assert request is not None
        location = response.headers.get(b"Location")
        if status in REDIRECTS and location:
            yield from self._follow(task, response, location.decode("latin-1"))
            return
        if task.method == "HEAD" and not task.fell_back and status >= 400 and status != 429:
            task.fell_back = True
            task.notes.append(f"HEAD answered {status}; checked with GET")
            task.method = "GET"
            yield self._request(task, response.url, "GET", conditional=not task.chain)
            return
        retry_after = response.headers.get(b"Retry-After")
        if status == 429 or (status == 503 and retry_after):
            wait = retry_after_seconds(retry_after)
            limit = max(1, self.retry_times)
            if task.rate_waits < limit and (wait is None or wait <= self.retry_after_cap):
                task.rate_waits += 1
                wait = wait if wait is not None else self._backoff(task.rate_waits)
                task.notes.append(f"HTTP {status}; waited {wait:g} s (Retry-After)")
                yield self._retry(task, request, wait)
                return
            if status == 429:
                why = (f"Retry-After {wait:g} s is beyond the cap of {self.retry_after_cap:g} s"
                       if wait is not None and wait > self.retry_after_cap
                       else "still 429 after waiting")
                yield from self._done(task, "rate_limited", status=status,
                                      final_url=response.url, detail=why)
                return
        if 500 <= status < 600 and task.attempts < self.retry_times:
            task.attempts += 1
            yield self._retry(task, request, self._backoff(task.attempts))
            return
        challenge = b"cf-mitigated" in response.headers
        bad = status_verdict(status, challenge=challenge)
        if bad is not None:
            verdict, detail = bad
            if verdict == "server_error" and task.attempts:
                detail = f"{detail} (after {task.attempts} retries)"
            yield from self._done(task, verdict, status=status, final_url=response.url,
                                  detail=detail)
            return
        if task.kind == "probe":
            yield from self._probe_done(task, response)
            return
        if status == 304:
            yield from self._done(task, "ok", status=304, final_url=response.url,
                                  detail="not modified since the last check")
            return
        yield from self._judge_page(task, response)

    def _follow(self, task: Task, response: Response, location: str) -> Iterator[Any]:
        status = response.status
        task.chain.append({"url": response.url, "status": status})
        target = safe_url_string(urljoin(response.url, location.strip()))
        if urlsplit(target).scheme not in ("http", "https"):
            yield from self._done(task, "invalid_url", status=status, final_url=target,
                                  detail=f"redirects to a non-http(s) URL {target!r}")
            return
        try:
            key = normalize_url(target)
        except InvalidURL:
            key = target
        if key in task.seen:
            yield from self._done(task, "redirect_loop", status=status, final_url=target,
                                  detail=f"redirect loop back to {target}")
            return
        if len(task.chain) > self.max_redirects:
            yield from self._done(task, "redirect_loop", status=status, final_url=target,
                                  detail=f"more than {self.max_redirects} redirects")
            return
        task.seen.add(key)
        task.attempts = task.rate_waits = 0
        method = "GET" if status == 303 and task.method != "HEAD" else task.method
        try:
            yield self._request(task, target, method)
        except ValueError as exc:
            yield from self._done(task, "invalid_url", status=status, final_url=target,
                                  detail=f"redirects to an invalid URL: {exc}")

    def _judge_page(self, task: Task, response: Response) -> Iterator[Any]:
        body = response.body if response.request and response.request.method == "GET" else b""
        html = body and _is_html(response)
        if html:
            phrase = not_found_phrase(body)
            if phrase:
                yield from self._done(task, "soft_404", status=response.status,
                                      final_url=response.url, detail=phrase)
                return
            probe = self.probes.get(task.host)
            if probe is not None and urlsplit(task.url).path not in ("", "/"):
                if not probe.done:
                    probe.parked.append((task, response, self._signature(response)))
                    return
                if probe.soft:
                    yield from self._compare(task, response, self._signature(response), probe)
                    return
        yield from self._settle(task, response)

    def _signature(self, response: Response) -> PageSignature:
        body = response.body if _is_html(response) else b""
        return page_signature(response.status, response.url, bool(response.meta["task"].chain),
                              body, ignore=[urlsplit(response.url).path])

    def _compare(self, task: Task, response: Response, sig: PageSignature,
                 probe: Probe) -> Iterator[Any]:
        assert probe.signature is not None
        why = looks_like(sig, probe.signature)
        if why:
            yield from self._done(task, "soft_404", status=response.status,
                                  final_url=response.url, detail=why)
        else:
            yield from self._settle(task, response)

    def _settle(self, task: Task, response: Response) -> Iterator[Any]:
        """A 2xx answer: ok, or redirected when the first hops are permanent."""
        validators = None
        if not task.chain:
            validators = (_header(response, b"ETag"), _header(response, b"Last-Modified"))
            yield from self._done(task, "ok", status=response.status, final_url=response.url,
                                  validators=validators)
            return
        targets = [hop["url"] for hop in task.chain[1:]] + [response.url]
        lead = 0
        for hop in task.chain:
            if hop["status"] not in PERMANENT_REDIRECTS:
                break
            lead += 1
        hops = " → ".join(f"{hop['status']} {hop['url']}" for hop in task.chain)
        if lead:
            suggestion = targets[lead - 1]
            try:
                same = normalize_url(suggestion) == task.url
            except InvalidURL:
                same = False
            if not same:
                yield from self._done(task, "redirected", status=response.status,
                                      final_url=suggestion,
                                      detail=f"permanent redirect: {hops} → {response.url}")
                return
        yield from self._done(task, "ok", status=response.status, final_url=response.url,
                              detail=f"temporary redirect: {hops} → {response.url}")

    def _probe_done(self, task: Task, response: Response | None) -> Iterator[Any]:
        probe = self.probes.setdefault(task.host, Probe())
        probe.done = True
        if response is not None and 200 <= response.status < 300:
            probe.signature = self._signature(response)
        parked, probe.parked = probe.parked, []
        for link_task, link_response, sig in parked:
            if probe.soft:
                yield from self._compare(link_task, link_response, sig, probe)
            else:
                yield from self._settle(link_task, link_response)


def _is_html(response: Response) -> bool:
    ctype = (response.headers.get(b"Content-Type") or b"").lower()
    return not ctype or ctype.startswith((b"text/html", b"application/xhtml"))


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
