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

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shelfcheck.catalog.crawlhealth import crawl_unhealthy, note_health
from shelfcheck.catalog.identity import match_records, unique_platform_ids
from shelfcheck.catalog.listing import (
    KEY_MAX,
    FeeData,
    OfferingData,
    PageFailure,
    ProviderCrawl,
    ProviderOutcome,
    clean,
    free_key,
    normalize_title,
    offering_key,
    same_text,
)
from shelfcheck.catalog.models import CrawlRun, Offering, Provider
from shelfcheck.catalog.offeringevents import OfferingApplier
from shelfcheck.catalog.states import HealthState, OfferingState, OfferingStatus

__all__ = [
    "KEY_MAX", "FeeData", "OfferingData", "PageFailure", "ProviderCrawl", "ProviderOutcome",
    "apply_provider_crawl", "clean", "normalize_title", "offering_key", "same_text",
]


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
    applier = OfferingApplier(session, provider, run, now)
    outcome = ProviderOutcome(crawl.slug, "ok", items=len(crawl.records))
    if not crawl.complete:
        outcome.status, outcome.detail = "incomplete", "the crawl stopped before it finished"
        return outcome
    if crawl_unhealthy(applier, crawl, drift_ratio, outcome):
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
        if offering.state == OfferingState.ACTIVE and id(offering) not in listed:
            applier.disappear(offering, cancelled=id(offering) in cancelled)
    provider.last_good_crawl_at = now
    provider.last_good_count = len(crawl.records)
    note_health(applier, HealthState.OK, url=crawl.listing_url, detail=None)
    outcome.status = "baseline" if baseline else "ok"
    outcome.events = applier.events
    session.flush()
    return outcome
