"""Hostile web-sourced text (`<script>`, `javascript:` URLs, quotes, control characters,
calendar-line injection, spreadsheet formulas) stays inert text in every export format."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import extruct
import feedparser
import icalendar
import jsonschema
import lxml.etree
import lxml.html
import pytest
from sqlalchemy import Engine

from shelfcheck.catalog.db import transaction
from shelfcheck.exports.base import get_exporter
from tests.exports_data import (
    HOSTILE_DESCRIPTION,
    HOSTILE_OFFERING_TITLE,
    HOSTILE_QUOTE_URL,
    HOSTILE_RESOURCE_URL,
    HOSTILE_TIER,
    HOSTILE_TITLE,
    HOSTILE_URL,
    NOW,
    add_hostile,
    populate,
)

SCHEMA_FILE = Path(__file__).parents[2] / "exports" / "schemas" / "catalog.schema.json"
OFFERING_SUMMARY = " ".join(HOSTILE_OFFERING_TITLE.split())


@pytest.fixture
def hostile(engine: Engine) -> Engine:
    with transaction(engine) as session:
        populate(session)
        add_hostile(session)
    return engine


def render(engine: Engine, kind: str, *, public: bool = False) -> dict[str, bytes]:
    with transaction(engine) as session:
        return dict(get_exporter(kind)(public=public, now=NOW).render(session))


def assert_inert_html(html: str) -> lxml.html.HtmlElement:
    """No script but the JSON-LD block, no javascript: links, no event-handler attributes."""
    page = lxml.html.fromstring(html)
    scripts = page.xpath("//script")
    assert [s.get("type") for s in scripts] == ["application/ld+json"]
    for element in page.iter():
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name)
            assert not value.strip().lower().startswith("javascript:"), (element.tag, value)
    assert not page.xpath("//img | //b | //i")
    return page


def test_json_and_jsonld_keep_hostile_text_exact(hostile: Engine) -> None:
    doc = json.loads(render(hostile, "json")["catalog.json"])
    jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text())).validate(doc)
    section = doc["sections"][-1]
    assert section["name"] == "Hostile <b>section</b> & co"
    resource = section["resources"][0]
    assert (resource["title"], resource["url"], resource["description"]) == (
        HOSTILE_TITLE, HOSTILE_RESOURCE_URL, HOSTILE_DESCRIPTION)
    offering = next(o for p in doc["providers"] for o in p["offerings"] if o["key"] == "hostile-1")
    assert offering["fees"][0]["tier"] == HOSTILE_TIER

    text = render(hostile, "jsonld")["guide.jsonld"].decode("utf-8")
    assert "<" not in text and ">" not in text and "&" not in text  # safe to embed in <script>
    graph = json.loads(text)["@graph"]
    items = [e["item"] for e in graph[0]["itemListElement"]]
    bad = next(i for i in items if i["name"] == HOSTILE_TITLE)
    assert "url" not in bad  # an address with markup in it never becomes a URL
    assert bad["description"] == HOSTILE_DESCRIPTION
    quote = next(i for i in items if i["name"] == 'Quote "breaker"')
    assert "url" not in quote
    node = next(n for n in graph if n.get("identifier") and n["name"] == OFFERING_SUMMARY)
    assert "url" not in node and node["offers"][0]["name"] == HOSTILE_TIER


def test_csv_keeps_text_and_neutralises_formulas(hostile: Engine) -> None:
    files = render(hostile, "csv")
    rows = list(csv.DictReader(io.StringIO(files["resources.csv"].decode("utf-8"))))
    bad = next(r for r in rows if r["title"] == HOSTILE_TITLE)
    assert (bad["url"], bad["description"]) == (HOSTILE_RESOURCE_URL, HOSTILE_DESCRIPTION)
    quote = next(r for r in rows if r["title"] == 'Quote "breaker"')
    assert quote["url"] == HOSTILE_QUOTE_URL
    assert quote["description"] == "'=cmd|' /C calc'!A0"
    offerings = list(csv.DictReader(io.StringIO(files["offerings.csv"].decode("utf-8"))))
    hostile_offering = next(o for o in offerings if o["url"] == HOSTILE_URL)
    assert hostile_offering["title"] == HOSTILE_OFFERING_TITLE
    assert hostile_offering["fees"] == f"{HOSTILE_TIER}: 10.00 USD"


def test_ics_cannot_be_broken_into_extra_lines_or_events(hostile: Engine) -> None:
    data = render(hostile, "ics")["offerings.ics"]
    cal = icalendar.Calendar.from_ical(data)
    events = cal.walk("VEVENT")
    assert len(events) == 6  # five upcoming + the hostile one, no injected event
    assert all(str(e["uid"]) != "evil" for e in events)
    event = next(e for e in events if str(e["summary"]) == OFFERING_SUMMARY)
    assert "url" not in event
    assert HOSTILE_DESCRIPTION in str(event["description"])
    assert f"Fee: {HOSTILE_TIER}: 10.00 USD" in str(event["description"])
    assert b"\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil" not in data


def test_atom_escapes_hostile_text_and_drops_control_characters(hostile: Engine) -> None:
    data = render(hostile, "atom")["changes.atom"]
    root = lxml.etree.fromstring(data)
    assert not list(root.iter("{*}script")) and not list(root.iter("{*}img"))
    feed = feedparser.parse(data)
    assert not feed.bozo, feed.get("bozo_exception")
    entry = feed.entries[0]
    assert entry.title == f"Offering added: {HOSTILE_TITLE}"
    assert "link" not in entry or not entry.link.startswith("javascript:")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    content = root.xpath("a:entry[1]/a:content", namespaces=ns)[0]
    assert content.get("type") == "html"
    html = lxml.html.fromstring(content.text)
    assert not html.xpath("//script | //img")
    assert HOSTILE_TITLE in html.text_content()
    assert "control characters" in html.text_content()
    assert not any(a.get("href", "").startswith("javascript:") for a in html.iter("a"))


@pytest.mark.parametrize("public", [False, True], ids=["maintainer", "public"])
def test_html_shows_hostile_text_as_text(hostile: Engine, public: bool) -> None:
    html = render(hostile, "html", public=public)["guide.html"].decode("utf-8")
    page = assert_inert_html(html)
    assert "Hostile <b>section</b> & co" in [h.text_content() for h in page.iter("h2")]
    titles = [s.text_content() for s in page.cssselect("main li > strong, main li > a")]
    assert HOSTILE_TITLE in titles and 'Quote "breaker"' in titles
    assert HOSTILE_DESCRIPTION in page.text_content()
    doc = extruct.extract(html, syntaxes=["json-ld"])["json-ld"][0]
    names = [e["item"]["name"] for e in doc["@graph"][0]["itemListElement"]]
    assert HOSTILE_TITLE in names
    if not public:
        flags = [f.text_content() for f in page.cssselect(".flag-address")]
        assert any(HOSTILE_RESOURCE_URL in f for f in flags)
