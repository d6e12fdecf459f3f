"""The catalog database: typed SQLAlchemy 2 models.

The caller owns the session; nothing here commits.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shelfcheck.catalog.states import (
    HealthState,
    LinkState,
    OfferingState,
    OfferingStatus,
    ResourceState,
    RunOutcome,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC; SQLite returns naive values, which are read as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to an aware column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def state_type(states: type[StrEnum]) -> Enum:
    """A state column: the enum's values in a VARCHAR(20), no CHECK constraint and no native
    enum type, so adding a member needs no migration and older databases read as they are."""
    return Enum(states, native_enum=False, create_constraint=False, length=20,
                values_callable=lambda members: [m.value for m in members],
                validate_strings=True)


class Base(DeclarativeBase):
    """Declarative base with the constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# --- the guide ---------------------------------------------------------------------------------


class Section(Base):
    """A section (box) of the guide, in page order."""

    __tablename__ = "section"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    resources: Mapped[list[Resource]] = relationship(back_populates="section")


class Provider(Base):
    """A training provider; `recipe` is its declarative listing recipe (or None)."""

    __tablename__ = "provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    home_url: Mapped[str | None] = mapped_column(Text)
    recipe: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The last complete, healthy listing crawl: the baseline for drift and removal.
    last_good_crawl_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_good_count: Mapped[int | None] = mapped_column(Integer)

    resources: Mapped[list[Resource]] = relationship(back_populates="provider")
    offerings: Mapped[list[Offering]] = relationship(back_populates="provider")


class Link(Base):
    """One normalized URL, shared by every resource that uses it, with its health state."""

    __tablename__ = "link"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    host: Mapped[str] = mapped_column(String(300), default="", index=True)
    state: Mapped[LinkState] = mapped_column(state_type(LinkState), default=LinkState.UNKNOWN,
                                             index=True)
    state_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_verdict: Mapped[str | None] = mapped_column(String(40))
    last_http_status: Mapped[int | None] = mapped_column(Integer)
    last_detail: Mapped[str | None] = mapped_column(Text)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    redirect_target: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    # Content fingerprints (crawler.content.fingerprint): the baseline taken at the first good
    # check (or by `links accept`), and the latest page seen.
    content_baseline: Mapped[str | None] = mapped_column(Text)
    content_baseline_title: Mapped[str | None] = mapped_column(Text)
    content_baseline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    content_seen: Mapped[str | None] = mapped_column(Text)
    content_seen_title: Mapped[str | None] = mapped_column(Text)

    resources: Mapped[list[Resource]] = relationship(back_populates="link")
    checks: Mapped[list[LinkCheck]] = relationship(
        back_populates="link", cascade="all, delete-orphan", passive_deletes=True
    )


class Resource(Base):
    """A resource the guide lists; retired (not deleted) when dropped from the catalog file."""

    __tablename__ = "resource"
    __table_args__ = (UniqueConstraint("section_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    section_id: Mapped[int] = mapped_column(ForeignKey("section.id"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"), index=True)
    url: Mapped[str | None] = mapped_column(Text)  # as written in the catalog file
    link_id: Mapped[int | None] = mapped_column(ForeignKey("link.id"), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[ResourceState] = mapped_column(state_type(ResourceState),
                                                 default=ResourceState.ACTIVE)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    section: Mapped[Section] = relationship(back_populates="resources")
    provider: Mapped[Provider | None] = relationship(back_populates="resources")
    link: Mapped[Link | None] = relationship(back_populates="resources")


# --- runs and history ----------------------------------------------------------------------------


class CrawlRun(Base):
    """One run of a step: sync, links, listings, report, refresh."""

    __tablename__ = "crawl_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[RunOutcome] = mapped_column(state_type(RunOutcome),
                                                default=RunOutcome.RUNNING, index=True)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    detail: Mapped[str | None] = mapped_column(Text)
    holder: Mapped[str | None] = mapped_column(String(200))  # host:pid of the process


class LinkCheck(Base):
    """One check of one link: the history."""

    __tablename__ = "link_check"
    __table_args__ = (Index("ix_link_check_link_checked", "link_id", "checked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("link.id", ondelete="CASCADE"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id"), index=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verdict: Mapped[str] = mapped_column(String(40))
    http_status: Mapped[int | None] = mapped_column(Integer)
    final_url: Mapped[str | None] = mapped_column(Text)
    redirect_chain: Mapped[list[Any] | None] = mapped_column(JSON)
    method: Mapped[str | None] = mapped_column(String(10))
    elapsed_ms: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)

    link: Mapped[Link] = relationship(back_populates="checks")


class Offering(Base):
    """A webinar, course or self-paced module of a provider."""

    __tablename__ = "offering"
    __table_args__ = (UniqueConstraint("provider_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    key: Mapped[str] = mapped_column(String(700))  # stable identity, see crawler change detection
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    format: Mapped[str | None] = mapped_column(String(40))  # webinar | course | self-paced | ...
    schedule: Mapped[str] = mapped_column(String(20), default="scheduled")
    # scheduled | unscheduled | self-paced
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timezone: Mapped[str | None] = mapped_column(String(64))
    start_raw: Mapped[str | None] = mapped_column(Text)
    end_raw: Mapped[str | None] = mapped_column(Text)
    fee_known: Mapped[bool] = mapped_column(Boolean, default=False)
    fee_raw: Mapped[str | None] = mapped_column(Text)
    lssc_approved: Mapped[bool | None] = mapped_column(Boolean)
    description: Mapped[str | None] = mapped_column(Text)
    state: Mapped[OfferingState] = mapped_column(state_type(OfferingState),
                                                 default=OfferingState.ACTIVE, index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE
    warnings: Mapped[list[Any] | None] = mapped_column(JSON)
    # the platform's own id ("woocommerce:123", "sku:ABC"): identity beyond the URL
    platform_id: Mapped[str | None] = mapped_column(String(200), index=True)
    status: Mapped[OfferingStatus | None] = mapped_column(state_type(OfferingStatus))

    provider: Mapped[Provider] = relationship(back_populates="offerings")
    fees: Mapped[list[FeeTier]] = relationship(
        back_populates="offering",
        cascade="all, delete-orphan",
        order_by="FeeTier.position",
        passive_deletes=True,
    )


class FeeTier(Base):
    """One fee of an offering for one audience ("" when there is one price)."""

    __tablename__ = "fee_tier"
    __table_args__ = (UniqueConstraint("offering_id", "tier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offering.id", ondelete="CASCADE"))
    tier: Mapped[str] = mapped_column(String(200), default="")
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    raw: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    regular_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # before a sale

    offering: Mapped[Offering] = relationship(back_populates="fees")


class ChangeEvent(Base):
    """A change found by a run: what maintainers read in the report and the Atom feed."""

    __tablename__ = "change_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    severity: Mapped[str] = mapped_column(String(10))  # action | warning | info
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id"), index=True)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("link.id"), index=True)
    offering_id: Mapped[int | None] = mapped_column(ForeignKey("offering.id"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"), index=True)
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    tier: Mapped[str | None] = mapped_column(String(200))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    verdict: Mapped[str | None] = mapped_column(String(40))
    http_status: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)
    # Resource titles and section names that used the link when the event was written.
    resources: Mapped[list[str] | None] = mapped_column(JSON)
    sections: Mapped[list[str] | None] = mapped_column(JSON)

    run: Mapped[CrawlRun | None] = relationship()
    provider: Mapped[Provider | None] = relationship()
    link: Mapped[Link | None] = relationship()
    offering: Mapped[Offering | None] = relationship()


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


# --- problems as states ----------------------------------------------------------------------


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
