"""Link-check verdicts: stable keys paired with readable messages, and how each one counts."""

from __future__ import annotations

from dataclasses import dataclass

CLASSES = ("ok", "failing", "unverifiable", "none")
"""The classes of verdicts; `none` is for a resource without a URL (nothing was checked)."""


@dataclass(frozen=True)
class Verdict:
    """One verdict: its stable key, what it means to a maintainer, and its class.

    `kind` is ``ok`` (the link works), ``failing`` (counts towards `broken`) or
    ``unverifiable`` (the server would not tell us; never counts as broken).
    """

    key: str
    kind: str
    message: str

    def __post_init__(self) -> None:
        if self.kind not in CLASSES:
            raise ValueError(f"verdict {self.key!r}: class {self.kind!r} is not one of {CLASSES}")


VERDICTS: dict[str, Verdict] = {
    v.key: v
    for v in (
        Verdict("ok", "ok", "The link works."),
        Verdict("redirected", "ok",
                "The link permanently redirects (301/308); update it to the final URL."),
        Verdict("not_found", "failing", "The page is not found (404)."),
        Verdict("gone", "failing", "The page is gone for good (410); remove or replace the link."),
        Verdict("server_error", "failing", "The server failed (5xx), even after retries."),
        Verdict("timeout", "failing", "The server did not answer in time, even after retries."),
        Verdict("dns_error", "failing", "The host name does not resolve."),
        Verdict("connection_error", "failing", "The connection was refused or reset."),
        Verdict("tls_error", "failing",
                "The HTTPS certificate is expired, untrusted or for another name."),
        Verdict("soft_404", "failing",
                "The page answers, but it says \"not found\" or looks like the site's "
                "answer to a page that does not exist."),
        Verdict("blocked", "unverifiable",
                "The site refused the check (401/403/999, a bot challenge, robots.txt, "
                "or a private address)."),
        Verdict("rate_limited", "unverifiable",
                "The site kept answering 429 Too Many Requests after we waited."),
        Verdict("redirect_loop", "failing", "The redirects loop, or there are too many of them."),
        Verdict("invalid_url", "failing", "The URL is not a valid http(s) URL."),
        Verdict("tarpit", "failing",
                "The server held the check past the link's deadline (link_deadline) with "
                "slow answers, retries and Retry-After waits."),
        Verdict("bad_response", "failing",
                "The server's answer broke a bound or HTTP itself (too many or too long "
                "header lines, a malformed status line); browsers refuse such answers."),
        Verdict("robots_unreachable", "unverifiable",
                "The host did not answer for robots.txt (timeout or connection error); as "
                "RFC 9309 asks, nothing else was fetched from it in this run."),
        Verdict("check_error", "unverifiable",
                "shelfcheck could not handle the server's answer (a bug: the debug log has "
                "the traceback); the link was not judged."),
        Verdict("no_url", "none", "The resource has no URL."),
    )
}

FAILING = frozenset(k for k, v in VERDICTS.items() if v.kind == "failing")
UNVERIFIABLE = frozenset(k for k, v in VERDICTS.items() if v.kind == "unverifiable")
WORKING = frozenset(k for k, v in VERDICTS.items() if v.kind == "ok")
# Verdicts that, when most hosts get them, suggest our own network is down.
NETWORK_FAILURES = frozenset({"dns_error", "connection_error", "robots_unreachable"})


def message(key: str) -> str:
    """The readable message of a verdict key."""
    return VERDICTS[key].message


def message_or_none(key: str | None) -> str | None:
    """The readable message of a stored verdict key; None for no key or one no longer known."""
    verdict = VERDICTS.get(key) if key is not None else None
    return verdict.message if verdict else None
