"""Provider health: events only at the edges of a problem (issue 14 §1), SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import Engine, select

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.health import open_problems
from shelfcheck.catalog.models import Provider, ProviderHealth
from shelfcheck.catalog.offerings import PageFailure
from shelfcheck.catalog.states import HealthState
from tests.catalog.test_offerings import NOW, apply, crawl
from tests.catalog.test_offerings import db as db


def health(engine: Engine, slug: str) -> ProviderHealth:
    with transaction(engine) as session:
        row = session.scalars(select(ProviderHealth).join(Provider)
                              .where(Provider.slug == slug)).one()
        session.expunge(row)
        return row


def kinds(events: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(e.kind for e in events)


def test_a_failing_listing_writes_one_event_then_nothing_until_it_recovers(db: Engine) -> None:
    good = crawl("techsoup")
    failing = replace(good, records=[], failures=[
        PageFailure("https://www.techsoup.org/community/events-webinars", "HTTP 503")])
    assert kinds(apply(db, good, NOW)[1]) == []  # the baseline: no event
    assert health(db, "techsoup").state == HealthState.OK
    day = timedelta(days=1)
    assert kinds(apply(db, failing, NOW + day)[1]) == ["provider_unreachable"]
    for n in range(2, 6):
        outcome, events = apply(db, failing, NOW + n * day)
        assert outcome.status == "unreachable" and events == [], f"night {n}"
    state = health(db, "techsoup")
    assert (state.state, state.since, state.runs) == (HealthState.UNREACHABLE, NOW + day, 5)
    assert "HTTP 503" in (state.detail or "")
    _, events = apply(db, good, NOW + 6 * day)
    assert kinds(events) == ["provider_recovered"]
    assert events[0].old == "unreachable" and "5 crawls" in (events[0].detail or "")
    assert health(db, "techsoup").state == HealthState.OK
    assert apply(db, good, NOW + 7 * day)[1] == []


def test_a_problem_that_changes_kind_is_an_edge(db: Engine) -> None:
    good = crawl("ala-elearning")
    apply(db, good, NOW)
    drifting = crawl("ala-elearning", "B")
    failing = replace(good, records=[], failures=[PageFailure("https://elearning.ala.org/",
                                                              "timeout")])
    assert kinds(apply(db, drifting, NOW + timedelta(days=1))[1]) == ["extractor_drift"]
    assert apply(db, drifting, NOW + timedelta(days=2))[1] == []
    assert kinds(apply(db, failing, NOW + timedelta(days=3))[1]) == ["provider_unreachable"]
    state = health(db, "ala-elearning")
    assert (state.state, state.since, state.runs) == (
        HealthState.UNREACHABLE, NOW + timedelta(days=3), 1)
    assert kinds(apply(db, drifting, NOW + timedelta(days=4))[1]) == ["extractor_drift"]
    with transaction(db) as session:
        assert [(p.slug, h.state) for h, p in open_problems(session)] == [
            ("ala-elearning", HealthState.DRIFT)]


def test_an_incomplete_crawl_neither_persists_nor_ends_a_problem(db: Engine) -> None:
    drifting = crawl("ala-elearning", "B")
    assert kinds(apply(db, drifting, NOW)[1]) == ["extractor_drift"]  # first crawl: a problem
    outcome, events = apply(db, replace(crawl("ala-elearning"), complete=False),
                            NOW + timedelta(days=1))
    assert outcome.status == "incomplete" and events == []
    assert health(db, "ala-elearning").runs == 1
