"""Helpers of the link check: classify errors and statuses, read Retry-After, spot soft-404s."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
)

from shelfcheck.crawler.content.classify import not_found_wording
from shelfcheck.crawler.content.page import Page, parse_page
from shelfcheck.crawler.netguard import BlockedAddressError

PERMANENT_REDIRECTS = frozenset({301, 308})
# 300 Multiple Choices with a Location is followed like the others (every peer does).
REDIRECTS = frozenset({300, 301, 302, 303, 307, 308})
BLOCKING_STATUSES = {401: "login required (401)", 403: "forbidden (403)",
                     407: "proxy login required (407)", 999: "bot blocked (LinkedIn's 999)"}


def _causes(exc: BaseException) -> Iterable[BaseException]:
    """The exception, its causes, and the reasons inside Twisted's ResponseFailed."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        cur = stack.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        for reason in getattr(cur, "reasons", None) or ():
            value = getattr(reason, "value", None)
            if isinstance(value, BaseException):
                stack.append(value)
        for nxt in (cur.__cause__, cur.__context__):
            if nxt is not None:
                stack.append(nxt)


def _tls_detail(exc: BaseException) -> str | None:
    from OpenSSL import SSL

    try:
        from service_identity import VerificationError
    except ImportError:  # pragma: no cover
        VerificationError = ()  # type: ignore[assignment,misc]
    if isinstance(exc, VerificationError):
        return f"certificate is for another name: {exc}"
    if isinstance(exc, SSL.Error):
        text = " ".join(str(part) for part in exc.args)
        if "expired" in text:
            return "certificate has expired"
        if "self-signed" in text or "self signed" in text or "unable to get local issuer" in text:
            return "certificate is not trusted (unknown issuer)"
        if "certificate verify failed" in text:
            return f"certificate verify failed: {text}"
        return f"TLS handshake failed: {text}"
    return None


def classify_failure(exc: BaseException) -> tuple[str, str]:
    """(verdict, detail) for a failed download."""
    for cause in _causes(exc):
        if isinstance(cause, BlockedAddressError):
            return "blocked", str(cause)
        tls = _tls_detail(cause)
        if tls:
            return "tls_error", tls
    from twisted.internet import error as txerror

    for cause in _causes(exc):
        if isinstance(cause, (CannotResolveHostError, txerror.DNSLookupError)):
            return "dns_error", f"host name does not resolve: {cause}"
        if isinstance(cause, IgnoreRequest):
            text = str(cause)
            if "robots.txt" in text:
                return "blocked", "robots.txt forbids checking this URL"
            return "blocked", text or "request ignored"
        if isinstance(cause, (DownloadTimeoutError, txerror.TimeoutError,
                              txerror.TCPTimedOutError)):
            return "timeout", str(cause) or "timed out"
        if isinstance(cause, (DownloadConnectionRefusedError, txerror.ConnectionRefusedError)):
            return "connection_error", "connection refused"
    for cause in _causes(exc):
        if isinstance(cause, (txerror.ConnectionLost, txerror.ConnectionDone,
                              txerror.ConnectError, DownloadFailedError,
                              DownloadCancelledError, ConnectionError)):
            return "connection_error", f"connection failed: {_short(cause)}"
    return "connection_error", f"download failed: {_short(exc)}"


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."


def is_retryable_failure(verdict: str) -> bool:
    """True for failures worth retrying: timeouts and connection errors."""
    return verdict in ("timeout", "connection_error")


def status_verdict(status: int, *, challenge: bool = False,
                   wall: str | None = None) -> tuple[str, str] | None:
    """(verdict, detail) for a final non-2xx status; None for 2xx and 304.

    `wall` names a recognised bot wall (see crawler.content.walls); `challenge` is Cloudflare's
    cf-mitigated header alone.
    """
    if challenge or wall:
        name = wall or "Cloudflare"
        mark = " (cf-mitigated)" if challenge else ""
        return "blocked", f"bot challenge by {name}{mark} with HTTP {status}"
    if 200 <= status < 300 or status == 304:
        return None
    if status == 404:
        return "not_found", "HTTP 404 Not Found"
    if status == 410:
        return "gone", "HTTP 410 Gone"
    if status == 429:
        return "rate_limited", "HTTP 429 Too Many Requests"
    if status in BLOCKING_STATUSES:
        return "blocked", BLOCKING_STATUSES[status]
    if 400 <= status < 500:
        return "client_error", f"HTTP {status}"
    if status in REDIRECTS or 300 <= status < 400:
        return "redirect_loop", f"HTTP {status} without a usable Location"
    if status == 503:
        return "maintenance", "HTTP 503 Service Unavailable: the site is down for now"
    return "server_error", f"HTTP {status}"


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


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
