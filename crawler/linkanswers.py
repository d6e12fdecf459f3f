"""The link spider's answer handling: what a response or a failed request means for its task.

A redirect is followed by hand (`Task.hop`), a failed HEAD falls back to GET, timeouts, failed
connections, 429 and 5xx answers go to the retries (`crawler.linkretry`), a bad status ends the
task with its verdict (`crawler.failures`), and a 200 goes to the page judge (`crawler.linkjudge`).
An exception while handling an answer ends the task through the spider's `_crashed`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from shelfcheck.crawler.content.hooks import wall_of
from shelfcheck.crawler.failures import REDIRECTS, failure_verdict, status_verdict
from shelfcheck.crawler.linkjudge import PageJudge
from shelfcheck.crawler.linkretry import LinkRetries
from shelfcheck.crawler.linktask import Hop, Task

PROBE_KINDS = ("probe", "home")


class LinkAnswers:
    """Mixin of `LinkSpider`: its request callbacks (`on_response`, `on_error`)."""

    retries: LinkRetries
    judge: PageJudge
    max_redirects: int

    if TYPE_CHECKING:  # provided by LinkSpider
        def _done(self, task: Task, verdict: str, **fields: Any) -> Iterator[Any]: ...

        def _crashed(self, task: Task, exc: BaseException) -> Iterator[Any]: ...

        def _request(self, task: Task, url: str, method: str, *, conditional: bool = False,
                     priority: int = 0) -> scrapy.Request: ...

    def _guarded(self, task: Task, steps: Iterator[Any]) -> list[Any]:
        try:
            return list(steps)
        except Exception as exc:
            return list(self._crashed(task, exc))

    def on_error(self, failure: Failure) -> list[Any]:
        request = failure.request  # type: ignore[attr-defined]
        task: Task = request.cb_kwargs["task"]
        return self._guarded(task, self._on_error(task, request, failure))

    def on_response(self, response: Response, task: Task) -> list[Any]:
        return self._guarded(task, self._on_response(response, task))

    def _on_error(self, task: Task, request: scrapy.Request,
                  failure: Failure) -> Iterator[Any]:
        verdict, detail = failure_verdict(failure.value, request.url)
        if verdict == "timeout":
            self.retries.check_deadline(task, "no answer within")
        if task.method == "HEAD" and not task.fell_back and verdict not in ("blocked",
                                                                             "dns_error"):
            yield self._fall_back(task, request.url, f"HEAD failed ({verdict})")
            return
        if verdict in ("timeout", "connection_error"):
            retry = self.retries.retry(task, request, verdict)
            if retry is not None:
                yield retry
                return
        if task.attempts:
            detail = f"{detail} (after {task.attempts} retries)"
        yield from self._done(task, verdict, detail=detail)

    def _fall_back(self, task: Task, url: str, why: str) -> scrapy.Request:
        """HEAD is a shortcut, never a verdict: check with GET instead."""
        task.fell_back = True
        task.notes.append(f"{why}; checked with GET")
        task.method = "GET"
        return self._request(task, url, "GET", conditional=not task.chain)

    def _on_response(self, response: Response, task: Task) -> Iterator[Any]:
        status = response.status
        task.latency += float(response.meta.get("download_latency") or 0.0)
        request = response.request
        assert request is not None
        location = response.headers.get(b"Location")
        if status in REDIRECTS and location:
            yield from self._follow(task, response, location)
            return
        if task.method == "HEAD" and not task.fell_back and not (
                200 <= status < 300 or status == 304):
            yield self._fall_back(task, response.url, f"HEAD answered {status}")
            return
        again, why = self.retries.after_status(task, request, status, response.headers)
        if again is not None:
            yield again
            return
        if why is not None:
            yield from self._done(task, "rate_limited", status=status, final_url=response.url,
                                  detail=why)
            return
        bad = status_verdict(status, challenge=b"cf-mitigated" in response.headers,
                             wall=wall_of(response))
        if bad is not None:
            verdict, detail = bad
            if verdict == "server_error" and task.attempts:
                detail = f"{detail} (after {task.attempts} retries)"
            yield from self._done(task, verdict, status=status, final_url=response.url,
                                  detail=detail)
            return
        if task.kind in PROBE_KINDS:
            yield from self.judge.probe_done(task, response)
            return
        if status == 304:
            yield from self._done(task, "ok", status=304, final_url=response.url,
                                  detail="not modified since the last check")
            return
        yield from self.judge.judge(task, response)

    def _follow(self, task: Task, response: Response, location: bytes | str,
                via: str | None = None) -> Iterator[Any]:
        status = response.status
        try:
            target = task.hop(response.url, status, location, self.max_redirects, via)
        except Hop as end:
            yield from self._done(task, end.verdict, status=status, final_url=end.target,
                                  detail=end.detail)
            return
        self.retries.check_deadline(task, "no final answer within")
        method = "GET" if status == 303 and task.method != "HEAD" else task.method
        try:
            yield self._request(task, target, method)
        except ValueError as exc:
            yield from self._done(task, "invalid_url", status=status, final_url=target,
                                  detail=f"redirects to an invalid URL: {exc}")
