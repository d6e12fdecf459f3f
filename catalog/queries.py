"""Read-side queries shared by the CLI listings, the report and the exports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from catalog.models import Link, Offering, Provider, Resource, Section


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
