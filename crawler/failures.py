"""The failure classifier shared by the spiders, and defensive parsers of what servers send.

`classify_failure` turns a failed download into a (verdict, detail) pair, `status_verdict` a final
status. The parsers (`retry_after_seconds`, `redirect_target`, `header_text`) never raise on
odd input: a Retry-After in non-ASCII digits, an HTTP date that overflows or a Location with an
invalid IPv6 host gives None or `InvalidRedirect`, not a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from w3lib.url import safe_url_string

from shelfcheck.crawler.netguard import BlockedAddressError, ResponseBoundError

PERMANENT_REDIRECTS = frozenset({301, 308})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
BLOCKING_STATUSES = {401: "login required (401)", 403: "forbidden (403)",
                     407: "proxy login required (407)", 451: "unavailable for legal reasons (451)",
                     999: "bot blocked (LinkedIn's 999)"}
_DELTA_SECONDS = re.compile(r"[0-9]{1,10}")  # ASCII digits only (str.isdigit takes "²" and "١")
MAX_HEADER_TEXT = 2048


class InvalidRedirect(ValueError):
    """A Location that does not make a usable URL."""


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
    from twisted.web._newclient import ParseError

    from shelfcheck.crawler.robots import RobotsUnavailable

    for cause in _causes(exc):
        if isinstance(cause, RobotsUnavailable):
            return cause.verdict, cause.detail
        if isinstance(cause, BlockedAddressError):
            return "blocked", str(cause)
        if isinstance(cause, ResponseBoundError):
            return "bad_response", str(cause)
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
        if isinstance(cause, ParseError):
            return "bad_response", f"the server sent a malformed response head: {_short(cause)}"
    for cause in _causes(exc):
        if isinstance(cause, (txerror.ConnectionLost, txerror.ConnectionDone,
                              txerror.ConnectError, DownloadFailedError,
                              DownloadCancelledError, ConnectionError)):
            return "connection_error", f"connection failed: {_short(cause)}"
    for cause in _causes(exc):
        if isinstance(cause, OSError) or type(cause).__module__.startswith(
                ("twisted.internet", "twisted.web", "OpenSSL", "h2")):
            return "connection_error", f"download failed: {_short(cause)}"
    # Not a network failure: a bug in a component on the way (the debug log has it).
    return "check_error", f"shelfcheck could not fetch it: {type(exc).__name__}: {_short(exc)}"


def failure_verdict(exc: BaseException | None, url: str) -> tuple[str, str]:
    """`classify_failure`, with the certificate's own verify error for a TLS failure."""
    verdict, detail = classify_failure(exc or Exception("unknown failure"))
    if verdict == "tls_error" and "verify failed" in detail:
        from shelfcheck.crawler.tlsdiag import last_verify_error

        parts = urlsplit(url)
        try:
            port = parts.port or 443
        except ValueError:
            port = 443
        detail = last_verify_error(parts.hostname or "", port) or detail
    return verdict, detail


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."


def is_retryable_failure(verdict: str) -> bool:
    """True for failures worth retrying: timeouts and connection errors."""
    return verdict in ("timeout", "connection_error")


def status_verdict(status: int, *, challenge: bool = False) -> tuple[str, str] | None:
    """(verdict, detail) for a final non-2xx status; None for 2xx and 304."""
    if challenge:
        return "blocked", f"bot challenge (cf-mitigated) with HTTP {status}"
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
        return "blocked", f"the server refused the request (HTTP {status})"
    if status in REDIRECTS or 300 <= status < 400:
        return "redirect_loop", f"HTTP {status} without a usable Location"
    if 500 <= status < 600:
        return "server_error", f"HTTP {status}"
    return "bad_response", f"the server answered with the non-HTTP status {status}"


def header_text(value: bytes | str | None, limit: int = MAX_HEADER_TEXT) -> str | None:
    """A header value as text (Latin-1, as HTTP/1.1 sends it), stripped and cut to `limit`."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return text.strip()[:limit] or None


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    text = header_text(value, 200)
    if not text:
        return None
    if _DELTA_SECONDS.fullmatch(text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


def redirect_target(base: str, location: bytes | str) -> str:
    """The absolute http(s) URL a Location points to; `InvalidRedirect` when there is none."""
    text = header_text(location, 16384)
    if not text:
        raise InvalidRedirect("an empty Location")
    try:
        target = safe_url_string(urljoin(base, text))
        parts = urlsplit(target)
        parts.port  # noqa: B018 - raises on a port out of range or not a number
    except (ValueError, UnicodeError) as exc:
        raise InvalidRedirect(f"redirects to an invalid URL {text[:200]!r}: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise InvalidRedirect(f"redirects to a non-http(s) URL {target[:200]!r}")
    if not parts.hostname:
        raise InvalidRedirect(f"redirects to a URL without a host {target[:200]!r}")
    return target
