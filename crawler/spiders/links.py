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
from shelfcheck.catalog.verdicts import FAILING, WORKING
from shelfcheck.crawler.content.hooks import (
    STUB_VIA,
    content_of,
    permanent_lead,
    read_response,
    wall_of,
)
from shelfcheck.crawler.content.judge import Judgement
from shelfcheck.crawler.linkanalysis import (
    REDIRECTS,
    PageSignature,
    classify_failure,
    looks_like,
    page_signature,
    retry_after_seconds,
    site_wide_page,
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
PROBE_KINDS = ("probe", "home")
SITE_WIDE = ("the site answers the same page for this link, its home page and a path that "
             "cannot exist: a site-wide maintenance or outage page")


@dataclass
class Task:
    """One link (or the host probe, or the canary) being checked."""

    kind: str  # link | probe | home (the host's home page, beside the probe) | canary
    url: str
    host: str
    link_id: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    method: str = "GET"
    fell_back: bool = False
    chain: list[dict[str, Any]] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)  # identity key -> visits
    attempts: int = 0
    rate_waits: int = 0
    latency: float = 0.0
    notes: list[str] = field(default_factory=list)
    row: LinkRow | None = None
    judgement: Judgement | None = None


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
    """A host's answer to a random path that cannot exist, and its home page (None while
    pending or failed)."""

    pending: int = 0
    scheme: str = "https"
    signature: PageSignature | None = None
    home: PageSignature | None = None
    parked: list[tuple[Task, Response, PageSignature]] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.pending <= 0

    @property
    def soft(self) -> bool:
        return self.signature is not None and 200 <= self.signature.status < 300

    @property
    def site_wide(self) -> bool:
        """The host answers one thin page for its home page and for a path that cannot exist:
        a site-wide maintenance or outage page, not a missing page."""
        return self.signature is not None and self.home is not None \
            and site_wide_page(self.signature, self.home)


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
                    out.extend(self._probe_requests(first))
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
        task = Task("link", row.url, row.host, row.id, row.etag, row.last_modified, row=row)
        task.seen[row.url] = 1
        task.method = self._first_method(row.url)
        # The URL as written in the catalog: the normalized form is the link's identity only.
        written = (row.request_url or "").strip()
        feed.remaining -= 1
        for url in dict.fromkeys(u for u in (written, row.url) if u):
            try:
                return self._request(task, url, task.method, conditional=True,
                                     priority=feed.priority)
            except ValueError as exc:
                error = exc
        return self._finish(task, "invalid_url", detail=str(error))

    def _first_method(self, url: str) -> str:
        if self.link_method in ("head", "get"):
            return self.link_method.upper()
        # auto: the body is needed for soft-404 analysis of pages, not of files.
        path = urlsplit(url).path.lower()
        return "HEAD" if path.endswith(FILE_SUFFIXES) else "GET"

    def _probe_requests(self, row: LinkRow) -> list[scrapy.Request]:
        """A random path that cannot exist (and, once it answers 2xx, the home page)."""
        probe = self.probes[row.host] = Probe()
        probe.scheme = urlsplit(row.url).scheme
        request = self._host_request(probe, "probe", row.host,
                                     f"/shelfcheck-probe-{uuid.uuid4().hex[:16]}")
        return [request] if request is not None else []

    def _host_request(self, probe: Probe, kind: str, host: str,
                      path: str) -> scrapy.Request | None:
        url = f"{probe.scheme}://{host}{path}"
        try:
            request = self._request(Task(kind, url, host), url, "GET", priority=50)
        except ValueError:
            return None
        probe.pending += 1
        return request

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
        had_baseline = task.row is not None and task.row.content_baseline is not None
        item = {
            "link_id": task.link_id, "url": task.url, "host": task.host, "verdict": verdict,
            "http_status": status, "final_url": final_url, "method": task.method
            if not task.fell_back else "HEAD,GET",
            "redirect_chain": list(task.chain) or None, "detail": notes,
            "elapsed_ms": int(task.latency * 1000), "checked_at": utcnow(),
            "validators": validators,
            "content": content_of(task.judgement, had_baseline, verdict, WORKING),
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
        if task.kind in PROBE_KINDS:
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
        bad = status_verdict(status, challenge=challenge, wall=wall_of(response))
        if bad is not None:
            verdict, detail = bad
            if verdict == "server_error" and task.attempts:
                detail = f"{detail} (after {task.attempts} retries)"
            yield from self._done(task, verdict, status=status, final_url=response.url,
                                  detail=detail)
            return
        if task.kind in PROBE_KINDS:
            yield from self._probe_done(task, response)
            return
        if status == 304:
            yield from self._done(task, "ok", status=304, final_url=response.url,
                                  detail="not modified since the last check")
            return
        yield from self._judge_page(task, response)

    def _follow(self, task: Task, response: Response, location: str,
                via: str | None = None) -> Iterator[Any]:
        status = response.status
        task.chain.append({"url": response.url, "status": status, **({STUB_VIA: via} if via
                                                                      else {})})
        target = safe_url_string(urljoin(response.url, location.strip()))
        if urlsplit(target).scheme not in ("http", "https"):
            yield from self._done(task, "invalid_url", status=status, final_url=target,
                                  detail=f"redirects to a non-http(s) URL {target!r}")
            return
        try:
            key = normalize_url(target)
        except InvalidURL:
            key = target
        # One bounce back to a URL (a cookie check) is fine; a third visit is a loop.
        if task.seen.get(key, 0) >= 2:
            yield from self._done(task, "redirect_loop", status=status, final_url=target,
                                  detail=f"redirect loop back to {target}")
            return
        if len(task.chain) > self.max_redirects:
            yield from self._done(task, "redirect_loop", status=status, final_url=target,
                                  detail=f"more than {self.max_redirects} redirects")
            return
        task.seen[key] = task.seen.get(key, 0) + 1
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
        if html and task.kind == "link":
            row = task.row
            task.judgement = read_response(
                task.url, response, bool(task.chain),
                baseline=row.content_baseline if row else None,
                baseline_title=row.content_baseline_title if row else None,
                catalog_title=row.catalog_title if row else None)
            found = task.judgement.finding
            if found is not None and found.target:
                yield from self._follow(task, response, found.target, via=found.detail)
                return
            if found is not None and found.verdict != "content_changed":
                yield from self._done(task, found.verdict, status=response.status,
                                      final_url=response.url, detail=found.detail)
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
        task: Task = response.meta["task"]
        page = task.judgement.page if task.judgement is not None and body else None
        return page_signature(response.status, response.url, bool(task.chain),
                              body, ignore=[urlsplit(response.url).path], page=page)

    def _compare(self, task: Task, response: Response, sig: PageSignature,
                 probe: Probe) -> Iterator[Any]:
        assert probe.signature is not None
        why = looks_like(sig, probe.signature)
        if why and probe.site_wide:
            yield from self._done(task, "maintenance", status=response.status,
                                  final_url=response.url, detail=SITE_WIDE)
        elif why:
            yield from self._done(task, "soft_404", status=response.status,
                                  final_url=response.url, detail=why)
        else:
            yield from self._settle(task, response)

    def _settle(self, task: Task, response: Response) -> Iterator[Any]:
        """A 2xx answer: ok, or redirected when the first hops are permanent, or drifted.

        A permanent move is reported as such even when the new page differs from the old one's
        baseline: the maintainer is told to update the link and looks at the new page anyway.
        """
        validators = None
        found = task.judgement.finding if task.judgement else None
        drifted = found if found is not None and found.verdict == "content_changed" else None
        if drifted is not None and not task.chain:
            yield from self._done(task, drifted.verdict, status=response.status,
                                  final_url=response.url, detail=drifted.detail)
            return
        if not task.chain:
            validators = (_header(response, b"ETag"), _header(response, b"Last-Modified"))
            yield from self._done(task, "ok", status=response.status, final_url=response.url,
                                  validators=validators)
            return
        targets = [hop["url"] for hop in task.chain[1:]] + [response.url]
        lead, upgrade_only = permanent_lead(task.chain, response.url)
        hops = " → ".join(f"{hop['status']} {hop['url']}" for hop in task.chain)
        if upgrade_only:
            hops = f"https upgrade (low priority): {hops}"
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
        if drifted is not None:
            yield from self._done(task, drifted.verdict, status=response.status,
                                  final_url=response.url, detail=drifted.detail)
            return
        yield from self._done(task, "ok", status=response.status, final_url=response.url,
                              detail=f"temporary redirect: {hops} → {response.url}")

    def _probe_done(self, task: Task, response: Response | None) -> Iterator[Any]:
        probe = self.probes.setdefault(task.host, Probe())
        probe.pending -= 1
        if response is not None and 200 <= response.status < 300:
            if task.kind == "home":
                probe.home = self._signature(response)
            else:
                probe.signature = self._signature(response)
                # A host that answers 2xx for a missing page: is it one page everywhere?
                home = self._host_request(probe, "home", task.host, "/")
                if home is not None:
                    yield home
        if not probe.done:
            return
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
