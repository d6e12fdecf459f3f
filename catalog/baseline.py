"""Content baselines: `links accept` takes the page as it is now as the link's baseline."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelfcheck.catalog.events import record_event
from shelfcheck.catalog.models import Link, utcnow
from shelfcheck.catalog.states import LinkState
from shelfcheck.catalog.urlnorm import InvalidURL, normalize_url

DRIFT_VERDICT = "content_changed"


class AcceptError(ValueError):
    """The URL cannot be accepted; the message says why."""


@dataclass(frozen=True)
class Accepted:
    """What `accept_link` did."""

    url: str
    old_title: str | None
    new_title: str | None
    recovered: bool  # the link was failing for drift and is ok again


def accept_link(session: Session, url: str) -> Accepted:
    """Re-baseline `url` on the page its last check saw, and return a drifted link to ok."""
    try:
        key = normalize_url(url)
    except InvalidURL as exc:
        raise AcceptError(f"{url!r} is not a valid http(s) URL: {exc}") from None
    link = session.scalar(select(Link).where(Link.url == key))
    if link is None:
        raise AcceptError(f"{url} is not a link of the catalog (looked for {key})")
    if link.content_seen is None:
        raise AcceptError(f"{url} has no page read yet (never checked, or not an HTML page); "
                          "run `shelfcheck check-links` first")
    old = link.content_baseline_title
    now = utcnow()
    link.content_baseline = link.content_seen
    link.content_baseline_title = link.content_seen_title
    link.content_baseline_at = now
    drifted = link.last_verdict == DRIFT_VERDICT
    if drifted:
        was_broken = link.state == LinkState.BROKEN
        link.last_verdict = "ok"
        link.last_detail = f"accepted the page as it is now ({link.content_seen_title!r})"
        link.consecutive_failures = 0
        link.first_failed_at = None
        link.last_ok_at = now
        if link.state != LinkState.OK:
            link.state, link.state_since = LinkState.OK, now
        if was_broken:
            record_event(session, "link_recovered", link=link, verdict="ok",
                         detail=link.last_detail)
    return Accepted(link.url, old, link.content_seen_title, drifted)
