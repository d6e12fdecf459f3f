"""Fee parsing: every fee format of the reference pages, tiers, free and unknown."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shelfcheck.crawler.extract.fees import fees_from_rows, parse_amount, parse_fees

D = Decimal


def tiers(text: str) -> list[tuple[str, Decimal, str]]:
    fees = parse_fees(text)
    assert fees.known, text
    return [(t.tier, t.amount, t.currency) for t in fees.tiers]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # ala-elearning "Copyright Essentials": one amount without cents
        ("The registration cost is $175.", [("", D("175.00"), "USD")]),
        ("$175", [("", D("175.00"), "USD")]),
        # lja shop and product pages, infopeople fee table cells
        ("$200.00", [("", D("200.00"), "USD")]),
        ("Fee per learner $200.00", [("", D("200.00"), "USD")]),
        ("Price: $175", [("", D("175.00"), "USD")]),
        # ala-elearning tiered sentences
        ("The registration cost is $115 for ALSC members, $140 for ALA members, $165 for "
         "non-ALA members and $90 for students and retirees.",
         [("ALSC members", D("115.00"), "USD"), ("ALA members", D("140.00"), "USD"),
          ("non-ALA members", D("165.00"), "USD"), ("students and retirees", D("90.00"), "USD")]),
        ("$219 for ALCTS members, $269 for ALA members, $319 for non-members, and just $99 for "
         "students and retired members.",
         [("ALCTS members", D("219.00"), "USD"), ("ALA members", D("269.00"), "USD"),
          ("non-members", D("319.00"), "USD"),
          ("students and retired members", D("99.00"), "USD")]),
        # the PLA webinar
        ("The cost for the webinar is $43 (PLA member) or $59 (nonmember).",
         [("PLA member", D("43.00"), "USD"), ("nonmember", D("59.00"), "USD")]),
        # label before the amount
        ("ALA members $45 / non-members $60",
         [("ALA members", D("45.00"), "USD"), ("non-members", D("60.00"), "USD")]),
        ("Members: $45; Non-members: $60",
         [("Members", D("45.00"), "USD"), ("Non-members", D("60.00"), "USD")]),
        ("Free for members, $25 for non-members.",
         [("members", D("0.00"), "USD"), ("non-members", D("25.00"), "USD")]),
        # free, in the words of the pages
        ("Free", [("", D("0.00"), "USD")]),
        ("Cost: Free", [("", D("0.00"), "USD")]),
        ("This webinar is free.", [("", D("0.00"), "USD")]),
        ("A free Infopeople Webinar", [("", D("0.00"), "USD")]),
        ("There is no charge for this webinar.", [("", D("0.00"), "USD")]),
        ("Free webinars for nonprofits and libraries. Times are Pacific.",
         [("", D("0.00"), "USD")]),
        ("The online courses below are free and self-paced; each takes about an hour.",
         [("", D("0.00"), "USD")]),
        # other currencies; a discount is not a fee
        ("€50", [("", D("50.00"), "EUR")]),
        ("Save $20 on the series. Cost: $100", [("", D("100.00"), "USD")]),
    ],
)
def test_fee_formats(text: str, expected: list[tuple[str, Decimal, str]]) -> None:
    assert tiers(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        # ala-elearning "Cataloging Audiovisual Materials": no fee in the summary
        "Describe video and sound recordings. (A past session; no fee given in the summary.)",
        # "free" describing something else is not a fee of 0
        "Help patrons start family history research with free and licensed sources.",
        "Assign LC class numbers with the free online tools.",
        "An Infopeople Online Learning Course",
    ],
)
def test_no_fee_text_is_unknown_never_zero(text: str) -> None:
    fees = parse_fees(text)
    assert not fees.known
    assert fees.tiers == []


def test_fee_rows_one_row_is_one_unlabelled_tier() -> None:
    fees = fees_from_rows([("Fee per learner", "$200.00")])
    assert [(t.tier, t.amount) for t in fees.tiers] == [("", D("200.00"))]


def test_fee_rows_by_audience() -> None:
    fees = fees_from_rows([("California library staff", "$100.00"),
                           ("Out-of-state library staff", "$175.00")])
    assert [(t.tier, t.amount) for t in fees.tiers] == [
        ("California library staff", D("100.00")), ("Out-of-state library staff", D("175.00"))]


def test_fee_rows_without_amounts_are_unknown() -> None:
    assert not fees_from_rows([("Fee per learner", "to be announced")]).known


def test_tier_labels_stay_unique() -> None:
    fees = parse_fees("$10 (members) or $20 (members)")
    labels = [t.tier for t in fees.tiers]
    assert len(labels) == len(set(labels)) == 2


def test_parse_amount() -> None:
    assert parse_amount("$1,250.50") == (D("1250.50"), "USD")
    assert parse_amount("Free") == (D("0.00"), "USD")
    assert parse_amount("call us") is None
    assert parse_amount("£40", currency="GBP") == (D("40.00"), "GBP")
