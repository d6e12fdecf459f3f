"""What a crawl of a provider's listing found, and the stable key of an offering.

The data classes the crawler fills and `catalog.offerings` applies, and the text helpers that
make keys and comparisons ignore noise (whitespace, ``&nbsp;``, quote and dash styles).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from shelfcheck.catalog.urlnorm import InvalidURL, normalize_url

KEY_MAX = 700
_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"',
                         "„": '"', "–": "-", "—": "-", "‐": "-", "‑": "-"})


@dataclass(frozen=True, slots=True)
class FeeData:
    """One extracted fee tier."""

    tier: str
    amount: Decimal
    currency: str = "USD"
    raw: str | None = None
    regular: Decimal | None = None  # the price before a sale, kept as information


@dataclass(slots=True)
class OfferingData:
    """One offering as extracted from a provider's pages."""

    title: str
    url: str | None
    format: str | None = None
    schedule: str = "unscheduled"  # scheduled | unscheduled | self-paced
    start: datetime | None = None
    end: datetime | None = None
    timezone: str | None = None
    start_raw: str | None = None
    end_raw: str | None = None
    fee_known: bool = False
    fees: list[FeeData] = field(default_factory=list)
    fee_raw: str | None = None
    lssc: bool | None = None
    description: str | None = None
    cancelled: bool = False
    platform_id: str | None = None  # "woocommerce:123", "sku:ABC", ...: see catalog.identity
    status: str | None = None  # an OfferingStatus; None: the listing says nothing
    sources: dict[str, str] = field(default_factory=dict)
    # Fields whose selectors matched nothing: their old values are kept.
    missing: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PageFailure:
    """A page of a provider that could not be fetched."""

    url: str
    reason: str


@dataclass
class ProviderCrawl:
    """What one crawl of one provider found."""

    slug: str
    records: list[OfferingData] = field(default_factory=list)
    pages: int = 0
    not_modified: int = 0
    listing_pages: int = 0
    failures: list[PageFailure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    complete: bool = True
    listing_url: str | None = None
    item_selector: str | None = None
    # old canonical URL -> the canonical URL it redirects to now (identity rung "redirect")
    redirects: dict[str, str] = field(default_factory=dict)


@dataclass
class ProviderOutcome:
    """What applying one provider's crawl did."""

    slug: str
    status: str  # ok | baseline | unreachable | drift | incomplete
    items: int = 0
    events: Counter[str] = field(default_factory=Counter)
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for run stats."""
        return {"status": self.status, "items": self.items, "events": dict(self.events),
                "detail": self.detail}


def clean(text: str | None) -> str:
    """Whitespace (``&nbsp;`` included) collapsed to one space, stripped."""
    return _SPACES.sub(" ", text or "").strip()


def same_text(a: str | None, b: str | None) -> bool:
    """True when two texts differ only in whitespace, ``&nbsp;``, quote or dash style."""
    def norm(s: str | None) -> str:
        return unicodedata.normalize("NFKC", clean(s)).translate(_QUOTES)

    return norm(a) == norm(b)


def normalize_title(title: str) -> str:
    """A title reduced for keys: normalized, case-folded, punctuation dropped."""
    text = unicodedata.normalize("NFKC", clean(title)).translate(_QUOTES).casefold()
    return clean(re.sub(r"[^\w\s'-]", " ", text))


def canonical(url: str | None) -> str | None:
    """The canonical form of a URL (session and tracking parameters removed), else itself."""
    if not url:
        return None
    try:
        return normalize_url(url)
    except InvalidURL:
        return url


def offering_key(slug: str, record: OfferingData) -> str:
    """The stable key: the canonical URL, else provider + normalized title + start date."""
    key: str | None = None
    if record.url:
        try:
            key = normalize_url(record.url)
        except InvalidURL:
            key = None
    if key is None:
        when = record.start.date().isoformat() if record.start else record.schedule
        key = f"{slug}|{normalize_title(record.title)}|{when}"
    if len(key) > KEY_MAX:
        key = key[: KEY_MAX - 41] + "#" + hashlib.sha1(key.encode()).hexdigest()
    return key


def free_key(key: str, taken: set[str], data: OfferingData) -> str:
    """`key`, or when another offering holds it, the key with the platform id (or a number)."""
    candidate, n = key, 1
    while candidate in taken:
        n += 1
        suffix = f"#{data.platform_id}" if data.platform_id and n == 2 else f"#{n}"
        candidate = key[: KEY_MAX - len(suffix)] + suffix
    return candidate


def platform_id(data: OfferingData) -> str | None:
    """The record's platform id, cut to the column's length."""
    return data.platform_id[:200] if data.platform_id else None
