"""The guide: sections, providers, links and the resources that use them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shelfcheck.catalog.models.base import Base, UTCDateTime, state_type, utcnow
from shelfcheck.catalog.states import LinkState, ResourceState

if TYPE_CHECKING:
    from shelfcheck.catalog.models.history import LinkCheck, Offering


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
    # `check: false` in the catalog file: its link is not checked for this resource
    check: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    state: Mapped[ResourceState] = mapped_column(state_type(ResourceState),
                                                 default=ResourceState.ACTIVE)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    section: Mapped[Section] = relationship(back_populates="resources")
    provider: Mapped[Provider | None] = relationship(back_populates="resources")
    link: Mapped[Link | None] = relationship(back_populates="resources")
