"""Change detection of provider listings: compare a crawl with the catalog, write events.

An offering's identity is a stable key: its canonical URL (normalized by `catalog.urlnorm`, so
session and tracking parameters, query order and fragments do not matter), or else the provider,
the normalized title and the start date.

Rules (see issue 4):
- A provider whose pages did not all load is *unreachable*: its offerings stay exactly as they
  were, and a `provider_unreachable` event is written when the problem starts (catalog.health).
- A crawl that loaded but yielded no items, or fewer than `drift_ratio` of the last good count,
  is *drift*: nothing changes; an `extractor_drift` event when the problem starts. A healthy
  crawl after either writes `provider_recovered`.
- Only a complete, healthy crawl marks offerings removed (before their end) or ended (after it).
- The first healthy crawl of a provider is its baseline: offerings are stored without
  `offering_added` events.
- Noise is not change: titles are compared after collapsing whitespace, ``&nbsp;``, quote and
  dash styles; a field whose selector matched nothing keeps its old value; a fee that became
  unknown keeps the old tiers; descriptions are updated silently.
- A reschedule or a fee change bumps the offering's iCalendar SEQUENCE.
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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shelfcheck.catalog.events import record_event
from shelfcheck.catalog.health import RECOVERED_EVENT, observe
from shelfcheck.catalog.models import CrawlRun, FeeTier, HealthState, Offering, Provider
from shelfcheck.catalog.urlnorm import InvalidURL, normalize_url

KEY_MAX = 700
_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"',
                         "„": '"', "–": "-", "—": "-", "‐": "-", "‑": "-"})


@dataclass(frozen=True)
class FeeData:
    """One extracted fee tier."""

    tier: str
    amount: Decimal
    currency: str = "USD"
    raw: str | None = None


@dataclass
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


def _canonical(url: str | None) -> str | None:
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


def _iso(value: datetime | None, tz: str | None) -> str | None:
    if value is None:
        return None
    try:
        return value.astimezone(ZoneInfo(tz) if tz else None).isoformat()
    except (ZoneInfoNotFoundError, ValueError):
        return value.isoformat()


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _ended(end: datetime | None, start: datetime | None, now: datetime) -> bool:
    last = end or start
    return last is not None and last < now


class _Applier:
    def __init__(self, session: Session, provider: Provider, run: CrawlRun | None,
                 now: datetime) -> None:
        self.session, self.provider, self.run, self.now = session, provider, run, now
        self.events: Counter[str] = Counter()

    def event(self, kind: str, offering: Offering | None, **fields: Any) -> None:
        record_event(self.session, kind, run=self.run, provider_id=self.provider.id,
                     offering=offering, detected_at=self.now,
                     url=fields.pop("url", offering.url if offering else None),
                     title=fields.pop("title", offering.title if offering else None), **fields)
        self.events[kind] += 1

    def create(self, key: str, data: OfferingData, *, announce: bool) -> None:
        offering = Offering(provider_id=self.provider.id, key=key, first_seen_at=self.now,
                            last_seen_at=self.now, sequence=0, state="active", fees=[],
                            title=data.title, format=(data.format or None) and data.format[:40],
                            lssc_approved=data.lssc)
        self._fill(offering, data, keep_when=False)
        self._set_fees(offering, data)
        if _ended(offering.end_at, offering.start_at, self.now):
            offering.state = "ended"
        self.session.add(offering)
        if announce and offering.state == "active":
            self.event("offering_added", offering, new=_iso(offering.start_at, offering.timezone),
                       detail=self._when_text(offering))

    @staticmethod
    def _when_text(offering: Offering) -> str:
        if offering.schedule != "scheduled":
            return offering.schedule
        start = _iso(offering.start_at, offering.timezone)
        end = _iso(offering.end_at, offering.timezone)
        return f"{start} – {end}" if end else f"{start}"

    @staticmethod
    def _fill(offering: Offering, data: OfferingData, *, keep_when: bool) -> None:
        """Copy the fields that never make an event; the schedule too unless `keep_when`."""
        offering.url = _canonical(data.url)
        offering.description = data.description
        offering.warnings = data.warnings or None
        if not keep_when:
            offering.schedule = data.schedule
            offering.start_at, offering.end_at = data.start, data.end
            offering.start_raw, offering.end_raw = data.start_raw, data.end_raw
            offering.timezone = (data.timezone or "")[:64] or None

    @staticmethod
    def _set_fees(offering: Offering, data: OfferingData) -> None:
        if not data.fee_known:
            if data.fee_raw and not offering.fee_known:  # text kept, no number guessed
                offering.fee_raw = data.fee_raw
            return
        offering.fee_known, offering.fee_raw = True, data.fee_raw
        current = {t.tier: t for t in offering.fees}
        wanted = {fee.tier[:200]: fee for fee in data.fees}
        for label, gone in list(current.items()):
            if label not in wanted:
                offering.fees.remove(gone)
        for position, (label, fee) in enumerate(wanted.items()):
            tier = current.get(label)
            if tier is None:
                offering.fees.append(FeeTier(tier=label, amount=fee.amount,
                                             currency=fee.currency[:3], raw=fee.raw,
                                             position=position))
            else:
                tier.amount, tier.currency = fee.amount, fee.currency[:3]
                tier.raw, tier.position = fee.raw, position

    def _reschedule(self, offering: Offering, data: OfferingData, *, quiet: bool) -> bool:
        """Take the new schedule; True (and an event unless `quiet`) when the dates moved."""
        start_moved = offering.start_at != data.start
        schedule_moved = offering.schedule != data.schedule
        end_moved = (offering.end_at != data.end and offering.end_at is not None
                     and data.end is not None)
        old_text = self._when_text(offering)
        old_start = _iso(offering.start_at, offering.timezone)
        self._fill(offering, data, keep_when=False)
        if not (start_moved or schedule_moved or end_moved) or quiet:
            return False
        self.event("offering_rescheduled", offering, old=old_start,
                   new=_iso(offering.start_at, offering.timezone),
                   detail=f"{old_text} → {self._when_text(offering)}")
        return True

    def _attributes(self, offering: Offering, data: OfferingData, *, quiet: bool) -> None:
        """Title, format and LSSC flag: `offering_updated` per real change."""
        for name, old, new in (("title", offering.title, data.title),
                               ("format", offering.format, data.format),
                               ("lssc", offering.lssc_approved, data.lssc)):
            if name in data.missing or new is None:
                continue
            unchanged = same_text(str(old), str(new)) if name == "title" else old == new
            if unchanged:
                continue
            if name == "title":
                offering.title = str(new)
            elif name == "format":
                offering.format = str(new)[:40]
            else:
                offering.lssc_approved = bool(new)
            if old is None or quiet:
                continue
            shown_old = ("yes" if old else "no") if name == "lssc" else str(old)
            shown_new = ("yes" if new else "no") if name == "lssc" else str(new)
            self.event("offering_updated", offering, old=shown_old, new=shown_new,
                       detail=name)

    def update(self, offering: Offering, data: OfferingData) -> None:
        returning = offering.state != "active"
        offering.last_seen_at = self.now
        bump = False
        if "when" in data.missing:
            self._fill(offering, data, keep_when=True)
        else:
            bump |= self._reschedule(offering, data, quiet=returning)
        self._attributes(offering, data, quiet=returning)
        if data.fee_known and "fee" not in data.missing:
            if not returning:
                bump |= self._fee_events(offering, data)
            self._set_fees(offering, data)
        if bump:
            offering.sequence = (offering.sequence or 0) + 1
        if returning:
            if _ended(offering.end_at, offering.start_at, self.now):
                offering.state = "ended"
            else:
                offering.state = "active"
                self.event("offering_added", offering,
                           new=_iso(offering.start_at, offering.timezone),
                           detail=f"listed again; {self._when_text(offering)}")
        elif offering.schedule == "scheduled" and _ended(offering.end_at, offering.start_at,
                                                         self.now):
            offering.state = "ended"
            self.event("offering_ended", offering, old=_iso(offering.end_at, offering.timezone),
                       detail="its end date passed")

    def _fee_events(self, offering: Offering, data: OfferingData) -> bool:
        old = {t.tier.casefold(): t for t in offering.fees} if offering.fee_known else {}
        new = {f.tier[:200].casefold(): f for f in data.fees}
        changed = False
        for label in list(old) + [k for k in new if k not in old]:
            before, after = old.get(label), new.get(label)
            if before is not None and after is not None and before.amount == after.amount and (
                    before.currency == after.currency):
                continue
            tier = (after.tier if after is not None else before.tier if before else "")[:200]
            currency = after.currency if after is not None else (
                before.currency if before is not None else "USD")
            self.event(
                "fee_changed", offering, tier=tier,
                old=_amount(before.amount) if before is not None else None,
                new=_amount(after.amount) if after is not None else None,
                detail=f"{currency}: {data.fee_raw or ''}".strip()[:500],
            )
            changed = True
        return changed

    def disappear(self, offering: Offering, *, cancelled: bool = False) -> None:
        if _ended(offering.end_at, offering.start_at, self.now):
            offering.state = "ended"
            self.event("offering_ended", offering, old=_iso(offering.end_at, offering.timezone),
                       detail="no longer listed after its end date")
        else:
            offering.state = "removed"
            self.event("offering_removed", offering,
                       old=_iso(offering.start_at, offering.timezone),
                       detail="marked cancelled" if cancelled
                       else f"no longer listed; was {self._when_text(offering)}")


def _unhealthy(applier: _Applier, crawl: ProviderCrawl, drift_ratio: float,
               outcome: ProviderOutcome) -> bool:
    provider = applier.provider
    if crawl.failures:
        first = crawl.failures[0]
        listed = "; ".join(f"{f.url}: {f.reason}" for f in crawl.failures[:5])
        more = f" (and {len(crawl.failures) - 5} more)" if len(crawl.failures) > 5 else ""
        outcome.status = "unreachable"
        outcome.detail = (f"{len(crawl.failures)} of {crawl.pages + len(crawl.failures)} pages "
                          f"failed: {listed}{more}; its offerings were kept as they were")
        _problem(applier, HealthState.UNREACHABLE, url=first.url, detail=outcome.detail)
        return True
    count = len(crawl.records)
    last = provider.last_good_count
    if count == 0 or (last and count < drift_ratio * last):
        outcome.status = "drift"
        where = f"item '{crawl.item_selector}'" if crawl.item_selector else "the recipe"
        hints = "; ".join(crawl.warnings[:3])
        outcome.detail = (
            f"{count} offerings found, the last good crawl had {last if last else 'none'}: "
            f"check the recipe of '{provider.slug}' ({where})" + (f"; {hints}" if hints else "")
            + "; nothing was removed")
        _problem(applier, HealthState.DRIFT, url=crawl.listing_url, detail=outcome.detail,
                 old=str(last) if last is not None else None, new=str(count))
        return True
    return False


def _problem(applier: _Applier, state: HealthState, *, url: str | None, detail: str | None,
             **fields: Any) -> None:
    """Note the provider's health; an event only when a problem starts, changes or ends."""
    edge = observe(applier.session, applier.provider, state, now=applier.now, url=url,
                   detail=detail)
    if edge is None:
        return
    if edge.kind == RECOVERED_EVENT and edge.was is not None and edge.was_since is not None:
        fields = {"old": edge.was.value, "new": state.value,
                  "detail": f"healthy again; {edge.was.value} since "
                            f"{edge.was_since:%Y-%m-%d %H:%M} UTC ({edge.was_runs} crawls)"}
    else:
        fields["detail"] = detail
    applier.event(edge.kind, None, url=url, title=applier.provider.name, **fields)


def apply_provider_crawl(
    session: Session,
    provider: Provider,
    crawl: ProviderCrawl,
    *,
    run: CrawlRun | None,
    now: datetime,
    drift_ratio: float = 0.5,
) -> ProviderOutcome:
    """Compare a provider's crawl with its offerings and write the change events.

    The caller owns the transaction; see the module docstring for the rules.
    """
    applier = _Applier(session, provider, run, now)
    outcome = ProviderOutcome(crawl.slug, "ok", items=len(crawl.records))
    if not crawl.complete:
        outcome.status, outcome.detail = "incomplete", "the crawl stopped before it finished"
        return outcome
    if _unhealthy(applier, crawl, drift_ratio, outcome):
        outcome.events = applier.events
        return outcome

    baseline = provider.last_good_crawl_at is None
    existing = {
        o.key: o for o in session.scalars(
            select(Offering).where(Offering.provider_id == provider.id)
            .options(selectinload(Offering.fees))
        )
    }
    seen: set[str] = set()
    cancelled: set[str] = set()
    for data in crawl.records:
        key = offering_key(provider.slug, data)
        if key in seen:
            continue
        seen.add(key)
        if data.cancelled:
            cancelled.add(key)
            continue
        offering = existing.get(key)
        if offering is None:
            applier.create(key, data, announce=not baseline)
        else:
            applier.update(offering, data)
    for key, offering in existing.items():
        if offering.state == "active" and (key not in seen or key in cancelled):
            applier.disappear(offering, cancelled=key in cancelled)
    provider.last_good_crawl_at = now
    provider.last_good_count = len(crawl.records)
    _problem(applier, HealthState.OK, url=crawl.listing_url, detail=None)
    outcome.status = "baseline" if baseline else "ok"
    outcome.events = applier.events
    session.flush()
    return outcome
