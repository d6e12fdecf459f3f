"""Platform presets: a recipe for the markup a platform writes, so a provider on it is two lines.

    recipe: {preset: woocommerce, listing: https://example.org/shop/}

A preset is a partial recipe. The recipe's own keys override the preset's; under `fields:`, a
field the recipe declares replaces the preset's specs of that field. Every preset reads the
platform's structured data and feeds first (the default `structured:` order), then these
selectors. A preset that knows its platform's iCalendar feed (CiviCRM, The Events Calendar,
LibCal) fetches it when the recipe names no `feeds:`; such a feed is optional: when it fails or
is not iCalendar, the crawl goes on without it and nothing is reported. Its field specs are
tagged "preset NAME" in `recipes test`. Platform ids and registration status need no selectors:
`crawler/extract/platform.py` knows each platform's ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_FEE_WORDS = r"(?i)\bcost\b|\bfees?\b|\bprice\b|\bfree\b|\$|\bUSD\b|\bmembers?\b"


def _query(url: str, drop: tuple[str, ...] = (), add: tuple[tuple[str, str], ...] = ()) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in drop]
    return urlunsplit(parts._replace(query=urlencode(query + list(add))))


def civicrm_feed(listing: str) -> list[str]:
    """CiviCRM's iCalendar feed of public events: the HTML listing without `html=1`."""
    if "civicrm/event/ical" in listing:
        return [_query(listing, drop=("html",))]
    parts = urlsplit(listing)
    return [f"{parts.scheme}://{parts.netloc}/civicrm/event/ical?reset=1&list=1"]


def events_calendar_feed(listing: str) -> list[str]:
    """The Events Calendar's iCalendar export of a list view (`?ical=1`)."""
    return [_query(listing, drop=("ical",), add=(("ical", "1"),))]


def libcal_feed(listing: str) -> list[str]:
    """LibCal's iCalendar subscription of the listing's calendar (`cid`)."""
    parts = urlsplit(listing)
    cid = dict(parse_qsl(parts.query)).get("cid")
    if not cid or not cid.isdigit():
        return []
    return [f"{parts.scheme}://{parts.netloc}/ical_subscribe.php?src=p&cid={cid}"]


@dataclass(frozen=True)
class Preset:
    """One platform's partial recipe, and the platform's feeds for a listing URL."""

    name: str
    platform: str  # what it covers, for the docs
    recipe: dict[str, Any]
    feeds: Callable[[str], list[str]] | None = None


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("woocommerce", "WooCommerce shop pages, classic (`ul.products li.product`) and block "
           "themes (Product Collection, All Products grid); product pages' JSON-LD", {
               "item": "ul.products li.product, li.wc-block-product, li.wc-block-grid__product",
               "link": "a.woocommerce-LoopProduct-link, a.wc-block-grid__product-link, "
                       "h2.wp-block-post-title a, a[href]",
               "paginate": "nav.woocommerce-pagination a.next, "
                           "nav.wp-block-query-pagination a.wp-block-query-pagination-next",
               "follow": True,
               "fields": {
                   "title": [{"css": ".woocommerce-loop-product__title, "
                                     ".wc-block-grid__product-title, .wp-block-post-title",
                              "from": "listing"}],
                   "when": [{"css": ".woocommerce-product-details__short-description, "
                                    ".wp-block-post-excerpt__excerpt",
                             "label": "Dates", "from": "detail", "optional": True},
                            {"css": ".woocommerce-product-details__short-description, "
                                    ".wp-block-post-excerpt__excerpt",
                             "label": "Date", "from": "detail", "optional": True}],
                   "fee": [{"css": ".summary .price, .wp-block-woocommerce-product-price",
                            "from": "detail"},
                           {"css": ".price, .wc-block-grid__product-price, "
                                   ".wc-block-components-product-price", "from": "listing"}],
                   "description": [{"css": ".woocommerce-product-details__short-description",
                                    "from": "detail", "optional": True}],
               },
           }),
    Preset("events-calendar", "The Events Calendar (WordPress): list view v2 "
           "(`tribe-events-calendar-list__event`) and the legacy v1 list; its JSON-LD Events", {
               "item": "article.tribe-events-calendar-list__event, "
                       ".tribe-events-loop .type-tribe_events",
               "link": "a.tribe-events-calendar-list__event-title-link, "
                       ".tribe-events-list-event-title a, a[href]",
               "paginate": "a.tribe-events-c-nav__next, .tribe-events-nav-next a",
               "fields": {
                   "title": [{"css": ".tribe-events-calendar-list__event-title, "
                                     ".tribe-events-list-event-title"}],
                   "when": [{"css": ".tribe-events-calendar-list__event-datetime, "
                                    ".tribe-event-schedule-details", "optional": True}],
                   "fee": [{"css": ".tribe-events-c-small-cta__price, .tribe-events-cost, "
                                   ".tribe-events-event-cost", "optional": True}],
                   "description": [{"css": ".tribe-events-calendar-list__event-description, "
                                           ".tribe-events-list-event-description",
                                    "optional": True}],
               },
           }, events_calendar_feed),
    Preset("civicrm", "CiviCRM's event listing (`civicrm/event/ical?reset=1&list=1&html=1`) and "
           "event info pages (fee table, date block); add its iCalendar feed under `feeds:`", {
               "item": "#crm-container table.selector tr.crm-event, "
                       "#crm-container .crm-event-listing .crm-event",
               "link": "a[href*='civicrm/event/info']",
               "follow": True,
               "fields": {
                   "title": [{"css": "a[href*='civicrm/event/info']", "from": "listing"}],
                   "when": [{"css": ".event_date_time-section .content", "from": "detail"},
                            {"css": ".crm-event-date", "from": "listing", "optional": True}],
                   "fee": [{"rows": ".event_fees-section table.fee_block-table tr",
                            "tier": "td.fee_level-label", "amount": "td.fee_amount-value",
                            "from": "detail"},
                           {"css": ".event_summary-section", "sentences": _FEE_WORDS,
                            "from": "detail", "optional": True}],
                   "description": [{"css": ".event_description-section", "from": "detail",
                                    "optional": True}],
               },
           }, civicrm_feed),
    Preset("moodle", "Moodle 3 and 4 front pages (`#frontpage-available-course-list`, "
           "`#frontpage-course-list`): course boxes and their summaries", {
               "item": "#frontpage-available-course-list .coursebox, "
                       "#frontpage-course-list .coursebox",
               "link": ".coursename a, h3 a",
               "format": "course",
               "fields": {
                   "title": [{"css": ".coursename a, h3 a"}],
                   "when": [{"css": ".summary", "label": "Dates", "optional": True},
                            {"css": ".summary", "label": "Date", "optional": True}],
                   "fee": [{"css": ".summary", "sentences": _FEE_WORDS, "optional": True}],
                   "description": [{"css": ".summary", "optional": True}],
               },
           }),
    Preset("libcal", "Springshare LibCal event lists (`.s-lc-c-evt`) and event pages' JSON-LD", {
               "item": ".s-lc-c-evt",
               "link": "h3 a, .s-lc-c-evt-title a",
               "follow": True,
               "fields": {
                   "title": [{"css": "h3 a, .s-lc-c-evt-title a", "from": "listing"}],
                   "when": [{"css": ".s-lc-evt-date, .s-lc-c-evt-date", "from": "listing",
                             "optional": True}],
                   "fee": [{"css": ".s-lc-event-cost, .s-lc-evt-cost", "from": "detail",
                            "optional": True}],
                   "description": [{"css": ".s-lc-c-evt-des, .s-lc-event-desc",
                                    "from": "listing", "optional": True}],
               },
           }, libcal_feed),
    Preset("drupal-views", "a Drupal 7–10 views list (`.view-content .views-row`) with the usual "
           "field classes; Drupal's pager", {
               "item": ".view-content .views-row, .view-content > ul > li",
               "link": ".views-field-title a, h2 a, h3 a, a[href]",
               "paginate": "li.pager-next a, li.pager__item--next a, nav.pager a[rel=next]",
               "fields": {
                   "title": [{"css": ".views-field-title a, h2 a, h3 a"}],
                   "start": [{"css": "time[datetime], .date-display-single[content], "
                                     ".date-display-start[content]",
                              "attr": "datetime", "optional": True},
                             {"css": ".date-display-single[content], .date-display-start[content]",
                              "attr": "content", "optional": True}],
                   "when": [{"css": ".views-field-field-date, .views-field-field-event-date, "
                                    ".date-display-single, .date-display-range, "
                                    ".field--name-field-event-date, .field--name-field-date",
                             "optional": True}],
                   "fee": [{"css": ".views-field-field-fee, .views-field-field-price, "
                                   ".views-field-field-cost, .field--name-field-fee, "
                                   ".field--name-field-price", "optional": True}],
                   "description": [{"css": ".views-field-body, .field--name-body",
                                    "optional": True}],
               },
           }),
)}
