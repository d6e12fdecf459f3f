"""Link state across runs: the state machine, the outage guard, and applying a run's checks.

A link is in one of the `LinkState`s. A failing verdict (class ``failing`` in
`catalog.verdicts`) turns it ``broken`` only after `confirm_after` consecutive failing checks;
an unverifiable one (``blocked``, ``rate_limited``) makes it ``unverifiable`` and never counts
as a failure. Each change of state writes
one change event; a state that does not change writes none.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, selectinload

from shelfcheck.catalog.events import record_event
from shelfcheck.catalog.models import CrawlRun, Link, LinkCheck, Resource
from shelfcheck.catalog.states import LinkState, ResourceState
from shelfcheck.catalog.verdicts import FAILING, NETWORK_FAILURES, UNVERIFIABLE, WORKING

# Plain strings: click.Choice would show an enum's member names.
STATES = tuple(state.value for state in LinkState)


@dataclass(frozen=True)
class LinkStatus:
    """The state fields of one link."""

    state: str = LinkState.UNKNOWN
    state_since: datetime | None = None
    consecutive_failures: int = 0
    first_failed_at: datetime | None = None
    last_ok_at: datetime | None = None
    redirect_target: str | None = None


@dataclass(frozen=True)
class Check:
    """What one check found."""

    verdict: str
    http_status: int | None = None
    final_url: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Transition:
    """The new status of a link and the event kind its change writes (None: no event)."""

    status: LinkStatus
    event: str | None = None


def transition(old: LinkStatus, check: Check, now: datetime, confirm_after: int) -> Transition:
    """Apply one check to a link's status."""
    verdict = check.verdict
    if verdict in WORKING:
        redirected = verdict == "redirected"
        new_state = LinkState.REDIRECTED if redirected else LinkState.OK
        target = check.final_url if redirected else None
        status = replace(old, state=new_state, consecutive_failures=0, first_failed_at=None,
                         last_ok_at=now, redirect_target=target)
        event: str | None = None
        if redirected and (old.state != LinkState.REDIRECTED or old.redirect_target != target):
            event = "link_redirected"
        elif not redirected and old.state in (LinkState.BROKEN, LinkState.UNVERIFIABLE):
            event = "link_recovered"
        return Transition(_since(status, old, now), event)
    if verdict in UNVERIFIABLE:
        status = replace(old, state=LinkState.UNVERIFIABLE)
        event = "link_unverifiable" if old.state != LinkState.UNVERIFIABLE else None
        return Transition(_since(status, old, now), event)
    if verdict in FAILING:
        failures = old.consecutive_failures + 1
        status = replace(old, consecutive_failures=failures,
                         first_failed_at=old.first_failed_at or now)
        if failures >= confirm_after:
            status = replace(status, state=LinkState.BROKEN)
        broke = status.state == LinkState.BROKEN and old.state != LinkState.BROKEN
        event = "link_broken" if broke else None
        return Transition(_since(status, old, now), event)
    raise ValueError(f"unknown verdict {verdict!r}")


def _since(status: LinkStatus, old: LinkStatus, now: datetime) -> LinkStatus:
    if status.state != old.state:
        return replace(status, state_since=now)
    return status


# --- the outage guard ------------------------------------------------------------------------


@dataclass(frozen=True)
class OutageAssessment:
    """Whether a run looks like a local network failure, and why."""

    inconclusive: bool
    hosts: int
    failing_hosts: int
    reason: str = ""


def assess_outage(
    session: Session, run_id: int, threshold: float, *, canary_failure: str | None = None
) -> OutageAssessment:
    """Judge a run: inconclusive when `threshold` of its hosts fail with DNS/connection errors
    on every check, or when the canary URL failed."""
    per_host = session.execute(
        select(
            Link.host,
            func.count(LinkCheck.id),
            func.sum(LinkCheck.verdict.in_(sorted(NETWORK_FAILURES)).cast(_int_type())),
        )
        .join(Link, Link.id == LinkCheck.link_id)
        .where(LinkCheck.run_id == run_id, Link.host != "")
        .group_by(Link.host)
    ).all()
    hosts = len(per_host)
    failing = sum(1 for _host, total, bad in per_host if total and (bad or 0) >= total)
    if canary_failure:
        return OutageAssessment(True, hosts, failing, f"the canary URL failed: {canary_failure}")
    from shelfcheck.text import plural

    if hosts and failing / hosts >= threshold:
        return OutageAssessment(
            True, hosts, failing,
            f"{failing} of {plural(hosts, 'host')} failed with DNS or connection errors "
            f"(threshold {threshold:.0%}); this looks like a local network failure",
        )
    return OutageAssessment(False, hosts, failing)


def _int_type() -> Any:
    from sqlalchemy import Integer

    return Integer()


# --- applying a run --------------------------------------------------------------------------


def _check_batches(session: Session, run_id: int, batch: int) -> Iterator[list[Any]]:
    last = 0
    while True:
        rows = session.connection().execute(
            select(
                LinkCheck.id, LinkCheck.link_id, LinkCheck.verdict, LinkCheck.http_status,
                LinkCheck.final_url, LinkCheck.detail, LinkCheck.checked_at,
                Link.state, Link.state_since, Link.consecutive_failures,
                Link.first_failed_at, Link.last_ok_at, Link.redirect_target,
            )
            .join(Link, Link.id == LinkCheck.link_id)
            .where(LinkCheck.run_id == run_id, LinkCheck.id > last)
            .order_by(LinkCheck.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        yield list(rows)


def apply_run(
    session: Session, run_id: int, confirm_after: int, *, batch: int = 1000
) -> dict[str, int]:
    """Move each checked link's state by this run's check; write one event per transition.

    Streams the run's checks in batches, all in the caller's transaction: the caller commits
    the moved states together with the run's outcome, so a run killed before its end has moved
    nothing. Returns counts of events by kind.
    """
    events: dict[str, int] = {}
    run = session.get_one(CrawlRun, run_id)
    for rows in _check_batches(session, run_id, batch):
        updates: list[dict[str, Any]] = []
        pending: list[tuple[int, str, Check]] = []
        for row in rows:
            (_cid, link_id, verdict, http_status, final_url, detail, checked_at,
             state, state_since, failures, first_failed, last_ok, target) = row
            old = LinkStatus(state, state_since, failures or 0, first_failed, last_ok, target)
            check = Check(verdict, http_status, final_url, detail)
            result = transition(old, check, checked_at, confirm_after)
            new = result.status
            updates.append({
                "b_id": link_id, "b_state": new.state, "b_since": new.state_since,
                "b_failures": new.consecutive_failures, "b_first": new.first_failed_at,
                "b_last_ok": new.last_ok_at, "b_target": new.redirect_target,
                "b_verdict": verdict, "b_status": http_status, "b_detail": detail,
                "b_checked": checked_at,
            })
            if result.event:
                pending.append((link_id, result.event, check))
        session.connection().execute(
            update(Link.__table__)  # type: ignore[arg-type]
            .where(Link.__table__.c.id == bindparam("b_id"))
            .values(
                state=bindparam("b_state"), state_since=bindparam("b_since"),
                consecutive_failures=bindparam("b_failures"),
                first_failed_at=bindparam("b_first"), last_ok_at=bindparam("b_last_ok"),
                redirect_target=bindparam("b_target"), last_verdict=bindparam("b_verdict"),
                last_http_status=bindparam("b_status"), last_detail=bindparam("b_detail"),
                last_checked_at=bindparam("b_checked"),
            ),
            updates,
        )
        # One query for the batch's links, and the batch's events flushed together at its end
        # (autoflush would write each event alone before the next event's queries).
        ids = [link_id for link_id, _k, _c in pending]
        links = {link.id: link for link in session.scalars(
            select(Link).where(Link.id.in_(ids)))} if pending else {}
        users: dict[int, list[Resource]] = {}
        for resource in session.scalars(select(Resource).options(selectinload(Resource.section))
                                        .where(Resource.link_id.in_(ids))) if pending else ():
            users.setdefault(resource.link_id or 0, []).append(resource)
        with session.no_autoflush:
            for link_id, kind, check in pending:
                link = links[link_id]
                events[kind] = events.get(kind, 0) + 1
                record_event(session, kind, run=run, link=link,
                             resources=users.get(link_id, []),
                             **_event_fields(kind, link, users.get(link_id, []), check))
        if pending:
            session.flush()
            session.expunge_all()
            run = session.get_one(CrawlRun, run_id)
    return events


def _event_fields(kind: str, link: Link, resources: list[Resource],
                  check: Check) -> dict[str, Any]:
    provider_ids = {r.provider_id for r in resources if r.state == ResourceState.ACTIVE}
    fields: dict[str, Any] = {
        "verdict": check.verdict, "http_status": check.http_status, "detail": check.detail,
        "provider_id": provider_ids.pop() if len(provider_ids) == 1 else None,
    }
    if kind == "link_redirected":
        fields.update(old=link.url, new=check.final_url)
    return fields
