"""Provider health as a state: a problem writes an event when it starts or changes, and
`provider_recovered` when it ends; nothing while it simply persists.

`observe` is called once per complete listing crawl of a provider. It keeps the state, when it
started, how many crawls saw it, and the last URL and detail, and returns the `Edge` to write
an event for (or None).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelfcheck.catalog.models import Provider, ProviderHealth
from shelfcheck.catalog.states import HealthState

PROBLEM_EVENTS: dict[HealthState, str] = {
    HealthState.UNREACHABLE: "provider_unreachable",
    HealthState.DRIFT: "extractor_drift",
}
"""The event that marks the start of each problem state."""

RECOVERED_EVENT = "provider_recovered"


def health_of(session: Session, provider: Provider) -> ProviderHealth | None:
    """The stored health of `provider` (None before its first complete crawl)."""
    if provider.id is None:
        return None
    return session.get(ProviderHealth, provider.id)


@dataclass(frozen=True)
class Edge:
    """A change of a provider's health: the event to write and the state that ended."""

    kind: str
    was: HealthState | None
    was_since: datetime | None
    was_runs: int


def observe(
    session: Session,
    provider: Provider,
    state: HealthState,
    *,
    now: datetime,
    url: str | None = None,
    detail: str | None = None,
) -> Edge | None:
    """Record that a complete crawl found `provider` in `state`; the edge, if this is one."""
    session.flush()
    health = health_of(session, provider)
    if health is None:
        health = ProviderHealth(provider_id=provider.id, state=state, since=now, runs=0)
        session.add(health)
        previous, since, runs = None, None, 0
    else:
        previous, since, runs = health.state, health.since, health.runs
        if previous != state:
            health.state, health.since, health.runs = state, now, 0
    health.runs += 1
    health.last_seen_at = now
    health.url, health.detail = url, detail
    if previous == state:
        return None
    if state == HealthState.OK:
        if previous is None:
            return None
        return Edge(RECOVERED_EVENT, previous, since, runs)
    return Edge(PROBLEM_EVENTS[state], previous, since, runs)


def open_problems(session: Session) -> list[tuple[ProviderHealth, Provider]]:
    """Every provider that is unreachable or drifting now, in slug order."""
    query = (
        select(ProviderHealth, Provider)
        .join(Provider, Provider.id == ProviderHealth.provider_id)
        .where(ProviderHealth.state != HealthState.OK, Provider.active.is_(True))
        .order_by(Provider.slug)
    )
    return [(health, provider) for health, provider in session.execute(query).all()]
