"""The price really charged: sales, tiers in any order and wording, labels that are audiences,
and the rule between a structured Offer and the visible price (issue 13 §2)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from parsel import Selector

from shelfcheck.crawler.extract.fees import Fees, Tier, audience, parse_fees
from shelfcheck.crawler.extract.items import Draft, merge
from shelfcheck.crawler.extract.model import Candidate
from shelfcheck.crawler.extract.selectors import fee_text
from shelfcheck.crawler.recipe import parse_recipe

WOO_SALE = (
    '<span class="price"><del aria-hidden="true"><span class="woocommerce-Price-amount amount">'
    '<bdi><span class="woocommerce-Price-currencySymbol">&#36;</span>250.00</bdi></span></del> '
    '<span class="screen-reader-text">Original price was: &#36;250.00.</span><ins aria-hidden='
    '"true"><span class="woocommerce-Price-amount amount"><bdi><span class="woocommerce-Price-'
    'currencySymbol">&#36;</span>199.00</bdi></span></ins><span class="screen-reader-text">'
    'Current price is: &#36;199.00.</span></span>')


def tiers(fees: Fees) -> list[tuple[str, str, str | None]]:
    return [(t.tier, f"{t.amount:.2f}", f"{t.regular:.2f}" if t.regular is not None else None)
            for t in fees.tiers]


@pytest.mark.parametrize("text", [
    "$250.00 Original price was: $250.00. $199.00 Current price is: $199.00.",
    "Regular price $250.00 Sale price $199.00",
    "Was $250, now $199",
    "Was: $250.00 Now: $199.00",
    "Regular price: $250.00 $199.00",
])
def test_a_sale_is_one_price_with_the_regular_kept(text: str) -> None:
    assert tiers(parse_fees(text)) == [("", "199.00", "250.00")]


def test_woocommerce_sale_markup_reads_as_one_current_price() -> None:
    node = Selector(text=WOO_SALE).css("span.price")[0]
    text = fee_text(node.root)
    assert tiers(parse_fees(text)) == [("", "199.00", "250.00")]
    # the bare text, screen-reader phrases and all, once read as four "tiers" named after
    # whatever stood before each amount: now one current price too
    flat = " ".join(node.css("::text").getall())
    assert tiers(parse_fees(flat)) == [("", "199.00", "250.00")]


def test_a_regular_price_alone_is_just_the_price() -> None:
    assert tiers(parse_fees("Regular price: $250.00")) == [("", "250.00", None)]


@pytest.mark.parametrize(("text", "expected"), [
    ("ALA members $155; non-members $190", [("ALA members", "155.00"), ("non-members", "190.00")]),
    ("Non-members: $190, ALA members: $155",
     [("ALA members", "155.00"), ("Non-members", "190.00")]),
    ("Members: free; Non-members: $50", [("Members", "0.00"), ("Non-members", "50.00")]),
    ("Free for ALA members, $45 for others", [("ALA members", "0.00"), ("others", "45.00")]),
    ("ALA members are free, non-members $50", [("ALA members", "0.00"), ("non-members", "50.00")]),
    ("Registration fee for ALA members: $45; for non-members: $60",
     [("ALA members", "45.00"), ("non-members", "60.00")]),
    ("Students and retirees: $30; everyone else: $60",
     [("Students and retirees", "30.00"), ("everyone else", "60.00")]),
    ("From $45 – $90", [("", "45.00")]),
    ("$25 per session", [("", "25.00")]),
    ("Price: $45", [("", "45.00")]),
    ("Cost: $45 / $60", [("", "45.00")]),
    ("USD 120", [("", "120.00")]),
])
def test_tiers_in_any_order_and_wording(text: str, expected: list[tuple[str, str]]) -> None:
    assert sorted((t, a) for t, a, _r in tiers(parse_fees(text))) == sorted(expected)


def test_currency_symbols_and_codes() -> None:
    assert [(t.amount, t.currency) for t in parse_fees("€ 80").tiers] == [(D("80.00"), "EUR")]
    assert [(t.amount, t.currency) for t in parse_fees("CA$95").tiers] == [(D("95.00"), "CAD")]
    assert [(t.amount, t.currency) for t in parse_fees("120 USD").tiers] == [
        (D("120.00"), "USD")]


@pytest.mark.parametrize(("label", "expected"), [
    ("ALA members", "ALA members"), ("students and retirees", "students and retirees"),
    ("Original price was:", ""), ("Current price is", ""), ("Price", ""), ("Cost:", ""),
    ("Registration fee for ALA members", "ALA members"), ("-", ""), ("(", ""), ("Sale!", ""),
    ("From", ""), ("only", ""), ("per session", ""), ("Regular price", ""),
])
def test_a_tier_label_is_an_audience(label: str, expected: str) -> None:
    assert audience(label) == expected


NOW = datetime(2026, 11, 26, tzinfo=UTC)
RECIPE = parse_recipe("x", {"listing": "https://x.org/", "item": "li", "fields": {"title": "a"}})


def _merge(structured: Fees, visible: Fees) -> tuple[list[tuple[str, str, str | None]], list[str]]:
    draft = Draft("x", "https://x.org/c", "https://x.org/", None, [
        Candidate("title", "Course", "selector"),
        Candidate("fee", structured, "json-ld", "Product offers"),
        Candidate("fee", visible, "selector", "css '.price' on the listing item")])
    record = merge(RECIPE, draft, [], tz="UTC")
    assert record is not None
    return [(f.tier, f"{f.amount:.2f}", f"{f.regular:.2f}" if f.regular else None)
            for f in record.fees], record.warnings


def test_a_structured_price_and_a_visible_sale_agree() -> None:
    offer = Fees(True, [Tier("", D("199.00"), "USD", "199.00")], "199.00")
    fees, warnings = _merge(offer, parse_fees("Regular price $250.00 Sale price $199.00"))
    assert fees == [("", "199.00", "250.00")] and warnings == []


def test_when_they_disagree_the_offer_wins_and_a_warning_says_so() -> None:
    offer = Fees(True, [Tier("", D("199.00"), "USD", "199.00")], "199.00")
    fees, warnings = _merge(offer, parse_fees("$250.00"))
    assert fees == [("", "199.00", None)]
    assert warnings == ["fee: json-ld says 199.00, the page shows 250.00 (css '.price' on the "
                        "listing item); the json-ld price is used"]


def test_visible_tiers_win_over_one_offer() -> None:
    offer = Fees(True, [Tier("", D("30.00"), "USD", "30")], "30")
    fees, _warnings = _merge(offer, parse_fees("LSS members $30 / non-members $45"))
    assert fees == [("LSS members", "30.00", None), ("non-members", "45.00", None)]
