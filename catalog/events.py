"""Change events: stable kinds with readable messages and a severity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from shelfcheck.catalog.models import ChangeEvent, CrawlRun, Link, Resource, utcnow


@dataclass(frozen=True)
class EventKind:
    """A kind of change event: its key, severity and message."""

    key: str
    severity: str  # action | warning | info
    message: str


EVENT_KINDS: dict[str, EventKind] = {
    k.key: k
    for k in (
        EventKind("link_broken", "action", "The link is broken."),
        EventKind("link_recovered", "info", "The link works again."),
        EventKind("link_redirected", "action", "The link permanently redirects elsewhere."),
        EventKind("link_unverifiable", "warning", "The link cannot be verified."),
        EventKind("offering_added", "info", "A new offering is listed."),
        EventKind("offering_removed", "info", "An offering disappeared before its end date."),
        EventKind("offering_ended", "info", "An offering has ended."),
        EventKind("offering_rescheduled", "info", "An offering's dates changed."),
        EventKind("fee_changed", "action", "A fee changed."),
        EventKind("offering_updated", "info", "An offering's title, format or LSSC flag changed."),
        EventKind("provider_unreachable", "warning", "A provider's listing could not be fetched."),
        EventKind("extractor_drift", "warning",
                  "A listing yielded far fewer items than before; check its recipe."),
        EventKind("provider_recovered", "info",
                  "A provider's listing can be read again."),
        EventKind("run_inconclusive", "warning",
                  "A run looked like a local network failure; nothing was changed."),
    )
}


def record_event(
    session: Session,
    kind: str,
    *,
    run: CrawlRun | None = None,
    link: Link | None = None,
    **fields: Any,
) -> ChangeEvent:
    """Add a change event of `kind`; a link event records the resources that use the link."""
    spec = EVENT_KINDS[kind]
    event = ChangeEvent(kind=kind, severity=spec.severity, run=run, link=link, **fields)
    event.detected_at = fields.get("detected_at") or utcnow()
    if link is not None:
        event.url = event.url or link.url
        users = [r for r in _link_resources(session, link) if r.state == "active"]
        event.resources = [r.title for r in users]
        event.sections = sorted({r.section.name for r in users})
    session.add(event)
    return event


def _link_resources(session: Session, link: Link) -> list[Resource]:
    from sqlalchemy import select

    return list(session.scalars(select(Resource).where(Resource.link_id == link.id)))
