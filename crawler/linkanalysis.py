"""Helpers of the link check: spot soft-404s (the classifier lives in crawler.failures)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from shelfcheck.crawler.content.classify import not_found_wording
from shelfcheck.crawler.content.page import Page, parse_page

# The classifier and the header parsers moved to crawler.failures (shared by both spiders);
# these names stay importable from here.
from shelfcheck.crawler.failures import (  # noqa: F401
    BLOCKING_STATUSES,
    PERMANENT_REDIRECTS,
    REDIRECTS,
    classify_failure,
    is_retryable_failure,
    retry_after_seconds,
    status_verdict,
)

# --- soft-404 ------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def visible_text(body: bytes, limit: int = 65536) -> str:
    """The text of an HTML page's body (prefix), decoded and without scripts and styles."""
    return parse_page(body[:limit]).text


def not_found_phrase(body: bytes, content_type: str | None = None) -> str | None:
    """The "not found" wording a page shows in its title, first heading or opening text."""
    return not_found_wording(parse_page(body[:65536], content_type))


@dataclass(frozen=True)
class PageSignature:
    """What a page looks like, to compare with a host's answer to a path that cannot exist."""

    status: int
    final_url: str
    redirected: bool
    title: str
    shingles: frozenset[int]
    length: int


def page_signature(status: int, final_url: str, redirected: bool, body: bytes,
                   ignore: Iterable[str] = (), page: Page | None = None) -> PageSignature:
    """The signature of a page; words in `ignore` (such as the random path) are left out."""
    page = page or parse_page(body[:65536])
    skip = {w.lower() for text in ignore for w in _WORD.findall(text)}
    words = [w.lower() for w in _WORD.findall(page.text) if w.lower() not in skip][:800]
    shingles = frozenset(
        zlib.crc32(" ".join(words[i:i + 3]).encode()) for i in range(max(1, len(words) - 2))
    ) if words else frozenset()
    return PageSignature(status, final_url, redirected, page.title, shingles, len(body))


def looks_like(page: PageSignature, probe: PageSignature, threshold: float = 0.85) -> str | None:
    """Why `page` looks like the host's answer to a random path, or None."""
    if page.redirected and probe.redirected and page.final_url == probe.final_url:
        return f"redirects to the same page as a path that cannot exist ({page.final_url})"
    if page.shingles and probe.shingles:
        union = len(page.shingles | probe.shingles)
        similarity = len(page.shingles & probe.shingles) / union if union else 0.0
        if similarity >= threshold and (page.title == probe.title or not probe.title):
            return (f"looks like the site's answer to a path that cannot exist "
                    f"({similarity:.0%} alike)")
    elif not page.shingles and not probe.shingles and page.title == probe.title \
            and abs(page.length - probe.length) <= max(64, probe.length // 10):
        return "looks like the site's answer to a path that cannot exist (same empty page)"
    return None


SITE_WIDE_MAX_SHINGLES = 120  # a maintenance page is thin; a home page has words of its own


def site_wide_page(probe: PageSignature, home: PageSignature) -> bool:
    """True when a host answers one thin page for its home page and for a path that cannot
    exist (answered there, not redirected to the home page): the whole site shows one page."""
    if probe.redirected and probe.final_url == home.final_url:
        return False  # a missing page sent to the home page: the soft-404 of a sink
    return len(probe.shingles) < SITE_WIDE_MAX_SHINGLES and looks_like(home, probe) is not None
