"""Helpers of the link check: spot soft-404s (the classifier lives in crawler.failures)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

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

_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.I | re.S)
_H1 = re.compile(rb"<h1[^>]*>(.*?)</h1", re.I | re.S)
_TAGS = re.compile(r"<[^>]+>")
_NOISE = re.compile(r"<(script|style|noscript|template)\b.*?</\1\s*>", re.I | re.S)
_BODY = re.compile(r"<body\b[^>]*>", re.I)
_WORD = re.compile(r"\w+")
_HEADING_PHRASES = re.compile(
    r"(^\s*404\b|\b404\s*(error|not found|page)\b|\berror\s*404\b|\bnot found\b"
    r"|\bdoes not exist\b|\bdoesn'?t exist\b|\bno longer (available|exists)\b"
    r"|\b(cannot|can'?t|could not) be found\b|\bpage unavailable\b|\bno document\b)", re.I)
_TEXT_PHRASES = re.compile(
    r"\b(page not found|404 not found|error 404|the page you (requested|are looking for|were "
    r"looking for)[^.]{0,40}(not|no longer)|(could not|cannot|can'?t) be found|"
    r"(page|document|item|resource|record) (was )?not found|no longer (available|exists)|"
    r"(this|the) page (does not|doesn'?t) exist|no document (is )?available|"
    r"the requested (url|page|document) was not found)\b", re.I)


def _clean(fragment: bytes) -> str:
    text = _TAGS.sub(" ", fragment.decode("utf-8", "replace"))
    return " ".join(text.split())


def visible_text(body: bytes, limit: int = 65536) -> str:
    """The text of an HTML page's body (prefix), without tags, scripts and styles."""
    html = body[:limit].decode("utf-8", "replace")
    start = _BODY.search(html)
    if start:
        html = html[start.end():]
    html = _NOISE.sub(" ", html)
    return " ".join(_TAGS.sub(" ", html).split())


def not_found_phrase(body: bytes) -> str | None:
    """The "not found" wording a page shows in its title, first heading or opening text."""
    head = body[:65536]
    for pattern in (_TITLE, _H1):
        match = pattern.search(head)
        if match:
            text = _clean(match.group(1))
            found = _HEADING_PHRASES.search(text)
            if found:
                return f"{'title' if pattern is _TITLE else 'heading'} says {text[:80]!r}"
    opening = visible_text(head)[:600]
    found = _TEXT_PHRASES.search(opening)
    if found:
        return f"page says {found.group(0)!r}"
    return None


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
                   ignore: Iterable[str] = ()) -> PageSignature:
    """The signature of a page; words in `ignore` (such as the random path) are left out."""
    match = _TITLE.search(body[:65536])
    title = _clean(match.group(1)) if match else ""
    skip = {w.lower() for text in ignore for w in _WORD.findall(text)}
    words = [w.lower() for w in _WORD.findall(visible_text(body)) if w.lower() not in skip][:800]
    shingles = frozenset(
        zlib.crc32(" ".join(words[i:i + 3]).encode()) for i in range(max(1, len(words) - 2))
    ) if words else frozenset()
    return PageSignature(status, final_url, redirected, title, shingles, len(body))


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
