"""The page call-outs of the link check: soft-404 analysis of 2xx answers, and the final verdict.

Each host gets one probe, a request for a random path that cannot exist; a page of that host is
compared with the probe's answer when the host answers such paths with 2xx. Pages that arrive
before their host's probe are parked until it is done. The analysis itself lives in
`crawler.linkanalysis`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import Response

from shelfcheck.catalog.urlnorm import InvalidURL, normalize_url
from shelfcheck.crawler.failures import PERMANENT_REDIRECTS, header_text
from shelfcheck.crawler.linkanalysis import (
    PageSignature,
    looks_like,
    not_found_phrase,
    page_signature,
)
from shelfcheck.crawler.linktask import Task
from shelfcheck.crawler.textdecode import utf8_body

Done = Callable[..., Iterator[Any]]


@dataclass
class Probe:
    """A host's answer to a random path that cannot exist (None while pending or failed)."""

    done: bool = False
    signature: PageSignature | None = None
    parked: list[tuple[Task, Response, PageSignature]] = field(default_factory=list)

    @property
    def soft(self) -> bool:
        return self.signature is not None and 200 <= self.signature.status < 300


class PageJudge:
    """Judges 2xx answers; `done(task, verdict, **fields)` yields what finishing a task yields."""

    def __init__(self, done: Done, fail: Callable[[Task, BaseException], Iterator[Any]]) -> None:
        self._done = done
        self._fail = fail
        self.probes: dict[str, Probe] = {}

    def probe_started(self, url: str, host: str) -> str:
        """Open the probe of `host` (a link of it is `url`); returns the URL to probe."""
        self.probes[host] = Probe()
        return f"{urlsplit(url).scheme}://{host}/shelfcheck-probe-{uuid.uuid4().hex[:16]}"

    def judge(self, task: Task, response: Response) -> Iterator[Any]:
        """A 2xx answer of a link: soft_404, ok or redirected (maybe later, when parked)."""
        get = response.request is not None and response.request.method == "GET"
        body = utf8_body(response) if get else b""
        html = body and is_html(response)
        if html:
            phrase = not_found_phrase(body)
            if phrase:
                yield from self._done(task, "soft_404", status=response.status,
                                      final_url=response.url, detail=phrase)
                return
            probe = self.probes.get(task.host)
            if probe is not None and urlsplit(task.url).path not in ("", "/"):
                if not probe.done:
                    probe.parked.append((task, response, self.signature(task, response)))
                    return
                if probe.soft:
                    yield from self._compare(task, response, self.signature(task, response),
                                             probe)
                    return
        yield from self.settle(task, response)

    def signature(self, task: Task, response: Response) -> PageSignature:
        body = utf8_body(response) if is_html(response) else b""
        return page_signature(response.status, response.url, bool(task.chain), body,
                              ignore=[urlsplit(response.url).path])

    def _compare(self, task: Task, response: Response, sig: PageSignature,
                 probe: Probe) -> Iterator[Any]:
        assert probe.signature is not None
        why = looks_like(sig, probe.signature)
        if why:
            yield from self._done(task, "soft_404", status=response.status,
                                  final_url=response.url, detail=why)
        else:
            yield from self.settle(task, response)

    def settle(self, task: Task, response: Response) -> Iterator[Any]:
        """A 2xx answer: ok, or redirected when the first hops are permanent."""
        if not task.chain:
            validators = (header_text(response.headers.get(b"ETag"), 1024),
                          header_text(response.headers.get(b"Last-Modified"), 200))
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

    def probe_done(self, task: Task, response: Response | None) -> Iterator[Any]:
        """The host's probe answered (or failed): judge the pages parked for it."""
        probe = self.probes.setdefault(task.host, Probe())
        probe.done = True
        if response is not None and 200 <= response.status < 300:
            probe.signature = self.signature(task, response)
        parked, probe.parked = probe.parked, []
        for link_task, link_response, sig in parked:
            try:
                if probe.soft:
                    yield from list(self._compare(link_task, link_response, sig, probe))
                else:
                    yield from list(self.settle(link_task, link_response))
            except Exception as exc:  # one parked page must not strand the others
                yield from self._fail(link_task, exc)


def is_html(response: Response) -> bool:
    ctype = (response.headers.get(b"Content-Type") or b"").lower()
    return not ctype or ctype.startswith((b"text/html", b"application/xhtml"))
