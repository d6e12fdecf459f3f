"""Read-side queries shared by the CLI listings, the report and the exports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from catalog.models import ChangeEvent, Link, Meta, Offering, Provider, Resource, Section


@dataclass(frozen=True)
class ResourceRow:
    """A resource with its section, provider and link state, flattened for output."""

    section: str
    section_position: int
    title: str
    url: str | None
    description: str
    provider: str | None
    provider_name: str | None
    state: str
    link_state: str
    link_url: str | None
    verdict: str | None
    http_status: int | None
    last_checked_at: str | None
    since: str | None
    suggestion: str | None


def resource_rows(session: Session, *, include_retired: bool = False) -> Iterator[ResourceRow]:
    """Resources in guide order (sections by position, then resources by position)."""
    query = (
        select(Resource)
        .join(Resource.section)
        .options(joinedload(Resource.section), joinedload(Resource.provider),
                 joinedload(Resource.link))
        .order_by(Section.position, Resource.position, Resource.id)
    )
    if not include_retired:
        query = query.where(Resource.state == "active")
    for res in session.scalars(query):
        link: Link | None = res.link
        provider: Provider | None = res.provider
        yield ResourceRow(
            section=res.section.name,
            section_position=res.section.position,
            title=res.title,
            url=res.url,
            description=res.description,
            provider=provider.slug if provider else None,
            provider_name=provider.name if provider else None,
            state=res.state,
            link_state=link.state if link else "no_url",
            link_url=link.url if link else None,
            verdict=link.last_verdict if link else None,
            http_status=link.last_http_status if link else None,
            last_checked_at=link.last_checked_at.isoformat()
            if link and link.last_checked_at else None,
            since=link.state_since.isoformat() if link and link.state_since else None,
            suggestion=suggestion_for(link),
        )


def suggestion_for(link: Link | None) -> str | None:
    """What a maintainer could put instead: the redirect target, or a Wayback search link."""
    if link is None:
        return None
    if link.state == "redirected" and link.redirect_target:
        return link.redirect_target
    if link.state == "broken":
        return f"https://web.archive.org/web/*/{link.url}"
    return None


@dataclass(frozen=True)
class FeeRow:
    """One fee tier, amounts as decimal strings."""

    tier: str
    amount: str
    currency: str


@dataclass(frozen=True)
class OfferingRow:
    """An offering flattened for output; times are aware datetimes or None."""

    id: int
    provider: str
    provider_name: str
    key: str
    title: str
    url: str | None
    format: str | None
    schedule: str
    start_at: datetime | None
    end_at: datetime | None
    timezone: str | None
    start_raw: str | None
    fee_known: bool
    fees: tuple[FeeRow, ...]
    lssc_approved: bool | None
    description: str | None
    state: str
    first_seen_at: datetime
    last_seen_at: datetime
    sequence: int


def offering_rows(
    session: Session,
    *,
    provider: str | None = None,
    states: tuple[str, ...] = ("active",),
    upcoming_from: datetime | None = None,
    upcoming_until: datetime | None = None,
) -> Iterator[OfferingRow]:
    """Offerings by provider then start; `upcoming_*` keeps those starting in that window."""
    query = (
        select(Offering)
        .join(Offering.provider)
        .options(joinedload(Offering.provider), selectinload(Offering.fees))
        .where(Offering.state.in_(states))
        .order_by(Provider.slug, Offering.start_at.is_(None), Offering.start_at, Offering.title)
    )
    if provider:
        query = query.where(Provider.slug == provider)
    if upcoming_from is not None:
        query = query.where(Offering.start_at >= upcoming_from)
    if upcoming_until is not None:
        query = query.where(Offering.start_at < upcoming_until)
    for off in session.scalars(query):
        yield OfferingRow(
            id=off.id, provider=off.provider.slug, provider_name=off.provider.name, key=off.key,
            title=off.title, url=off.url, format=off.format, schedule=off.schedule,
            start_at=off.start_at, end_at=off.end_at, timezone=off.timezone,
            start_raw=off.start_raw, fee_known=off.fee_known,
            fees=tuple(FeeRow(f.tier, f"{f.amount:.2f}", f.currency) for f in off.fees),
            lssc_approved=off.lssc_approved, description=off.description, state=off.state,
            first_seen_at=off.first_seen_at, last_seen_at=off.last_seen_at,
            sequence=off.sequence,
        )


def providers(session: Session, *, active_only: bool = True) -> list[Provider]:
    """Providers ordered by slug."""
    query = select(Provider).order_by(Provider.slug)
    if active_only:
        query = query.where(Provider.active.is_(True))
    return list(session.scalars(query))


def guide_meta(session: Session) -> dict[str, Any]:
    """The guide's own details from the last synced catalog file (``title``, ``url``), or {}."""
    import json

    meta = session.get(Meta, "guide")
    if meta is None:
        return {}
    value = json.loads(meta.value)
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class EventRow:
    """A change event flattened for output, with its readable message and provider."""

    id: int
    kind: str
    severity: str
    message: str
    detected_at: datetime
    run_id: int | None
    provider: str | None
    provider_name: str | None
    url: str | None
    title: str | None
    tier: str | None
    old: str | None
    new: str | None
    verdict: str | None
    http_status: int | None
    detail: str | None
    resources: tuple[str, ...]
    sections: tuple[str, ...]


def change_event_rows(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[EventRow]:
    """Change events detected in [since, until), newest first (ties: the later id first).

    The provider and title fall back to those of the event's offering.
    """
    from catalog.events import EVENT_KINDS

    query = (
        select(ChangeEvent)
        .options(joinedload(ChangeEvent.provider),
                 joinedload(ChangeEvent.offering).joinedload(Offering.provider))
        .order_by(ChangeEvent.detected_at.desc(), ChangeEvent.id.desc())
    )
    if since is not None:
        query = query.where(ChangeEvent.detected_at >= since)
    if until is not None:
        query = query.where(ChangeEvent.detected_at < until)
    if limit is not None:
        query = query.limit(limit)
    rows = []
    for event in session.scalars(query).unique():
        offering = event.offering
        provider = event.provider or (offering.provider if offering else None)
        spec = EVENT_KINDS.get(event.kind)
        rows.append(EventRow(
            id=event.id, kind=event.kind, severity=event.severity,
            message=spec.message if spec else "", detected_at=event.detected_at,
            run_id=event.run_id, provider=provider.slug if provider else None,
            provider_name=provider.name if provider else None,
            url=event.url or (offering.url if offering else None),
            title=event.title or (offering.title if offering else None),
            tier=event.tier, old=event.old, new=event.new, verdict=event.verdict,
            http_status=event.http_status, detail=event.detail,
            resources=tuple(event.resources or ()), sections=tuple(event.sections or ()),
        ))
    return rows
