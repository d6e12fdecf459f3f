"""The shipped recipes on the reference pages (in-process, no HTTP), and which source wins.

Structured data vs visible text (the precedence documented in `crawler.extract`):
- dates: structured data (hCalendar, JSON-LD, iCalendar) wins over visible text;
- a single price: a current JSON-LD Offer wins over the visible price block; a stale Offer
  (priceValidUntil passed) or one about another page loses;
- tiers: visible text naming two or more audiences wins over a single-price Offer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from shelfcheck.catalog.catalogfile import load_catalog
from shelfcheck.catalog.offerings import OfferingData, ProviderCrawl
from shelfcheck.crawler.extract.items import extract_draft, finalize
from shelfcheck.crawler.extract.model import Page
from shelfcheck.crawler.extract.registry import ItemContext
from shelfcheck.crawler.recipe import Recipe, parse_recipe, validate_recipe
from shelfcheck.crawler.walk import ProviderWalk
from tests.sites import walk_offline

NOW = datetime(2026, 11, 26, tzinfo=UTC)
SITES = (Path(__file__).parents[1] / "fixtures") / "sites"


def recipes() -> dict[str, Recipe]:
    spec = load_catalog(None, recipe_validator=validate_recipe)
    return {p.slug: parse_recipe(p.slug, p.recipe) for p in spec.providers if p.recipe}


RECIPES = recipes()


def crawl(slug: str, state: str = "A", recipe: Recipe | None = None) -> ProviderCrawl:
    recipe = recipe or RECIPES[slug]
    walk = ProviderWalk(slug, recipe, tz=recipe.timezone or "UTC", now=NOW)
    result = walk_offline(walk, state)
    assert isinstance(result, ProviderCrawl)
    return result


def by_title(result: ProviderCrawl) -> dict[str, OfferingData]:
    return {r.title: r for r in result.records}


def fees(record: OfferingData) -> list[tuple[str, str]]:
    return [(f.tier, f"{f.amount:.2f}") for f in record.fees]


def test_every_provider_with_a_listing_has_a_recipe() -> None:
    assert set(RECIPES) == {"infopeople", "lja", "webjunction", "ala-elearning", "techsoup",
                            "able"}


def test_infopeople_follows_pagination_details_and_feed() -> None:
    result = crawl("infopeople")
    assert result.failures == [] and result.warnings == []
    assert result.listing_pages == 2  # /training and ?page=1, to the end
    records = by_title(result)
    assert len(records) == 6
    course = records["Copy Cataloging Fundamentals"]
    assert course.url == "https://infopeople.org/civicrm/event/info?id=1081&reset=1"
    assert course.format == "course" and course.lssc is True
    assert course.start is not None and course.start.isoformat() == "2027-06-15T12:00:00-07:00"
    assert course.end is not None and course.end.isoformat() == "2027-07-12T16:30:00-07:00"
    assert course.sources["start"].startswith("hcalendar")
    assert fees(course) == [("", "200.00")] and course.fee_known
    webinar = records["Storytime Skills for New Staff"]
    assert webinar.format == "webinar" and webinar.lssc is False
    assert fees(webinar) == [("", "0.00")]  # "A free Infopeople Webinar", no fee block
    tiered = records["Readers’ Advisory for Adults"]
    assert fees(tiered) == [("California library staff", "100.00"),
                            ("Out-of-state library staff", "175.00")]


def test_lja_product_pages_json_ld_and_labels() -> None:
    result = crawl("lja")
    assert result.listing_pages == 2 and result.failures == []
    records = by_title(result)
    assert len(records) == 6
    lcc = records["Library of Congress Classification"]
    assert lcc.schedule == "unscheduled" and lcc.start is None
    assert lcc.start_raw == "Not currently scheduled"
    assert fees(lcc) == [("", "175.00")] and lcc.sources["fee"].startswith("json-ld")
    json_course = records["Introduction to JSON for Librarians"]
    assert json_course.start is not None
    assert json_course.start.isoformat() == "2027-06-07T00:00:00-07:00"
    assert json_course.start_raw == "Monday, June 7, 2027 to Sunday, July 4, 2027"
    assert json_course.format == "course"


def test_ala_elearning_summaries() -> None:
    records = by_title(crawl("ala-elearning"))
    assert len(records) == 6
    youth = records["Introduction to Youth Services"]
    assert fees(youth) == [("ALSC members", "115.00"), ("ALA members", "140.00"),
                           ("non-ALA members", "165.00"), ("students and retirees", "90.00")]
    assert youth.format == "course"
    pla = records["Building Better Library Budgets"]
    assert fees(pla) == [("PLA member", "43.00"), ("nonmember", "59.00")]
    assert pla.format == "webinar"
    assert pla.start is not None and pla.start.isoformat() == "2027-03-17T13:00:00-05:00"
    assert fees(records["Copyright Essentials for Library Staff"]) == [("", "175.00")]
    assert fees(records["Library Advocacy 101"]) == [("", "0.00")]
    unknown = records["Cataloging Audiovisual Materials"]
    assert not unknown.fee_known and unknown.fees == []  # no fee text: unknown, not 0


def test_techsoup_pagination_and_page_level_fee() -> None:
    result = crawl("techsoup")
    assert result.listing_pages == 2
    records = by_title(result)
    assert len(records) == 5
    planning = records["Tech Planning for Small Libraries"]
    assert planning.start is not None
    assert planning.start.isoformat() == "2027-06-16T11:00:00-07:00"
    assert fees(planning) == [("", "0.00")]
    assert "listing page" in planning.sources["fee"]


def test_webjunction_detail_pages() -> None:
    records = by_title(crawl("webjunction"))
    assert len(records) == 5
    new_americans = records["Library Services for New Americans"]
    assert new_americans.start is not None and new_americans.end is not None
    assert new_americans.start.isoformat() == "2027-01-14T15:00:00-05:00"
    assert new_americans.end.isoformat() == "2027-01-14T16:00:00-05:00"  # naive endDate, ET
    assert fees(new_americans) == [("", "0.00")]
    assert new_americans.format == "webinar"


def test_able_self_paced() -> None:
    records = by_title(crawl("able"))
    assert len(records) == 4
    course = records["ABLE Course 1: Collection Development"]
    assert course.schedule == "self-paced" and course.format == "self-paced"
    assert course.url == "http://www.lili.org/forlibs/ce/able/course1/01intro.htm"
    assert fees(course) == [("", "0.00")]


def test_state_b_failures_and_drift_are_visible_in_the_crawl() -> None:
    assert [f.reason for f in crawl("webjunction", "B").failures] == ["HTTP 503"]
    techsoup = crawl("techsoup", "B")
    assert [(f.url, f.reason) for f in techsoup.failures] == [
        ("https://www.techsoup.org/community/events-webinars?page=1", "HTTP 500")]
    ala = crawl("ala-elearning", "B")
    assert ala.records == [] and ala.failures == []
    assert any("matched nothing" in w for w in ala.warnings)


def test_a_field_that_stops_matching_is_a_warning_and_keeps_its_old_value() -> None:
    recipe = RECIPES["techsoup"]
    broken = recipe.model_copy(update={"fields": {**recipe.fields,
                                                  "when": parse_recipe("x", {
                                                      "listing": "https://x.org/", "item": "li",
                                                      "fields": {"title": "a", "when": ".gone"}},
                                                  ).fields["when"]}})
    result = crawl("techsoup", recipe=broken)
    assert len(result.records) == 5
    assert all("when" in r.missing for r in result.records)
    assert any(w.startswith("fields.when: nothing matched (css '.gone'") and "(×5)" in w
               for w in result.warnings)


# --- which source wins -------------------------------------------------------------------------

LJA_252 = SITES / "lja/shop/course/252-introduction-to-json-for-librarians/index.html"
LJA_URL = "https://libraryjuiceacademy.com/shop/course/252-introduction-to-json-for-librarians/"
LISTING = Page("https://libraryjuiceacademy.com/shop/",
               (SITES / "lja/shop/index.html").read_text(encoding="utf-8"))


def extract_lja(detail_html: str, recipe: Recipe | None = None) -> OfferingData:
    recipe = recipe or RECIPES["lja"]
    item = LISTING.selector.css(recipe.item)[0]
    ctx = ItemContext(recipe, LISTING, item, LJA_URL, Page(LJA_URL, detail_html), "UTC", NOW)
    record = finalize(recipe, extract_draft(ctx, "lja"), [], tz="UTC")
    assert record is not None
    return record


def lja_page(visible: str | None = None, offer: str | None = None,
             valid_until: str | None = None, offer_url: str | None = None) -> str:
    html = LJA_252.read_text(encoding="utf-8")
    if visible:
        html = html.replace('<p class="price"><span class="woocommerce-Price-amount amount"><bdi>'
                            '<span class="woocommerce-Price-currencySymbol">&#36;</span>250.00',
                            '<p class="price"><span class="woocommerce-Price-amount amount"><bdi>'
                            f'<span class="woocommerce-Price-currencySymbol"></span>{visible}')
    if offer:
        html = html.replace('"price":"250.00"', f'"price":"{offer}"')
    if valid_until:
        html = html.replace('"priceValidUntil":"2027-12-31"',
                            f'"priceValidUntil":"{valid_until}"')
    if offer_url:
        html = html.replace(r'"@id":"https:\/\/libraryjuiceacademy.com\/shop\/course\/'
                            r'252-introduction-to-json-for-librarians\/#product"',
                            f'"@id":"{offer_url}#product"')
        html = html.replace(r'"url":"https:\/\/libraryjuiceacademy.com\/shop\/course\/'
                            r'252-introduction-to-json-for-librarians\/","description"',
                            f'"url":"{offer_url}","description"')
    return html


def test_json_ld_offer_wins_over_a_conflicting_visible_price() -> None:
    """The visible block shows "$200.00 $250.00" (a sale and the regular price); the Offer
    says 250.00: the shop's machine price wins."""
    record = extract_lja(lja_page(visible="$200.00 $250.00"))
    assert fees(record) == [("", "250.00")]
    assert record.sources["fee"] == "json-ld (Product offers)"


def test_a_stale_offer_loses_to_the_visible_price() -> None:
    """priceValidUntil has passed: the Offer is stale, the visible price is used."""
    record = extract_lja(lja_page(visible="$275.00", valid_until="2026-01-31"))
    assert fees(record) == [("", "275.00")]
    assert record.sources["fee"].startswith("selector")
    assert any("stale offer" in w for w in record.warnings)


def test_an_offer_about_another_page_is_ignored() -> None:
    other = "https://libraryjuiceacademy.com/shop/course/999-something-else/"
    record = extract_lja(lja_page(visible="$275.00", offer="99.00", offer_url=other))
    assert fees(record) == [("", "275.00")]
    assert record.sources["fee"].startswith("selector")


def test_visible_tiers_win_over_a_single_price_offer() -> None:
    """An Offer flattens membership tiers into one number; the tiers are the truth."""
    record = extract_lja(lja_page(visible="ALA members $200 / non-members $250"))
    assert fees(record) == [("ALA members", "200.00"), ("non-members", "250.00")]
    assert record.sources["fee"].startswith("selector")


def test_prefer_selector_flips_one_field() -> None:
    recipe = RECIPES["lja"].model_copy(update={"prefer": {"fee": "selector"}})
    record = extract_lja(lja_page(visible="$199.00"), recipe)
    assert fees(record) == [("", "199.00")]


def test_structured_dates_win_over_conflicting_visible_text() -> None:
    """hCalendar carries the instant with its offset; the visible text here is wrong."""
    recipe = RECIPES["infopeople"]
    path = SITES / "infopeople/civicrm/event/info__id-1081_reset-1.html"
    html = path.read_text(encoding="utf-8").replace(">June 15th, 2027 12:00 PM<",
                                                    ">June 16th, 2027 9:00 AM<")
    listing = Page("https://infopeople.org/training",
                   (SITES / "infopeople/training.html").read_text(encoding="utf-8"))
    url = "https://infopeople.org/civicrm/event/info?id=1081&reset=1"
    item = listing.selector.css(recipe.item)[3]
    ctx = ItemContext(recipe, listing, item, url, Page(url, html), "America/Los_Angeles", NOW)
    draft = extract_draft(ctx, "infopeople")
    record = finalize(recipe, draft, [], tz="America/Los_Angeles")
    assert record is not None and record.start is not None
    assert record.start.isoformat() == "2027-06-15T12:00:00-07:00"
    assert record.sources["start"] == "hcalendar (h-event start)"
    visible = [c for c in draft.candidates if c.field == "start" and c.source == "selector"]
    assert visible[0].value.isoformat() == "2027-06-16T09:00:00-07:00"  # seen, and outranked


def test_json_ld_event_on_a_listing_is_matched_by_url() -> None:
    html = """<html><body><ul>
      <li class="ev"><a href="/e/1">One</a><span class="when">TBA</span></li>
      <li class="ev"><a href="/e/2">Two</a><span class="when">TBA</span></li></ul>
      <script type="application/ld+json">[
        {"@context": "https://schema.org", "@type": "EducationEvent", "name": "Two",
         "url": "https://ex.org/e/2", "startDate": "2027-05-01T10:00:00-04:00",
         "offers": {"@type": "Offer", "price": "0", "priceCurrency": "USD"}},
        {"@context": "https://schema.org", "@type": "Event", "name": "One",
         "url": "https://ex.org/e/1", "startDate": "2027-04-01T10:00:00-04:00",
         "eventStatus": "https://schema.org/EventCancelled"}]</script></body></html>"""
    recipe = parse_recipe("ex", {"listing": "https://ex.org/", "item": "li.ev",
                                 "fields": {"title": "a", "when": ".when"}})
    page = Page("https://ex.org/", html)
    out = {}
    for item in page.selector.css("li.ev"):
        link = "https://ex.org" + item.css("a::attr(href)").get()
        ctx = ItemContext(recipe, page, item, link, None, "UTC", NOW)
        record = finalize(recipe, extract_draft(ctx, "ex"), [], tz="UTC")
        assert record is not None
        out[record.title] = record
    assert out["Two"].start is not None and out["Two"].start.isoformat().startswith("2027-05-01")
    assert out["Two"].fees[0].amount == Decimal("0.00")  # "0" means free
    assert out["One"].cancelled is True


@pytest.mark.parametrize("syntax", ["microdata", "rdfa"])
def test_microdata_and_rdfa_courses(syntax: str) -> None:
    if syntax == "microdata":
        body = """<div itemscope itemtype="https://schema.org/Course">
          <h1 itemprop="name">Cataloging 101</h1><a itemprop="url" href="https://ex.org/c">x</a>
          <div itemprop="hasCourseInstance" itemscope itemtype="https://schema.org/CourseInstance">
            <meta itemprop="startDate" content="2027-02-01"><meta itemprop="endDate"
            content="2027-02-28"></div>
          <div itemprop="offers" itemscope itemtype="https://schema.org/Offer">
            <meta itemprop="price" content="120"><meta itemprop="priceCurrency" content="USD">
          </div></div>"""
    else:
        body = """<div vocab="https://schema.org/" typeof="Course" resource="https://ex.org/c">
          <h1 property="name">Cataloging 101</h1>
          <div property="hasCourseInstance" typeof="CourseInstance">
            <meta property="startDate" content="2027-02-01"><meta property="endDate"
            content="2027-02-28"></div>
          <div property="offers" typeof="Offer"><meta property="price" content="120">
            <meta property="priceCurrency" content="USD"></div></div>"""
    html = f"<html><body>{body}</body></html>"
    recipe = parse_recipe("ex", {"listing": "https://ex.org/", "item": "li", "follow": True,
                                 "fields": {"title": {"css": "h1", "from": "detail"}}})
    listing = Page("https://ex.org/", "<ul><li><a href='/c'>Cataloging 101</a></li></ul>")
    item = listing.selector.css("li")[0]
    ctx = ItemContext(recipe, listing, item, "https://ex.org/c", Page("https://ex.org/c", html),
                      "America/Chicago", NOW)
    record = finalize(recipe, extract_draft(ctx, "ex"), [], tz="America/Chicago")
    assert record is not None
    assert record.start is not None and record.start.isoformat() == "2027-02-01T00:00:00-06:00"
    assert record.end is not None and record.end.isoformat() == "2027-02-28T23:59:00-06:00"
    assert fees(record) == [("", "120.00")]
    assert record.format == "course"
    assert record.sources["fee"].startswith(syntax)


def test_microformats2_h_event() -> None:
    html = """<html><body><div class="h-event"><h1 class="p-name">Book Club Basics</h1>
      <time class="dt-start" datetime="2027-04-01T14:00:00-05:00">April 1, 2 pm</time>
      <time class="dt-end" datetime="2027-04-01T15:00:00-05:00">3 pm</time></div></body></html>"""
    recipe = parse_recipe("ex", {"listing": "https://ex.org/", "item": "li", "follow": True,
                                 "fields": {"title": {"css": "h1", "from": "detail"}}})
    listing = Page("https://ex.org/", "<ul><li><a href='/b'>Book Club Basics</a></li></ul>")
    ctx = ItemContext(recipe, listing, listing.selector.css("li")[0], "https://ex.org/b",
                      Page("https://ex.org/b", html), "UTC", NOW)
    record = finalize(recipe, extract_draft(ctx, "ex"), [], tz="UTC")
    assert record is not None and record.start is not None and record.end is not None
    assert record.start.isoformat() == "2027-04-01T14:00:00-05:00"
    assert record.end.isoformat() == "2027-04-01T15:00:00-05:00"
    assert record.sources["start"] == "hcalendar (h-event start)"


def test_a_missing_detail_page_leaves_the_item_to_its_listing_fields() -> None:
    """ABLE's courses 2-4 have no page here (404): still listed, not a provider failure."""
    fields = parse_recipe("x", {"listing": "https://x.org/", "item": "li", "follow": True,
                                "fields": {"title": {"css": "a", "from": "listing"},
                                           "description": {"css": "h2", "from": "detail"}}},
                          ).fields
    recipe = RECIPES["able"].model_copy(
        update={"follow": True, "fields": {**RECIPES["able"].fields, **fields}})
    result = crawl("able", recipe=recipe)
    assert result.failures == []
    records = by_title(result)
    assert len(records) == 4
    assert records["ABLE Course 1: Collection Development"].description == "Welcome!"
    course2 = records["ABLE Course 2: Cataloging Basics"]
    assert course2.description is None and "description" in course2.missing
    assert any("HTTP 404; listing fields only" in w for w in result.warnings)
