"""Read-side queries shared by the CLI listings, the report and the exports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from shelfcheck.catalog.models import (
    ChangeEvent,
    FeeTier,
    Link,
    Meta,
    Offering,
    Provider,
    Resource,
    Section,
)
from shelfcheck.catalog.states import NO_URL, LinkState, OfferingState, ResourceState


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
    check: bool = True  # False: `check: false` in the catalog file
    link_id: int | None = None


def resource_rows(session: Session, *, include_retired: bool = False) -> Iterator[ResourceRow]:
    """Resources in guide order (sections by position, then resources by position).

    Reads plain columns, streamed in chunks: ORM objects for 100,000 resources and their links
    cost most of an export's time and memory.
    """
    query = (
        select(Section.name, Section.position, Resource.title, Resource.url,
               Resource.description, Provider.slug, Provider.name, Resource.state, Link.state,
               Link.url, Link.last_verdict, Link.last_http_status, Link.last_checked_at,
               Link.state_since, Link.redirect_target, Resource.check, Link.id)
        .join(Section, Resource.section_id == Section.id)
        .outerjoin(Provider, Resource.provider_id == Provider.id)
        .outerjoin(Link, Resource.link_id == Link.id)
        .order_by(Section.position, Resource.position, Resource.id)
        .execution_options(yield_per=2000)
    )
    if not include_retired:
        query = query.where(Resource.state == ResourceState.ACTIVE)
    for (section, position, title, url, description, slug, provider_name, state, link_state,
         link_url, verdict, http_status, checked, since, target, check,
         link_id) in session.execute(query):
        has_link = link_url is not None
        yield ResourceRow(
            section=section,
            section_position=position,
            title=title,
            url=url,
            description=description,
            provider=slug,
            provider_name=provider_name,
            state=state,
            link_state=link_state if has_link else NO_URL,
            link_url=link_url,
            verdict=verdict,
            http_status=http_status,
            last_checked_at=checked.isoformat() if checked else None,
            since=since.isoformat() if since else None,
            suggestion=_suggestion(link_state, link_url, target) if has_link else None,
            check=check,
            link_id=link_id,
        )


def resource_state_counts(session: Session) -> dict[str, int]:
    """Active resources by link state (`NO_URL` for those without a link), as `resource_rows`
    would count them, counted by the database."""
    query = (
        select(Link.state, func.count())
        .select_from(Resource)
        .join(Section, Resource.section_id == Section.id)
        .outerjoin(Link, Resource.link_id == Link.id)
        .where(Resource.state == ResourceState.ACTIVE)
        .group_by(Link.state)
    )
    counts: dict[str, int] = {}
    for state, count in session.execute(query):
        counts[state or NO_URL] = counts.get(state or NO_URL, 0) + count
    return counts


def listed_link_health(session: Session, stored_url: str) -> tuple[str, str | None] | None:
    """The (state, redirect target) of the link stored as `stored_url` when an active
    resource uses it, else None."""
    row = session.execute(
        select(Link.state, Link.redirect_target)
        .join(Resource, Resource.link_id == Link.id)
        .where(Link.url == stored_url, Resource.state == ResourceState.ACTIVE)
        .limit(1)
    ).first()
    if row is None:
        return None
    state, target = row
    return state, _suggestion(state, stored_url, target) if state == LinkState.REDIRECTED else None


def suggestion_for(link: Link | None) -> str | None:
    """What a maintainer could put instead: the redirect target, or a Wayback search link."""
    if link is None:
        return None
    return _suggestion(link.state, link.url, link.redirect_target)


def _suggestion(state: str, url: str, target: str | None) -> str | None:
    if state == LinkState.REDIRECTED and target:
        return target
    if state == LinkState.BROKEN:
        return f"https://web.archive.org/web/*/{url}"
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
    states: tuple[str, ...] = (OfferingState.ACTIVE,),
    upcoming_from: datetime | None = None,
    upcoming_until: datetime | None = None,
    listed_only: bool = False,
    by_start: bool = False,
) -> Iterator[OfferingRow]:
    """Offerings by provider then start (`by_start`: by start only, those without one last),
    read a chunk at a time; `upcoming_*` keeps those starting in that window, `listed_only`
    those of the providers the catalog still lists."""
    order = ((Offering.start_at.is_(None), Offering.start_at) if by_start else
             (Provider.slug, Offering.start_at.is_(None), Offering.start_at, Offering.title))
    query = (
        select(Offering.id, Provider.slug, Provider.name, Offering.key, Offering.title,
               Offering.url, Offering.format, Offering.schedule, Offering.start_at,
               Offering.end_at, Offering.timezone, Offering.start_raw, Offering.fee_known,
               Offering.lssc_approved, Offering.description, Offering.state,
               Offering.first_seen_at, Offering.last_seen_at, Offering.sequence)
        .join(Provider, Offering.provider_id == Provider.id)
        .where(Offering.state.in_(states))
        .order_by(*order)
        .execution_options(yield_per=1000)
    )
    if listed_only:
        query = query.where(Provider.active.is_(True))
    if provider:
        query = query.where(Provider.slug == provider)
    if upcoming_from is not None:
        query = query.where(Offering.start_at >= upcoming_from)
    if upcoming_until is not None:
        query = query.where(Offering.start_at < upcoming_until)
    # Plain columns, a chunk at a time, and the chunk's fee tiers in one query: ORM objects
    # with their fee collections cost most of an export's time.
    for chunk in session.execute(query).partitions():
        fees: dict[int, list[FeeRow]] = {}
        ids = [row[0] for row in chunk]
        for offering_id, tier, amount, currency in session.execute(
            select(FeeTier.offering_id, FeeTier.tier, FeeTier.amount, FeeTier.currency)
            .where(FeeTier.offering_id.in_(ids))
            .order_by(FeeTier.offering_id, FeeTier.position)
        ):
            fees.setdefault(offering_id, []).append(FeeRow(tier, f"{amount:.2f}", currency))
        for (oid, slug, provider_name, key, title, url, fmt, schedule, start_at, end_at, tz,
             start_raw, fee_known, lssc, description, state, first_seen, last_seen,
             sequence) in chunk:
            yield OfferingRow(
                id=oid, provider=slug, provider_name=provider_name, key=key, title=title,
                url=url, format=fmt, schedule=schedule, start_at=start_at, end_at=end_at,
                timezone=tz, start_raw=start_raw, fee_known=fee_known,
                fees=tuple(fees.get(oid, ())), lssc_approved=lssc, description=description,
                state=state, first_seen_at=first_seen, last_seen_at=last_seen,
                sequence=sequence,
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
    from shelfcheck.catalog.events import EVENT_KINDS

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
