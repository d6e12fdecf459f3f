"""Change events: the registry of their kinds (declared once, here) and recording one.

Adding a kind is one `EventKind(...)` line below; the report builder, the report's JSON Schema
(tests/catalog/test_registries.py regenerates its enums) and docs/report.md's table derive
from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from shelfcheck.catalog.models import ChangeEvent, CrawlRun, Link, Resource, utcnow
from shelfcheck.catalog.states import ResourceState

SEVERITIES = ("action", "warning", "info")
"""action: the guide needs an edit; warning: something could not be checked; info: news."""

GROUPS = ("links", "training", "providers", "runs")
"""Where the report lists a kind: link health, training changes by provider, provider
warnings (unreachable listings, recipe drift), run warnings."""


@dataclass(frozen=True)
class EventKind:
    """A kind of change event: its key, severity, message, report group and summary count.

    `summary` names the report summary's counter (`reports.model.Summary`) that counts the
    events of this kind, or None when the summary counts them otherwise (link states, warnings).
    """

    key: str
    severity: str
    message: str
    group: str = ""
    summary: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"event kind {self.key!r}: severity {self.severity!r} is not one "
                             f"of {SEVERITIES}")
        if self.group not in GROUPS:
            raise ValueError(f"event kind {self.key!r}: group {self.group!r} is not one of "
                             f"{GROUPS}")


EVENT_KINDS: dict[str, EventKind] = {
    k.key: k
    for k in (
        EventKind("link_broken", "action", "The link is broken.", "links"),
        EventKind("link_recovered", "info", "The link works again.", "links", "recovered"),
        EventKind("link_redirected", "action", "The link permanently redirects elsewhere.",
                  "links"),
        EventKind("link_unverifiable", "warning", "The link cannot be verified.", "links"),
        EventKind("offering_added", "info", "A new offering is listed.", "training",
                  "offerings_added"),
        EventKind("offering_removed", "info", "An offering disappeared before its end date.",
                  "training", "offerings_removed"),
        EventKind("offering_ended", "info", "An offering has ended.", "training",
                  "offerings_ended"),
        EventKind("offering_rescheduled", "info", "An offering's dates changed.", "training",
                  "offerings_rescheduled"),
        EventKind("fee_changed", "action", "A fee changed.", "training", "fees_changed"),
        EventKind("offering_updated", "info", "An offering's title, format or LSSC flag changed.",
                  "training", "offerings_updated"),
        EventKind("provider_unreachable", "warning", "A provider's listing could not be fetched.",
                  "providers"),
        EventKind("extractor_drift", "warning",
                  "A listing yielded far fewer items than before; check its recipe.", "providers"),
        EventKind("provider_recovered", "info", "A provider's listing can be read again.",
                  "providers"),
        EventKind("run_inconclusive", "warning",
                  "A run looked like a local network failure; nothing was changed.", "runs"),
    )
}


def kinds_in(group: str) -> tuple[str, ...]:
    """The event kinds of a report group, in registry order."""
    if group not in GROUPS:
        raise ValueError(f"unknown event group {group!r} (known: {', '.join(GROUPS)})")
    return tuple(key for key, kind in EVENT_KINDS.items() if kind.group == group)


SUMMARY_COUNTS: dict[str, str] = {k.key: k.summary for k in EVENT_KINDS.values() if k.summary}
"""Event kind -> the report summary counter that counts its events."""


def record_event(
    session: Session,
    kind: str,
    *,
    run: CrawlRun | None = None,
    link: Link | None = None,
    resources: Sequence[Resource] | None = None,
    **fields: Any,
) -> ChangeEvent:
    """Add a change event of `kind`; a link event records the resources that use the link
    (`resources`: the link's resources when the caller has read them already)."""
    spec = EVENT_KINDS[kind]
    event = ChangeEvent(kind=kind, severity=spec.severity, run=run, link=link, **fields)
    event.detected_at = fields.get("detected_at") or utcnow()
    if link is not None:
        event.url = event.url or link.url
        if resources is None:
            resources = _link_resources(session, link)
        users = [r for r in resources if r.state == ResourceState.ACTIVE]
        event.resources = [r.title for r in users]
        event.sections = sorted({r.section.name for r in users})
    session.add(event)
    return event


def _link_resources(session: Session, link: Link) -> list[Resource]:
    from sqlalchemy import select

    return list(session.scalars(select(Resource).where(Resource.link_id == link.id)))
