"""Change detection against the catalog database (SQLite and PostgreSQL), in-process.

Crawls come from the fixture pages through the shipped recipes (`walk_offline`), or are edited
copies of them; `now` is passed explicitly so end dates can pass.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from shelfcheck.catalog.catalogfile import load_catalog
from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.models import ChangeEvent, Offering, Provider
from shelfcheck.catalog.offerings import (
    FeeData,
    OfferingData,
    PageFailure,
    ProviderCrawl,
    ProviderOutcome,
    apply_provider_crawl,
    offering_key,
)
from shelfcheck.catalog.runs import start_run
from shelfcheck.catalog.sync import sync_catalog
from shelfcheck.crawler.recipe import validate_recipe
from tests.crawler.test_extract_sites import crawl as crawl_pages

NOW = datetime(2026, 11, 26, tzinfo=UTC)
FIXTURES = (Path(__file__).parents[1] / "fixtures")


@functools.cache
def _crawl(slug: str, state: str) -> ProviderCrawl:
    return crawl_pages(slug, state)


def crawl(slug: str, state: str = "A") -> ProviderCrawl:
    """The crawl of a provider's fixture pages (a fresh copy)."""
    return copy.deepcopy(_crawl(slug, state))


@pytest.fixture
def db(engine: Engine) -> Engine:
    """A catalog database holding the packaged guide's providers."""
    with transaction(engine) as session:
        sync_catalog(session, load_catalog(None, recipe_validator=validate_recipe))
    return engine


def apply(engine: Engine, result: ProviderCrawl, now: datetime = NOW,
          drift_ratio: float = 0.5) -> tuple[ProviderOutcome, list[ChangeEvent]]:
    run_id = start_run(engine, "listings")
    with transaction(engine) as session:
        provider = session.scalars(select(Provider).where(Provider.slug == result.slug)).one()
        from shelfcheck.catalog.models import CrawlRun

        run = session.get_one(CrawlRun, run_id)
        outcome = apply_provider_crawl(session, provider, copy.deepcopy(result), run=run,
                                       now=now, drift_ratio=drift_ratio)
    with transaction(engine) as session:
        events = list(session.scalars(select(ChangeEvent).where(ChangeEvent.run_id == run_id)
                                      .order_by(ChangeEvent.id)))
        session.expunge_all()
    return outcome, events


def offerings(engine: Engine, slug: str) -> dict[str, Offering]:
    with transaction(engine) as session:
        rows = session.scalars(select(Offering).join(Offering.provider)
                               .where(Provider.slug == slug))
        out = {o.title: o for o in rows}
        for offering in out.values():
            _ = offering.fees
        session.expunge_all()
    return out


def kinds(events: list[ChangeEvent]) -> list[str]:
    return sorted(e.kind for e in events)


def a_then_b(engine: Engine, slug: str) -> list[ChangeEvent]:
    outcome, events = apply(engine, crawl(slug, "A"))
    assert outcome.status == "baseline" and events == []
    return apply(engine, crawl(slug, "B"))[1]


# --- one test per change kind ------------------------------------------------------------------


def test_the_first_crawl_is_a_quiet_baseline(db: Engine) -> None:
    outcome, events = apply(db, crawl("infopeople"))
    assert outcome.status == "baseline" and outcome.items == 6
    assert events == []
    stored = offerings(db, "infopeople")
    assert len(stored) == 6 and all(o.state == "active" for o in stored.values())
    with transaction(db) as session:
        provider = session.scalars(select(Provider).where(Provider.slug == "infopeople")).one()
        assert provider.last_good_count == 6 and provider.last_good_crawl_at is not None


def test_offering_added(db: Engine) -> None:
    events = [e for e in a_then_b(db, "infopeople") if e.kind == "offering_added"]
    assert [(e.title, e.url) for e in events] == [
        ("Teen Services on a Shoestring",
         "https://infopeople.org/civicrm/event/info?id=1110&reset=1")]
    assert events[0].new == "2027-03-24T12:00:00-07:00"
    assert events[0].offering_id is not None and events[0].provider_id is not None


def test_offering_removed_before_its_end(db: Engine) -> None:
    events = [e for e in a_then_b(db, "infopeople") if e.kind == "offering_removed"]
    assert [e.title for e in events] == ["Serving Patrons Experiencing Homelessness"]
    assert offerings(db, "infopeople")["Serving Patrons Experiencing Homelessness"].state == (
        "removed")


def test_offering_rescheduled(db: Engine) -> None:
    events = [e for e in a_then_b(db, "infopeople") if e.kind == "offering_rescheduled"]
    assert [(e.title, e.old, e.new) for e in events] == [
        ("Managing Library Volunteers", "2027-09-14T12:00:00-07:00",
         "2027-09-21T12:00:00-07:00")]
    assert "2027-10-18T16:30:00-07:00" in (events[0].detail or "")
    assert offerings(db, "infopeople")["Managing Library Volunteers"].sequence == 1


def test_fee_changed_one_event_per_tier(db: Engine) -> None:
    events = [e for e in a_then_b(db, "infopeople") if e.kind == "fee_changed"]
    assert sorted((e.title, e.tier, e.old, e.new) for e in events) == [
        ("Introduction to Library Budgets", "", "250.00", "275.00"),
        ("Readers’ Advisory for Adults", "California library staff", "100.00", "110.00"),
        ("Readers’ Advisory for Adults", "Library school students", None, "50.00"),
    ]
    stored = offerings(db, "infopeople")
    assert [(f.tier, f.amount) for f in stored["Readers’ Advisory for Adults"].fees] == [
        ("California library staff", Decimal("110.00")),
        ("Library school students", Decimal("50.00")),
        ("Out-of-state library staff", Decimal("175.00"))]
    assert stored["Introduction to Library Budgets"].sequence == 1


def test_offering_updated_lssc(db: Engine) -> None:
    events = [e for e in a_then_b(db, "infopeople") if e.kind == "offering_updated"]
    assert [(e.title, e.detail, e.old, e.new) for e in events] == [
        ("Introduction to Library Budgets", "lssc", "no", "yes")]


def test_state_b_of_infopeople_writes_exactly_these_events(db: Engine) -> None:
    assert kinds(a_then_b(db, "infopeople")) == [
        "fee_changed", "fee_changed", "fee_changed", "offering_added", "offering_removed",
        "offering_rescheduled", "offering_updated"]


def test_offering_ended_when_its_end_passes_or_it_goes_after_its_end(db: Engine) -> None:
    result = crawl("infopeople")
    apply(db, result)
    # still listed after its end (Feb 17, 2027): ended
    _outcome, events = apply(db, result, now=datetime(2027, 2, 18, tzinfo=UTC))
    assert [(e.kind, e.title, e.detail) for e in events] == [
        ("offering_ended", "Storytime Skills for New Staff", "its end date passed")]
    # gone after its end (Mar 10, 2027): ended, not removed
    later = replace(result, records=[r for r in result.records
                                     if r.title != "Serving Patrons Experiencing Homelessness"])
    _outcome, events = apply(db, later, now=datetime(2027, 3, 11, tzinfo=UTC))
    assert [(e.kind, e.title, e.detail) for e in events] == [
        ("offering_ended", "Serving Patrons Experiencing Homelessness",
         "no longer listed after its end date")]
    states = {t: o.state for t, o in offerings(db, "infopeople").items()}
    assert states["Storytime Skills for New Staff"] == "ended"
    assert states["Serving Patrons Experiencing Homelessness"] == "ended"


def test_past_offerings_are_stored_ended_without_events(db: Engine) -> None:
    apply(db, crawl("lja"))
    _outcome, events = apply(db, crawl("lja"))
    assert events == []
    assert offerings(db, "lja")["Instruction for Adult Learners"].state == "ended"


def _edit(result: ProviderCrawl, match: str, **changes: object) -> ProviderCrawl:
    records = [replace(r, **changes) if r.title == match else r for r in result.records]
    return replace(result, records=records)


def test_free_to_paid_is_a_fee_change(db: Engine) -> None:
    result = crawl("infopeople")
    apply(db, result)
    paid = _edit(result, "Storytime Skills for New Staff", fee_known=True,
                 fees=[FeeData("", Decimal("25.00"), "USD", "$25.00")], fee_raw="$25.00")
    _outcome, events = apply(db, paid)
    assert [(e.kind, e.tier, e.old, e.new) for e in events] == [
        ("fee_changed", "", "0.00", "25.00")]


def test_title_and_format_changes_are_updates(db: Engine) -> None:
    result = crawl("techsoup")
    apply(db, result)
    changed = _edit(result, "Choosing a New ILS", title="Choosing a New ILS (2027)",
                    format="workshop")
    _outcome, events = apply(db, changed)
    assert sorted((e.detail, e.old, e.new) for e in events) == [
        ("format", "webinar", "workshop"), ("title", "Choosing a New ILS",
                                           "Choosing a New ILS (2027)")]


def test_a_cancelled_event_is_removed(db: Engine) -> None:
    result = crawl("webjunction")
    apply(db, result)
    _outcome, events = apply(db, _edit(result, "Evaluating Your Programs", cancelled=True))
    assert [(e.kind, e.title, e.detail) for e in events] == [
        ("offering_removed", "Evaluating Your Programs", "cancelled")]


def test_an_offering_listed_again_is_added_again(db: Engine) -> None:
    result = crawl("techsoup")
    apply(db, result)
    apply(db, replace(result, records=result.records[1:]))
    _outcome, events = apply(db, result)
    assert [(e.kind, e.title) for e in events] == [
        ("offering_added", "Password Managers for Small Organizations")]
    assert (events[0].detail or "").startswith("listed again")


# --- noise is not change -----------------------------------------------------------------------


def _differs(rel: str) -> bool:
    return (FIXTURES / "sites" / rel).read_bytes() != (FIXTURES / "sites-b" / rel).read_bytes()


def test_noise_is_not_a_change(db: Engine) -> None:
    """lja in state B: banners, nonces, cart session ids and timestamps differ (and the order,
    which is undone here to isolate the noise)."""
    for rel in ("lja/shop/index.html",
                "lja/shop/course/252-introduction-to-json-for-librarians/index.html"):
        assert _differs(rel)
    a = crawl("lja")
    order = [r.url for r in a.records]
    b = crawl("lja", "B")
    b.records.sort(key=lambda r: order.index(r.url))
    apply(db, a)
    assert apply(db, b)[1] == []


def test_reorder_is_not_a_change(db: Engine) -> None:
    a = crawl("ala-elearning")
    apply(db, a)
    assert apply(db, replace(a, records=a.records[::-1]))[1] == []
    b = crawl("lja", "B")  # reordered within and across the two shop pages
    assert [r.title for r in b.records] != [r.title for r in crawl("lja").records]
    apply(db, crawl("lja"))
    assert apply(db, b)[1] == []


def test_nbsp_and_whitespace_are_not_changes(db: Engine) -> None:
    a = crawl("webjunction")
    apply(db, a)
    noisy = replace(a, records=[
        replace(r, title=f" {r.title.replace(' ', chr(0xA0), 1)}\n  ",
                description=(r.description or "") + "\u00a0") for r in a.records])
    assert apply(db, noisy)[1] == []


def test_session_parameters_are_not_changes(db: Engine) -> None:
    a = crawl("techsoup")
    apply(db, a)
    tracked = replace(a, records=[
        replace(r, url=f"{r.url}?sid=8f3a&utm_source=newsletter&utm_medium=email")
        for r in a.records])
    assert apply(db, tracked)[1] == []
    assert all("sid=" not in (o.url or "") for o in offerings(db, "techsoup").values())


def test_the_able_page_with_nbsp_and_session_parameters_changes_nothing(db: Engine) -> None:
    page = (FIXTURES / "sites-b/able/continuing-education/able/index.html").read_text()
    assert "&nbsp;" in page and "PHPSESSID" in page and "jsessionid" in page
    assert a_then_b(db, "able") == []
    assert sorted(o.url or "" for o in offerings(db, "able").values()) == [
        f"http://www.lili.org/forlibs/ce/able/course{n}/01intro.htm" for n in range(1, 5)]


def test_nbsp_in_a_title_is_not_an_update(db: Engine) -> None:
    result = crawl("infopeople")
    apply(db, result)
    noisy = _edit(result, "Copy Cataloging Fundamentals",
                  title="Copy\u00a0Cataloging   Fundamentals ")
    assert apply(db, noisy)[1] == []


def test_session_parameters_do_not_change_the_key() -> None:
    base = OfferingData(title="X", url="https://ex.org/e?id=3&reset=1")
    for url in ("https://ex.org/e?reset=1&id=3&sid=abc", "https://ex.org/e;jsessionid=9?id=3&"
                "reset=1", "https://ex.org/e?id=3&reset=1&utm_source=mail#top"):
        assert offering_key("ex", replace(base, url=url)) == offering_key("ex", base)
    no_url = OfferingData(title="Copy\u00a0Cataloging  Fundamentals", url=None,
                          start=datetime(2027, 6, 15, 19, tzinfo=UTC))
    assert offering_key("ex", no_url) == offering_key(
        "ex", replace(no_url, title="copy cataloging fundamentals"))
    assert offering_key("ex", no_url) == "ex|copy cataloging fundamentals|2027-06-15"


def test_a_field_that_stopped_matching_keeps_its_value(db: Engine) -> None:
    result = crawl("techsoup")
    apply(db, result)
    blind = _edit(result, "Choosing a New ILS", start=None, end=None, schedule="unscheduled",
                  missing={"when"}, fee_known=False, fees=[])
    assert apply(db, blind)[1] == []
    kept = offerings(db, "techsoup")["Choosing a New ILS"]
    assert kept.start_at is not None and kept.fee_known and kept.fees[0].amount == 0


# --- never report a loss that did not happen ---------------------------------------------------


def test_an_unreachable_provider_keeps_every_offering(db: Engine) -> None:
    apply(db, crawl("techsoup"))
    outcome, events = apply(db, crawl("techsoup", "B"))
    assert outcome.status == "unreachable"
    assert kinds(events) == ["provider_unreachable"]
    assert events[0].url == "https://www.techsoup.org/community/events-webinars?page=1"
    assert "HTTP 500" in (events[0].detail or "")
    assert all(o.state == "active" for o in offerings(db, "techsoup").values())


def test_a_listing_outage_keeps_every_offering(db: Engine) -> None:
    apply(db, crawl("webjunction"))
    outcome, events = apply(db, crawl("webjunction", "B"))
    assert outcome.status == "unreachable" and kinds(events) == ["provider_unreachable"]
    assert len([o for o in offerings(db, "webjunction").values() if o.state == "active"]) == 5


def test_drift_to_a_redesigned_page_removes_nothing(db: Engine) -> None:
    apply(db, crawl("ala-elearning"))
    outcome, events = apply(db, crawl("ala-elearning", "B"))
    assert outcome.status == "drift"
    assert [(e.kind, e.old, e.new) for e in events] == [("extractor_drift", "6", "0")]
    assert "#frontpage-available-course-list .coursebox" in (events[0].detail or "")
    states = sorted(o.state for o in offerings(db, "ala-elearning").values())
    assert states == ["active"] * 5 + ["ended"]


def test_drift_under_the_ratio(db: Engine) -> None:
    result = crawl("ala-elearning")
    apply(db, result)
    two = replace(result, records=result.records[:2])
    outcome, events = apply(db, two, drift_ratio=0.5)
    assert outcome.status == "drift" and [(e.old, e.new) for e in events] == [("6", "2")]
    outcome, events = apply(db, two, drift_ratio=0.3)
    assert outcome.status == "ok"
    # one had ended already; the drift ends with one provider_recovered
    assert sorted(e.kind for e in events) == ["offering_removed"] * 3 + ["provider_recovered"]


def test_zero_items_on_a_first_crawl_is_drift(db: Engine) -> None:
    outcome, events = apply(db, crawl("ala-elearning", "B"))
    assert outcome.status == "drift" and [(e.kind, e.old, e.new) for e in events] == [
        ("extractor_drift", None, "0")]


def test_removal_waits_for_a_complete_healthy_crawl(db: Engine) -> None:
    result = crawl("techsoup")
    apply(db, result)
    partial = replace(result, records=result.records[:3],
                      failures=[PageFailure("https://www.techsoup.org/x", "timeout")])
    assert kinds(apply(db, partial)[1]) == ["provider_unreachable"]
    incomplete = replace(result, records=result.records[:3], complete=False)
    outcome, events = apply(db, incomplete)
    assert outcome.status == "incomplete" and events == []
    healthy = replace(result, records=result.records[:3])
    assert kinds(apply(db, healthy)[1]) == ["offering_removed", "offering_removed",
                                            "provider_recovered"]
