"""Bookkeeping: the page cache, written reports, the run lock, key/value state, and problems as
states (provider health, link dismissals)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shelfcheck.catalog.models.base import Base, UTCDateTime, state_type, utcnow
from shelfcheck.catalog.models.guide import Link, Provider
from shelfcheck.catalog.states import HealthState


class PageCache(Base):
    """Validators and body of a fetched listing page, for conditional requests (304)."""

    __tablename__ = "page_cache"

    url: Mapped[str] = mapped_column(Text, primary_key=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    content_type: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)  # gzip-compressed


class ReportRecord(Base):
    """A report that was written: its period and files."""

    __tablename__ = "report_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    paths: Mapped[list[str]] = mapped_column(JSON, default=list)
    emailed: Mapped[bool] = mapped_column(Boolean, default=False)


class RunLock(Base):
    """The one-run-at-a-time lock; a row per lock name, stale after `expires_at`."""

    __tablename__ = "run_lock"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Meta(Base):
    """Key/value state, such as the hash of the last synced catalog file."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ProviderHealth(Base):
    """A provider's listing health: events mark only its edges (see catalog.health)."""

    __tablename__ = "provider_health"

    provider_id: Mapped[int] = mapped_column(
        ForeignKey("provider.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[HealthState] = mapped_column(state_type(HealthState), default=HealthState.OK)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    runs: Mapped[int] = mapped_column(Integer, default=1)  # crawls that saw this state
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    url: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)

    provider: Mapped[Provider] = relationship()


class LinkDismissal(Base):
    """A maintainer's "we know" about a link; holds until `until` or until its result changes.

    The result it was given for (state, verdict, redirect target) is kept to tell.
    """

    __tablename__ = "link_dismissal"

    link_id: Mapped[int] = mapped_column(ForeignKey("link.id", ondelete="CASCADE"),
                                         primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20))
    verdict: Mapped[str | None] = mapped_column(String(40))
    redirect_target: Mapped[str | None] = mapped_column(Text)

    link: Mapped[Link] = relationship()
