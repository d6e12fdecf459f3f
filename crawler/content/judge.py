"""One entry point for the link check: what a 2xx HTML answer says, and its fingerprint."""

from __future__ import annotations

from dataclasses import dataclass

from shelfcheck.crawler.content.classify import Finding, read_landing, read_page
from shelfcheck.crawler.content.fingerprint import Fingerprint, drift, fingerprint
from shelfcheck.crawler.content.page import Page, parse_page


@dataclass(frozen=True)
class Judgement:
    """The finding (None: the page reads as itself), the parsed page and its fingerprint."""

    finding: Finding | None
    page: Page
    fingerprint: Fingerprint


def judge(url: str, final_url: str, body: bytes, content_type: str | None = None, *,
          baseline: Fingerprint | None = None, catalog_title: str | None = None) -> Judgement:
    """Read a 2xx HTML page that `url` led to (at `final_url`, after any redirects)."""
    page = parse_page(body, content_type)
    print_ = fingerprint(page)
    finding = read_landing(url, final_url) if final_url != url else None
    if finding is None:
        finding = read_page(page, final_url)
    if finding is None and baseline is not None:
        why = drift(baseline, print_, catalog_title)
        if why:
            finding = Finding("content_changed", why)
    return Judgement(finding, page, print_)
