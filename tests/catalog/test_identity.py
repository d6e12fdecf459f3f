"""An offering's identity survives edits, on SQLite and PostgreSQL: one test per rung, the
near-misses that must not match, and the change-detection cases of issue 13 (slug change, title
edit, sale on and off, tiers reordered, status change, cancelled while listed, moved to another
listing page)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.identity import distinguished, match_records, title_similarity
from shelfcheck.catalog.models import ChangeEvent, CrawlRun, Offering, Provider
from shelfcheck.catalog.offerings import (
    FeeData,
    OfferingData,
    ProviderCrawl,
    apply_provider_crawl,
)
from shelfcheck.catalog.runs import start_run

NOW = datetime(2026, 11, 26, tzinfo=UTC)
START = datetime(2027, 3, 9, 19, 0, tzinfo=UTC)
SHOP = "https://shop.example.org/product"


@pytest.fixture
def db(engine: Engine) -> Engine:
    with transaction(engine) as session:
        session.add(Provider(slug="shop", name="Example Shop"))
    return engine


def course(title: str, slug: str | None, *, pid: str | None = None, amount: str = "250.00",
           start: datetime | None = START, **changes: object) -> OfferingData:
    fee = [FeeData("", Decimal(amount), "USD", f"${amount}")]
    record = OfferingData(title=title, url=f"{SHOP}/{slug}/" if slug else None,
                          schedule="scheduled" if start else "self-paced", start=start,
                          fee_known=True, fees=fee, fee_raw=f"${amount}", platform_id=pid)
    return replace(record, **changes)


def apply(engine: Engine, *records: OfferingData,
          redirects: dict[str, str] | None = None) -> list[ChangeEvent]:
    run_id = start_run(engine, "listings")
    crawl = ProviderCrawl("shop", records=list(records), redirects=redirects or {})
    with transaction(engine) as session:
        provider = session.scalars(select(Provider).where(Provider.slug == "shop")).one()
        apply_provider_crawl(session, provider, crawl, run=session.get_one(CrawlRun, run_id),
                             now=NOW)
    with transaction(engine) as session:
        events = list(session.scalars(select(ChangeEvent).where(ChangeEvent.run_id == run_id)
                                      .order_by(ChangeEvent.id)))
        session.expunge_all()
    return events


def shown(events: list[ChangeEvent]) -> list[tuple[str, str | None, str | None, str | None]]:
    return [(e.kind, e.detail, e.old, e.new) for e in events]


def stored(engine: Engine) -> list[Offering]:
    with transaction(engine) as session:
        rows = list(session.scalars(select(Offering).order_by(Offering.id)))
        for row in rows:
            _ = row.fees
        session.expunge_all()
    return rows


# --- the rungs ---------------------------------------------------------------------------------


def test_rung_platform_id_a_slug_change_is_one_update(db: Engine) -> None:
    """WooCommerce product 241: the shop edits its slug; the id stays."""
    apply(db, course("Library of Congress Classification", "lcc", pid="wp:241"))
    events = apply(db, course("Library of Congress Classification", "241-lcc-online",
                              pid="wp:241"))
    assert shown(events) == [("offering_updated", "url", f"{SHOP}/lcc/",
                              f"{SHOP}/241-lcc-online/")]
    [offering] = stored(db)
    assert offering.key == f"{SHOP}/241-lcc-online/" and offering.state == "active"
    assert apply(db, course("Library of Congress Classification", "241-lcc-online",
                            pid="wp:241")) == []


def test_rung_platform_id_wins_over_a_reused_url(db: Engine) -> None:
    """A URL that now shows another product (another id) is not the old offering."""
    apply(db, course("Metadata Basics", "metadata", pid="wp:10"))
    events = apply(db, course("Linked Data Basics", "metadata", pid="wp:11"))
    assert sorted(e.kind for e in events) == ["offering_added", "offering_removed"]


def test_a_platform_id_two_records_claim_is_not_an_identity(db: Engine) -> None:
    apply(db, course("Course A", "a", pid="wp:1"), course("Course B", "b", pid="wp:2"))
    events = apply(db, course("Course A", "a2", pid="wp:7"), course("Course B", "b2",
                                                                     pid="wp:7"))
    assert sorted(e.kind for e in events) == ["offering_added"] * 2 + ["offering_removed"] * 2


def test_rung_key_matches_when_neither_side_has_an_id(db: Engine) -> None:
    apply(db, course("Metadata Basics", "metadata"))
    assert apply(db, course("Metadata Basics", "metadata")) == []


def test_rung_redirect_the_old_url_redirects_to_the_new(db: Engine) -> None:
    apply(db, course("Metadata Basics", "metadata"))
    events = apply(db, course("Metadata Basics", "metadata-basics"),
                   redirects={f"{SHOP}/metadata/": f"{SHOP}/metadata-basics/"})
    assert shown(events) == [("offering_updated", "url", f"{SHOP}/metadata/",
                              f"{SHOP}/metadata-basics/")]


def test_rung_similar_title_same_start_same_fees(db: Engine) -> None:
    """No id, no redirect: a slug and title edit of the same course on the same day."""
    apply(db, course("Intro to Library Budgets", "intro-budgets"))
    events = apply(db, course("Introduction to Library Budgets", "introduction-budgets"))
    assert shown(events) == [(
        "offering_updated", "title and url",
        f"Intro to Library Budgets | {SHOP}/intro-budgets/",
        f"Introduction to Library Budgets | {SHOP}/introduction-budgets/")]


def test_rung_similar_title_for_self_paced_offerings_without_urls(db: Engine) -> None:
    apply(db, course("ABLE Course 2: Cataloging Basics", None, start=None))
    events = apply(db, course("ABLE Course 2: Cataloguing Basics", None, start=None))
    assert shown(events) == [("offering_updated", "title", "ABLE Course 2: Cataloging Basics",
                              "ABLE Course 2: Cataloguing Basics")]
    assert len(stored(db)) == 1


@pytest.mark.parametrize(("old", "new"), [
    ("Readers' Advisory for Adults", "Readers' Advisory for Teens"),
    ("Cataloging with RDA, Part 1", "Cataloging with RDA, Part 2"),
    ("Excel for Librarians: Basic", "Excel for Librarians: Advanced"),
])
def test_near_miss_two_courses_with_similar_titles_on_the_same_day(db: Engine, old: str,
                                                                   new: str) -> None:
    assert title_similarity(old, new) >= 0.8 and distinguished(old, new)
    apply(db, course(old, "old-course"))
    events = apply(db, course(new, "new-course"))
    assert sorted((e.kind, e.title) for e in events) == [("offering_added", new),
                                                         ("offering_removed", old)]


def test_similar_titles_need_the_same_start_and_fees(db: Engine) -> None:
    apply(db, course("Intro to Library Budgets", "a"))
    other_day = apply(db, course("Introduction to Library Budgets", "b",
                                 start=datetime(2027, 3, 16, 19, 0, tzinfo=UTC)))
    assert sorted(e.kind for e in other_day) == ["offering_added", "offering_removed"]


def test_an_ambiguous_similar_title_matches_nothing() -> None:
    existing = {"k": Offering(key="k", title="Intro to Library Budgets", url=None,
                              schedule="scheduled", start_at=START, fee_known=False, fees=[],
                              state="active")}
    records = [(f"r{i}", OfferingData(title=t, url=None, schedule="scheduled", start=START))
               for i, t in enumerate(["Introduction to Library Budgets",
                                      "Intro to Library Budget"])]
    assert match_records(records, existing, {}) == {}


# --- change detection --------------------------------------------------------------------------


def test_title_edit_under_the_same_url(db: Engine) -> None:
    apply(db, course("Managing Library Volunteers", "volunteers", pid="wp:5"))
    events = apply(db, course("Managing Library Volunteers Well", "volunteers", pid="wp:5"))
    assert shown(events) == [("offering_updated", "title", "Managing Library Volunteers",
                              "Managing Library Volunteers Well")]


def test_sale_on_and_off(db: Engine) -> None:
    apply(db, course("Metadata Basics", "metadata", pid="wp:9"))
    on_sale = course("Metadata Basics", "metadata", pid="wp:9", amount="199.00")
    on_sale.fees = [replace(on_sale.fees[0], regular=Decimal("250.00"))]
    events = apply(db, on_sale)
    assert [(e.kind, e.old, e.new) for e in events] == [("fee_changed", "250.00", "199.00")]
    assert "on sale, regular 250.00" in (events[0].detail or "")
    [offering] = stored(db)
    assert offering.fees[0].regular_amount == Decimal("250.00")
    events = apply(db, course("Metadata Basics", "metadata", pid="wp:9"))
    assert [(e.kind, e.old, e.new) for e in events] == [("fee_changed", "199.00", "250.00")]
    assert stored(db)[0].fees[0].regular_amount is None


def test_tiers_reordered_and_relabelled_in_case_are_the_same_tiers(db: Engine) -> None:
    tiers = [FeeData("ALA members", Decimal("155.00")), FeeData("non-members", Decimal("190"))]
    apply(db, course("RDA Essentials", "rda", fees=tiers))
    again = [FeeData("Nonmembers", Decimal("190.00")), FeeData("ALA Members", Decimal("155"))]
    assert apply(db, course("RDA Essentials", "rda", fees=again)) == []
    assert sorted(t.tier for t in stored(db)[0].fees) == ["ALA Members", "Nonmembers"]


def test_a_status_change_is_an_update(db: Engine) -> None:
    apply(db, course("RDA Essentials", "rda"))
    events = apply(db, course("RDA Essentials", "rda", status="full"))
    assert shown(events) == [("offering_updated", "status", "open", "full")]
    events = apply(db, course("RDA Essentials", "rda", status="waitlist"))
    assert shown(events) == [("offering_updated", "status", "full", "waitlist")]
    assert stored(db)[0].status == "waitlist"


def test_cancelled_while_listed_is_removed_with_detail_cancelled(db: Engine) -> None:
    apply(db, course("RDA Essentials", "rda", pid="wp:3"))
    events = apply(db, course("CANCELLED: RDA Essentials", "rda-cancelled", pid="wp:3",
                              status="cancelled", cancelled=True))
    assert [(e.kind, e.detail, e.title) for e in events] == [
        ("offering_removed", "cancelled", "RDA Essentials")]
    [offering] = stored(db)
    assert offering.state == "removed" and offering.status == "cancelled"


def test_an_offering_moved_to_another_listing_page(db: Engine) -> None:
    """WooCommerce puts the category in the product URL: moved from webinars to courses."""
    apply(db, course("Metadata Basics", "webinars/metadata", pid="wp:9"),
          course("RDA Essentials", "webinars/rda", pid="wp:4"))
    events = apply(db, course("RDA Essentials", "webinars/rda", pid="wp:4"),
                   course("Metadata Basics", "courses/metadata", pid="wp:9"))
    assert shown(events) == [("offering_updated", "url", f"{SHOP}/webinars/metadata/",
                              f"{SHOP}/courses/metadata/")]


def test_a_cancelled_offering_still_listed_is_reported_once(db: Engine) -> None:
    apply(db, course("RDA Essentials", "rda"))
    cancelled = course("RDA Essentials", "rda", status="cancelled", cancelled=True)
    assert [e.kind for e in apply(db, cancelled)] == ["offering_removed"]
    assert apply(db, cancelled) == []


def test_an_id_of_another_kind_is_no_conflict(db: Engine) -> None:
    """The detail page failed: the id comes from the listing markup (wp:) instead of the
    product's JSON-LD (sku:); the URL still holds the offering."""
    apply(db, course("Metadata Basics", "metadata", pid="sku:RLA-9"))
    assert apply(db, course("Metadata Basics", "metadata", pid="wp:9")) == []
