"""Runs and what they found: link checks, offerings with their fees, change events."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shelfcheck.catalog.models.base import Base, UTCDateTime, state_type, utcnow
from shelfcheck.catalog.states import OfferingState, OfferingStatus, RunKind, RunOutcome

if TYPE_CHECKING:
    from shelfcheck.catalog.models.guide import Link, Provider


class CrawlRun(Base):
    """One run of a step: sync, links, listings, report, refresh."""

    __tablename__ = "crawl_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RunKind] = mapped_column(state_type(RunKind), index=True)
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
