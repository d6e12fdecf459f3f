"""Retry bookkeeping of the link check, on Scrapy's `get_retry_request`, with budgets per link.

A link has one retry budget (`retry_times`, for timeouts, connection errors and 5xx) and one
wait budget (Retry-After waits on 429/503) for all its hops together, and one deadline
(`link_deadline`) over every hop, retry and wait. A redirect chain whose hops each answer 503
with a Retry-After (a tarpit) therefore ends in bounded time, as the `tarpit` verdict.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import scrapy
from scrapy.downloadermiddlewares.retry import get_retry_request

from shelfcheck.crawler.failures import retry_after_seconds
from shelfcheck.crawler.linktask import WAIT_META, Task
from shelfcheck.crawler.settings import link_deadline

if TYPE_CHECKING:
    from scrapy.http.headers import Headers
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)
DEADLINE_MARGIN = 0.05  # seconds: a retry needs at least this much of the deadline left


class Tarpit(Exception):
    """The link's deadline leaves no room for the next retry or wait."""


class LinkRetries:
    """The retry and wait budgets and the deadline of links (settings read once)."""

    def __init__(self, spider: scrapy.Spider, settings: BaseSettings) -> None:
        self.spider = spider
        self.retry_times = settings.getint("SHELFCHECK_RETRY_TIMES")
        self.backoff = settings.getfloat("SHELFCHECK_RETRY_BACKOFF")
        self.retry_after_cap = settings.getfloat("SHELFCHECK_RETRY_AFTER_CAP")
        self.timeout = settings.getfloat("DOWNLOAD_TIMEOUT")
        self.deadline = link_deadline(settings)
        self.wait_limit = max(1, self.retry_times)

    def start(self, task: Task) -> None:
        """Start the clock of a task."""
        task.deadline = task.started + self.deadline

    def backoff_for(self, attempt: int) -> float:
        return float(self.backoff * (2 ** (attempt - 1)))

    def retry(self, task: Task, request: scrapy.Request, reason: str) -> scrapy.Request | None:
        """The retry of a failed request within the link's budget; None when it is spent.

        Raises `Tarpit` when the budget is left but the deadline is not.
        """
        request.meta["retry_times"] = task.attempts
        wait = self.backoff_for(task.attempts + 1)
        new = self._copy(task, request, wait, reason, self.retry_times, "shelfcheck/retry")
        if new is not None:
            task.attempts += 1
        return new

    def wait(self, task: Task, request: scrapy.Request, wait: float | None,
             reason: str) -> scrapy.Request | None:
        """The request again after a Retry-After wait (or a backoff when it has none); None when
        the wait budget is spent or the wait is beyond `retry_after_cap`."""
        if wait is not None and wait > self.retry_after_cap:
            return None
        wait = wait if wait is not None else self.backoff_for(task.rate_waits + 1)
        request.meta["retry_times"] = task.rate_waits
        new = self._copy(task, request, wait, reason, self.wait_limit, "shelfcheck/wait")
        if new is None:
            return None
        new.meta["retry_times"] = task.attempts
        task.rate_waits += 1
        task.waited += wait
        task.notes.append(f"{reason}; waited {wait:g} s (Retry-After)")
        return new

    def after_status(self, task: Task, request: scrapy.Request, status: int,
                     headers: Headers) -> tuple[scrapy.Request | None, str | None]:
        """(the request again, None) after a 429 or a 503 with Retry-After (a wait) or a 5xx (a
        retry), within the budgets; (None, why a 429 is `rate_limited`); else (None, None)."""
        retry_after = headers.get(b"Retry-After")
        if not (status == 429 or (status == 503 and retry_after)):
            retry = self.retry(task, request, f"HTTP {status}") if 500 <= status < 600 else None
            return retry, None
        wait = retry_after_seconds(retry_after)
        again = self.wait(task, request, wait, f"HTTP {status}")
        if again is None and status != 429:
            again = self.retry(task, request, f"HTTP {status}")
        if again is not None or status != 429:
            return again, None
        cap = self.retry_after_cap
        return None, (f"Retry-After {wait:g} s is beyond the cap of {cap:g} s"
                      if wait is not None and wait > cap else "still 429 after waiting")

    def _copy(self, task: Task, request: scrapy.Request, wait: float, reason: str,
              limit: int, key: str) -> scrapy.Request | None:
        if task.remaining() - wait < DEADLINE_MARGIN + min(1.0, self.timeout / 10):
            if limit > int(request.meta.get("retry_times", 0)):
                raise Tarpit(f"the link's deadline of {self.deadline:g} s leaves no room for "
                             f"another {wait:g} s wait ({reason}) after {task.effort()}")
            return None
        new = get_retry_request(request, spider=self.spider, reason=reason,
                                max_retry_times=limit, priority_adjust=0, logger=logger,
                                give_up_log_level=logging.DEBUG, stats_base_key=key)
        if new is None:
            return None
        new.meta[WAIT_META] = wait
        new.meta["download_timeout"] = max(0.1, min(self.timeout, task.remaining() - wait))
        return new

    def expired(self, task: Task) -> bool:
        """True when the task's deadline has passed (a timeout then means a tarpit)."""
        return task.remaining() <= DEADLINE_MARGIN

    def check_deadline(self, task: Task, what: str) -> None:
        """Raise `Tarpit` when the task's deadline has passed."""
        if self.expired(task):
            raise Tarpit(f"{what} the link's deadline of {self.deadline:g} s after "
                         f"{task.effort()}")
