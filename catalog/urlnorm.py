"""The one URL normalization used everywhere: links, offerings' keys, redirects.

Policy:
- scheme and host are lower-cased, IDN hosts become punycode, default ports are dropped;
- the fragment is dropped;
- an empty path becomes ``/``; any other path keeps its trailing slash or lack of it, since
  servers may treat ``/a`` and ``/a/`` differently;
- percent-encoding is made canonical and query arguments are sorted (w3lib);
- tracking and session-style query parameters (``utm_*``, ``jsessionid``, ``sid``, ...) and
  ``;jsessionid=`` path parameters are removed.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

SESSION_PARAMS = frozenset(
    {
        "jsessionid", "phpsessid", "sid", "sessionid", "session_id", "aspsessionid", "cfid",
        "cftoken", "zenid", "oscsid", "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid",
        "_ga", "_gl", "yclid", "igshid", "ref_src", "_hsenc", "_hsmi", "hsctatracking",
    }
)
SESSION_PREFIXES = ("utm_", "pk_", "mtm_")
DEFAULT_PORTS = {"http": 80, "https": 443}
_PATH_SESSION = re.compile(r";(jsessionid|phpsessid|sid)=[^/?#]*", re.IGNORECASE)


MAX_URL_LENGTH = 2000
"""The longest catalog URL accepted (normalized, so ASCII): browsers and sitemaps stop near
2,000 characters, and PostgreSQL's unique index on link.url holds at most about 2,700 bytes."""


class InvalidURL(ValueError):
    """The text is not an absolute http(s) URL."""


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a catalog link (not http(s), does not parse, holds whitespace)."""
    url = redact_userinfo(url)
    text = url.strip()
    if any(ch.isspace() for ch in text):
        return f"URL contains whitespace: {url!r} (write a space in a path as %20)"
    try:
        normalize_url(text)
    except InvalidURL as exc:
        return f"{exc}; a resource URL must be an absolute http:// or https:// address"
    return None


def is_session_param(name: str) -> bool:
    """True for a tracking or session-style query parameter."""
    lowered = name.lower()
    return lowered in SESSION_PARAMS or lowered.startswith(SESSION_PREFIXES)


def _host(hostname: str, url: str) -> str:
    try:
        return hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidURL(f"invalid host in URL {url!r}") from None


_PASSWORD = re.compile(r"^(\s*[A-Za-z][A-Za-z0-9+.-]*://[^/?#@:]*):[^/?#]*@")


def redact_userinfo(url: str) -> str:
    """`url` with the password of its userinfo replaced by ``***`` (for messages)."""
    return _PASSWORD.sub(r"\1:***@", url, count=1)


def strip_userinfo(url: str) -> str:
    """`url` without its userinfo: what is requested (credentials never go in the host)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def normalize_url(url: str) -> str:
    """Return the canonical form of an absolute http(s) URL, or raise InvalidURL.

    A password in the userinfo is dropped (the user name stays): it is never stored, shown or
    sent in the host name.
    """
    url = redact_userinfo(url)
    text = url.strip()
    if not text:
        raise InvalidURL("empty URL")
    if any(ch in text for ch in "\r\n\t\x00"):
        raise InvalidURL(f"URL contains a control character: {url!r}")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"malformed URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidURL(f"not an http(s) URL: {url!r}")
    if not parts.hostname:
        raise InvalidURL(f"URL has no host: {url!r}")
    host = _host(parts.hostname, url)
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    path = _PATH_SESSION.sub("", parts.path) or "/"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
         if not is_session_param(k)]
    )
    rebuilt = urlunsplit((scheme, netloc, path, query, ""))
    return canonicalize_url(rebuilt, keep_fragments=False)


def host_of(url: str) -> str:
    """The host (with a non-default port) of a normalized URL."""
    return urlsplit(url).netloc.rsplit("@", 1)[-1]


def url_key(url: str) -> str:
    """The form under which the catalog compares addresses: normalized, else as written."""
    try:
        return normalize_url(url)
    except InvalidURL:
        return url.strip()
