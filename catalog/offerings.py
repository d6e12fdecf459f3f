"""Change detection of provider listings: compare a crawl with the catalog, write events.

An offering's identity (`catalog.identity`): the platform's own id, else a stable key (its
canonical URL, normalized by `catalog.urlnorm`, so session and tracking parameters, query order and
fragments do not matter; or else the provider, the normalized title and the start date), else the
old URL's redirect to the new one, else a similar title with the same start and fees. An edit of
the URL or title is one `offering_updated`, never removed plus added.

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
- A status ("full", "waitlist", ...) change is `offering_updated`; an offering marked cancelled
  is `offering_removed` with detail "cancelled", even while it is still listed.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shelfcheck.catalog.events import record_event
from shelfcheck.catalog.health import RECOVERED_EVENT, observe
from shelfcheck.catalog.identity import match_records, tier_key, unique_platform_ids
from shelfcheck.catalog.listing import (
    KEY_MAX,
    FeeData,
    OfferingData,
    PageFailure,
    ProviderCrawl,
    ProviderOutcome,
    canonical,
    clean,
    free_key,
    normalize_title,
    offering_key,
    platform_id,
    same_text,
)
from shelfcheck.catalog.models import CrawlRun, FeeTier, Offering, Provider
from shelfcheck.catalog.states import HealthState, OfferingState, OfferingStatus

__all__ = [
    "KEY_MAX", "FeeData", "OfferingData", "PageFailure", "ProviderCrawl", "ProviderOutcome",
    "apply_provider_crawl", "clean", "normalize_title", "offering_key", "same_text",
]

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
                            lssc_approved=data.lssc, platform_id=platform_id(data),
                            status=data.status)
        self._fill(offering, data, keep_when=False)
        self._set_fees(offering, data)
        if _ended(offering.end_at, offering.start_at, self.now):
            offering.state = OfferingState.ENDED
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
        offering.url = canonical(data.url)
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
        current = {tier_key(t.tier): t for t in offering.fees}
        wanted = {tier_key(fee.tier[:200]): fee for fee in data.fees}
        for label, gone in list(current.items()):
            if label not in wanted:
                offering.fees.remove(gone)
        for position, (label, fee) in enumerate(wanted.items()):
            tier = current.get(label)
            if tier is None:
                offering.fees.append(FeeTier(tier=fee.tier[:200], amount=fee.amount,
                                             currency=fee.currency[:3], raw=fee.raw,
                                             position=position, regular_amount=fee.regular))
            else:
                tier.amount, tier.currency = fee.amount, fee.currency[:3]
                tier.raw, tier.position = fee.raw, position
                tier.regular_amount, tier.tier = fee.regular, fee.tier[:200]

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

    def _identity(self, offering: Offering, data: OfferingData, old_url: str | None, *,
                  quiet: bool) -> None:
        """A new title and/or URL: one `offering_updated` naming both edits."""
        new_url = canonical(data.url)
        edits = []
        if "title" not in data.missing and data.title and not same_text(offering.title,
                                                                         data.title):
            edits.append(("title", offering.title, data.title))
            offering.title = data.title
        if new_url and old_url and new_url != old_url:
            edits.append(("url", old_url, new_url))
        if edits and not quiet:
            self.event("offering_updated", offering,
                       old=" | ".join(str(old) for _n, old, _new in edits),
                       new=" | ".join(str(new) for _n, _old, new in edits),
                       detail=" and ".join(name for name, _o, _n in edits))

    def _status(self, offering: Offering, data: OfferingData, *, quiet: bool) -> None:
        if "status" in data.missing or data.status == offering.status:
            return
        old = offering.status or OfferingStatus.OPEN.value
        offering.status = OfferingStatus(data.status) if data.status else None
        new = data.status or OfferingStatus.OPEN.value
        if not quiet and old != new:
            self.event("offering_updated", offering, old=old, new=new, detail="status")

    def _attributes(self, offering: Offering, data: OfferingData, *, quiet: bool) -> None:
        """Format and LSSC flag: `offering_updated` per real change."""
        for name, old, new in (("format", offering.format, data.format),
                               ("lssc", offering.lssc_approved, data.lssc)):
            if name in data.missing or new is None:
                continue
            if old == new:
                continue
            if name == "format":
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
        old_url = offering.url
        offering.platform_id = platform_id(data) or offering.platform_id
        bump = False
        if "when" in data.missing:
            self._fill(offering, data, keep_when=True)
        else:
            bump |= self._reschedule(offering, data, quiet=returning)
        self._identity(offering, data, old_url, quiet=returning)
        self._attributes(offering, data, quiet=returning)
        self._status(offering, data, quiet=returning)
        if data.fee_known and "fee" not in data.missing:
            if not returning:
                bump |= self._fee_events(offering, data)
            self._set_fees(offering, data)
        if bump:
            offering.sequence = (offering.sequence or 0) + 1
        if returning:
            if _ended(offering.end_at, offering.start_at, self.now):
                offering.state = OfferingState.ENDED
            else:
                offering.state = OfferingState.ACTIVE
                self.event("offering_added", offering,
                           new=_iso(offering.start_at, offering.timezone),
                           detail=f"listed again; {self._when_text(offering)}")
        elif offering.schedule == "scheduled" and _ended(offering.end_at, offering.start_at,
                                                         self.now):
            offering.state = OfferingState.ENDED
            self.event("offering_ended", offering, old=_iso(offering.end_at, offering.timezone),
                       detail="its end date passed")

    def _fee_events(self, offering: Offering, data: OfferingData) -> bool:
        old = {tier_key(t.tier): t for t in offering.fees} if offering.fee_known else {}
        new = {tier_key(f.tier[:200]): f for f in data.fees}
        changed = False
        for label in list(old) + [k for k in new if k not in old]:
            before, after = old.get(label), new.get(label)
            if before is not None and after is not None and before.amount == after.amount and (
                    before.currency == after.currency):
                continue
            tier = (after.tier if after is not None else before.tier if before else "")[:200]
            currency = after.currency if after is not None else (
                before.currency if before is not None else "USD")
            sale = (f"; on sale, regular {_amount(after.regular)}"
                    if after is not None and after.regular is not None else "")
            self.event(
                "fee_changed", offering, tier=tier,
                old=_amount(before.amount) if before is not None else None,
                new=_amount(after.amount) if after is not None else None,
                detail=f"{currency}{sale}: {data.fee_raw or ''}".strip()[:500],
            )
            changed = True
        return changed

    def disappear(self, offering: Offering, *, cancelled: bool = False) -> None:
        if cancelled:
            offering.status = OfferingStatus.CANCELLED
        if _ended(offering.end_at, offering.start_at, self.now):
            offering.state = OfferingState.ENDED
            self.event("offering_ended", offering, old=_iso(offering.end_at, offering.timezone),
                       detail="no longer listed after its end date")
        else:
            offering.state = OfferingState.REMOVED
            self.event("offering_removed", offering,
                       old=_iso(offering.start_at, offering.timezone),
                       detail="cancelled" if cancelled
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
        from shelfcheck.text import plural

        hints = "; ".join(crawl.warnings[:3])
        outcome.detail = (
            f"{plural(count, 'offering')} found, the last good crawl had "
            f"{last if last else 'none'}: "
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
    records: list[tuple[str, OfferingData]] = []
    seen: set[str] = set()
    for data in crawl.records:
        key = offering_key(provider.slug, data)
        if key not in seen:
            seen.add(key)
            records.append((key, data))
    unique = unique_platform_ids(records)
    for _key, data in records:
        if data.platform_id and data.platform_id not in unique:
            data.warnings.append(f"platform id {data.platform_id!r} is not unique: not used")
            data.platform_id = None
    matches = match_records(records, existing, crawl.redirects)
    keys = set(existing)
    listed: set[int] = set()
    cancelled: set[int] = set()
    for i, (key, data) in enumerate(records):
        match = matches.get(i)
        offering = match.offering if match is not None else None
        if offering is not None and offering.key != key and key not in keys:
            keys.add(key)
            offering.key = key  # the next crawl finds it by its new key
        if data.cancelled or data.status == OfferingStatus.CANCELLED:
            if offering is not None:
                cancelled.add(id(offering))
            continue
        if offering is None:
            key = free_key(key, keys, data)  # its URL may still key another offering
            keys.add(key)
            applier.create(key, data, announce=not baseline)
        else:
            listed.add(id(offering))
            applier.update(offering, data)
    for offering in existing.values():
        if offering.state == "active" and id(offering) not in listed:
            applier.disappear(offering, cancelled=id(offering) in cancelled)
    provider.last_good_crawl_at = now
    provider.last_good_count = len(crawl.records)
    _problem(applier, HealthState.OK, url=crawl.listing_url, detail=None)
    outcome.status = "baseline" if baseline else "ok"
    outcome.events = applier.events
    session.flush()
    return outcome
