"""The catalog database: typed SQLAlchemy 2 models, one module per part of the schema.

The caller owns the session; nothing here commits. Every model is importable from here.
"""

from shelfcheck.catalog.models.base import (
    NAMING_CONVENTION,
    Base,
    UTCDateTime,
    state_type,
    utcnow,
)
from shelfcheck.catalog.models.bookkeeping import (
    LinkDismissal,
    Meta,
    PageCache,
    ProviderHealth,
    ReportRecord,
    RunLock,
)
from shelfcheck.catalog.models.guide import Link, Provider, Resource, Section
from shelfcheck.catalog.models.history import ChangeEvent, CrawlRun, FeeTier, LinkCheck, Offering

__all__ = [
    "NAMING_CONVENTION", "Base", "ChangeEvent", "CrawlRun", "FeeTier", "Link", "LinkCheck",
    "LinkDismissal", "Meta", "Offering", "PageCache", "Provider", "ProviderHealth", "ReportRecord",
    "Resource", "RunLock", "Section", "UTCDateTime", "state_type", "utcnow",
]
