"""One link check as a task: its state over every hop, retry and wait, its requests, its item."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from time import monotonic
from typing import Any
from urllib.parse import urlsplit

import scrapy

from shelfcheck.catalog.models import utcnow
from shelfcheck.catalog.urlnorm import InvalidURL, normalize_url, strip_userinfo
from shelfcheck.crawler.failures import InvalidRedirect, redirect_target
from shelfcheck.crawler.politeness import PREFIX_META

FILE_SUFFIXES = (
    ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".zip", ".gz", ".tar", ".mp3",
    ".mp4", ".m4a", ".mov", ".avi", ".wav", ".epub", ".png", ".jpg", ".jpeg", ".gif", ".svg",
    ".csv", ".txt", ".xml", ".json", ".odt", ".ods", ".odp", ".rtf",
)
WAIT_META = "shelfcheck_wait"
ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"


class Hop(Exception):
    """A redirect that ends the task: its verdict, detail and target."""

    def __init__(self, verdict: str, detail: str, target: str | None) -> None:
        super().__init__(detail)
        self.verdict, self.detail, self.target = verdict, detail, target


@dataclass
class Task:
    """One link (or the host probe, or the canary) being checked.

    `attempts` (retries) and `rate_waits` (Retry-After waits) are budgets of the whole link, not
    of one hop; `deadline` (monotonic seconds) bounds all its hops, retries and waits together.
    """

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
    waited: float = 0.0
    latency: float = 0.0
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=monotonic)
    deadline: float = float("inf")
    finished: bool = False

    def remaining(self) -> float:
        """Seconds left before the link's deadline."""
        return self.deadline - monotonic()

    def hop(self, url: str, status: int, location: bytes, max_redirects: int) -> str:
        """Record a redirect of `url` and return its target; `Hop` says why it ends the task."""
        self.chain.append({"url": url, "status": status})
        try:
            target = redirect_target(url, location)
        except InvalidRedirect as exc:
            raise Hop("invalid_url", str(exc), None) from exc
        try:
            key = normalize_url(target)
        except InvalidURL:
            key = target
        if key in self.seen:
            raise Hop("redirect_loop", f"redirect loop back to {target}", target)
        if len(self.chain) > max_redirects:
            raise Hop("redirect_loop", f"more than {max_redirects} redirects", target)
        self.seen.add(key)
        return target

    def effort(self) -> str:
        """What the task has spent so far, for a tarpit's detail."""
        return (f"{len(self.chain) + 1} hops, {self.attempts} retries, {self.rate_waits} waits "
                f"({self.waited:g} s waited)")


def first_method(url: str, link_method: str) -> str:
    """HEAD or GET for a link's first request (`link_method`: auto, head or get)."""
    if link_method in ("head", "get"):
        return link_method.upper()
    # auto: the body is needed for soft-404 analysis of pages, not of files.
    path = urlsplit(url).path.lower()
    return "HEAD" if path.endswith(FILE_SUFFIXES) else "GET"


def build_request(task: Task, url: str, method: str, *, callback: Callable[..., Any],
                  errback: Callable[..., Any], timeout: float, wait: float = 0.0,
                  conditional: bool = False, priority: int = 0) -> scrapy.Request:
    """A request of `task`; raises ValueError for a URL Scrapy cannot request."""
    headers: dict[str, str] = {"Accept-Encoding": "identity", "Accept-Language": "en"}
    if conditional and task.etag:
        headers["If-None-Match"] = task.etag
    if conditional and task.last_modified:
        headers["If-Modified-Since"] = task.last_modified
    headers["Accept"] = ACCEPT
    remaining = task.remaining() - wait
    return scrapy.Request(
        strip_userinfo(url), method=method, headers=headers, callback=callback, errback=errback,
        cb_kwargs={"task": task}, dont_filter=True, priority=priority,
        meta={"handle_httpstatus_all": True, "dont_redirect": True, "dont_retry": True,
              PREFIX_META: method == "GET", WAIT_META: wait, "task": task,
              "retry_times": task.attempts,
              "download_timeout": max(0.1, min(timeout, remaining))},
    )


def result_item(task: Task, verdict: str, *, status: int | None = None,
                final_url: str | None = None, detail: str | None = None,
                validators: tuple[str | None, str | None] | None = None) -> dict[str, Any]:
    """The item the pipeline stores for a finished link."""
    notes = "; ".join([*task.notes, detail] if detail else task.notes) or None
    return {
        "link_id": task.link_id, "url": task.url, "host": task.host, "verdict": verdict,
        "http_status": status, "final_url": final_url,
        "method": task.method if not task.fell_back else "HEAD,GET",
        "redirect_chain": list(task.chain) or None, "detail": notes,
        "elapsed_ms": int(task.latency * 1000), "checked_at": utcnow(),
        "validators": validators,
    }
