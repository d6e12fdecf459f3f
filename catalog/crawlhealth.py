"""Whether a provider crawl can be trusted: failed pages make it unreachable, too few items
drift; the provider's health is noted, with an event only when a problem starts, changes or
ends (`catalog.health`)."""

from __future__ import annotations

from typing import Any

from shelfcheck.catalog.health import RECOVERED_EVENT, observe
from shelfcheck.catalog.listing import ProviderCrawl, ProviderOutcome
from shelfcheck.catalog.offeringevents import OfferingApplier
from shelfcheck.catalog.states import HealthState
from shelfcheck.text import plural


def crawl_unhealthy(applier: OfferingApplier, crawl: ProviderCrawl, drift_ratio: float,
                    outcome: ProviderOutcome) -> bool:
    """Whether the crawl had failed pages or drifted; if so, note it in `outcome` and health."""
    provider = applier.provider
    if crawl.failures:
        first = crawl.failures[0]
        listed = "; ".join(f"{f.url}: {f.reason}" for f in crawl.failures[:5])
        more = f" (and {len(crawl.failures) - 5} more)" if len(crawl.failures) > 5 else ""
        outcome.status = "unreachable"
        outcome.detail = (f"{len(crawl.failures)} of {crawl.pages + len(crawl.failures)} pages "
                          f"failed: {listed}{more}; its offerings were kept as they were")
        note_health(applier, HealthState.UNREACHABLE, url=first.url, detail=outcome.detail)
        return True
    count = len(crawl.records)
    last = provider.last_good_count
    if count == 0 or (last and count < drift_ratio * last):
        outcome.status = "drift"
        where = f"item '{crawl.item_selector}'" if crawl.item_selector else "the recipe"
        hints = "; ".join(crawl.warnings[:3])
        outcome.detail = (
            f"{plural(count, 'offering')} found, the last good crawl had "
            f"{last if last else 'none'}: "
            f"check the recipe of '{provider.slug}' ({where})" + (f"; {hints}" if hints else "")
            + "; nothing was removed")
        note_health(applier, HealthState.DRIFT, url=crawl.listing_url, detail=outcome.detail,
                 old=str(last) if last is not None else None, new=str(count))
        return True
    return False


def note_health(applier: OfferingApplier, state: HealthState, *, url: str | None,
                detail: str | None, **fields: Any) -> None:
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
