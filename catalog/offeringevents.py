"""One offering's changes from a healthy crawl: create, update or retire it, and the events.

Noise is not change (see `catalog.offerings`): a field whose selector matched nothing keeps its
value, a fee that became unknown keeps the old tiers, and descriptions change silently.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shelfcheck.catalog.events import record_event
from shelfcheck.catalog.identity import tier_key
from shelfcheck.catalog.listing import OfferingData, canonical, platform_id, same_text
from shelfcheck.catalog.models import CrawlRun, FeeTier, Offering, Provider
from shelfcheck.catalog.offeringvalues import amount_text, has_ended, when_text, zoned
from shelfcheck.catalog.states import OfferingState, OfferingStatus


class OfferingApplier:
    """Writes one provider crawl's changes to its offerings, counting the events it records."""

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
                            last_seen_at=self.now, sequence=0, state=OfferingState.ACTIVE, fees=[],
                            title=data.title, format=(data.format or None) and data.format[:40],
                            lssc_approved=data.lssc, platform_id=platform_id(data),
                            status=data.status)
        self._fill(offering, data, keep_when=False)
        self._set_fees(offering, data)
        if has_ended(offering.end_at, offering.start_at, self.now):
            offering.state = OfferingState.ENDED
        self.session.add(offering)
        if announce and offering.state == OfferingState.ACTIVE:
            self.event("offering_added", offering, new=zoned(offering.start_at, offering.timezone),
                       detail=when_text(offering))

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
        old_text = when_text(offering)
        old_start = zoned(offering.start_at, offering.timezone)
        self._fill(offering, data, keep_when=False)
        if not (start_moved or schedule_moved or end_moved) or quiet:
            return False
        self.event("offering_rescheduled", offering, old=old_start,
                   new=zoned(offering.start_at, offering.timezone),
                   detail=f"{old_text} → {when_text(offering)}")
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
        returning = offering.state != OfferingState.ACTIVE
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
            if has_ended(offering.end_at, offering.start_at, self.now):
                offering.state = OfferingState.ENDED
            else:
                offering.state = OfferingState.ACTIVE
                self.event("offering_added", offering,
                           new=zoned(offering.start_at, offering.timezone),
                           detail=f"listed again; {when_text(offering)}")
        elif offering.schedule == "scheduled" and has_ended(offering.end_at, offering.start_at,
                                                         self.now):
            offering.state = OfferingState.ENDED
            self.event("offering_ended", offering, old=zoned(offering.end_at, offering.timezone),
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
            sale = (f"; on sale, regular {amount_text(after.regular)}"
                    if after is not None and after.regular is not None else "")
            self.event(
                "fee_changed", offering, tier=tier,
                old=amount_text(before.amount) if before is not None else None,
                new=amount_text(after.amount) if after is not None else None,
                detail=f"{currency}{sale}: {data.fee_raw or ''}".strip()[:500],
            )
            changed = True
        return changed

    def disappear(self, offering: Offering, *, cancelled: bool = False) -> None:
        if cancelled:
            offering.status = OfferingStatus.CANCELLED
        if has_ended(offering.end_at, offering.start_at, self.now):
            offering.state = OfferingState.ENDED
            self.event("offering_ended", offering, old=zoned(offering.end_at, offering.timezone),
                       detail="no longer listed after its end date")
        else:
            offering.state = OfferingState.REMOVED
            self.event("offering_removed", offering,
                       old=zoned(offering.start_at, offering.timezone),
                       detail="cancelled" if cancelled
                       else f"no longer listed; was {when_text(offering)}")
