"""Every export format parses back with a real parser and says what the catalog holds.

Each DB test runs on SQLite and PostgreSQL (the `engine` fixture) from the fixed state in
tests/exports_data.py; `now` is pinned to exports_data.NOW.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import extruct
import feedparser
import icalendar
import jsonschema
import lxml.html
import pytest
from sqlalchemy import Engine

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.events import record_event
from shelfcheck.catalog.queries import offering_rows, resource_rows
from shelfcheck.catalog.verdicts import message
from shelfcheck.errors import UsageError
from shelfcheck.exports import write_exports
from shelfcheck.exports.base import export_kinds, get_exporter
from shelfcheck.exports.common import offering_uid
from tests.exports_data import (
    BROKEN_URL,
    NOW,
    REDIRECT_TARGET,
    REDIRECTED_URL,
    add_offering,
    at,
    populate,
)

SCHEMA_FILE = Path(__file__).parents[2] / "exports" / "schemas" / "catalog.schema.json"
UPCOMING = {"Reference Interview Skills", "Managing Difficult Conversations", "Hosting Book Clubs",
            "Introduction to JSON for Librarians", "Cataloging Basics"}
NOT_IN_CALENDAR = {"Last Month's Webinar", "ABLE Course 1: Introduction",
                   "On-demand Webinar Archive", "Withdrawn Course"}


@pytest.fixture
def filled(engine: Engine) -> Engine:
    """The engine with the fixed catalog state committed."""
    with transaction(engine) as session:
        populate(session)
    return engine


def render(engine: Engine, kind: str, *, public: bool = False) -> dict[str, bytes]:
    with transaction(engine) as session:
        return dict(get_exporter(kind)(public=public, now=NOW).render(session))


def one(engine: Engine, kind: str, *, public: bool = False) -> bytes:
    files = render(engine, kind, public=public)
    assert len(files) == 1
    return next(iter(files.values()))


def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def calendar_events(data: bytes) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(data)
    return {str(e["summary"]): e for e in cal.walk("VEVENT")}


def jsonld_of(html: bytes) -> dict[str, Any]:
    found = extruct.extract(html.decode("utf-8"), syntaxes=["json-ld"], uniform=False)["json-ld"]
    assert len(found) == 1
    doc: dict[str, Any] = found[0]
    return doc


def graph_items(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the ItemList's items, the offering nodes) of a JSON-LD document."""
    graph = doc["@graph"]
    lists = [n for n in graph if n["@type"] == "ItemList"]
    assert len(lists) == 1
    return [e["item"] for e in lists[0]["itemListElement"]], [
        n for n in graph if n["@type"] in ("Course", "Event")]


# -- registry ----------------------------------------------------------------------------------


def test_registry_knows_every_format() -> None:
    assert export_kinds() == ["atom", "csv", "html", "ics", "json", "jsonld"]
    with pytest.raises(UsageError, match=r"unknown export format 'xml'.*atom, csv, html"):
        get_exporter("xml")


# -- json ----------------------------------------------------------------------------------------


def test_json_is_valid_against_its_schema_and_holds_the_catalog(filled: Engine) -> None:
    doc = json.loads(one(filled, "json"))
    validator().validate(doc)
    assert doc["schema"] == "shelfcheck.catalog/1"
    assert doc["generated_at"] == "2027-01-04T07:00:00+00:00"
    assert doc["guide"]["url"] == "https://libguides.ala.org/lss/education"
    assert [s["name"] for s in doc["sections"]] == ["Training Resources", "Competencies"]
    resources = {r["title"]: r for s in doc["sections"] for r in s["resources"]}
    able = resources["ABLE (Alternative Basic Library Education)"]
    assert (able["link_state"], able["verdict"], able["http_status"]) == (
        "broken", "not_found", 404)
    assert able["suggestion"] == f"https://web.archive.org/web/*/{BROKEN_URL}"
    assert able["last_checked"] == "2027-01-03T02:00:00+00:00"
    lja = resources["Library Juice Academy"]
    assert lja["url"] == REDIRECTED_URL and lja["redirect_target"] == REDIRECT_TARGET
    assert resources["The A to Z: Diverse and In-Depth Training"]["link_state"] == "no_url"
    assert resources["The A to Z: Diverse and In-Depth Training"]["url"] is None

    providers = {p["slug"]: p for p in doc["providers"]}
    titles = [o["title"] for o in providers["infopeople"]["offerings"]]
    assert "Cataloging Basics" in titles
    assert "Withdrawn Course" not in [o["title"] for o in providers["lja"]["offerings"]]
    course = next(o for o in providers["infopeople"]["offerings"]
                  if o["title"] == "Cataloging Basics")
    assert course["fees"] == [{"tier": "ALA members", "amount": "175.00", "currency": "USD"},
                              {"tier": "non-members", "amount": "200.00", "currency": "USD"}]
    assert course["start"] == "2027-02-01T20:00:00+00:00"
    assert course["timezone"] == "America/Los_Angeles"
    assert course["lssc_approved"] is True and course["sequence"] == 2
    assert course["uid"] == offering_uid("infopeople", course["key"])
    unknown_fee = providers["webjunction"]["offerings"][0]
    assert unknown_fee["title"] == "Hosting Book Clubs"
    assert (unknown_fee["fee_known"], unknown_fee["fees"]) == (False, [])


def test_schema_rejects_a_document_that_breaks_the_contract(filled: Engine) -> None:
    doc = json.loads(one(filled, "json"))
    doc["sections"][0]["resources"][0]["link_state"] = "fine"
    infopeople = next(p for p in doc["providers"] if p["slug"] == "infopeople")
    infopeople["offerings"][0]["fees"] = [{"tier": "", "amount": 12.5, "currency": "USD"}]
    paths = {"/".join(map(str, e.absolute_path)) for e in validator().iter_errors(doc)}
    assert "sections/0/resources/0/link_state" in paths
    assert any(p.endswith("fees/0/amount") for p in paths)


# -- csv -----------------------------------------------------------------------------------------


def test_csv_rows_read_back_equal_the_catalog(filled: Engine) -> None:
    files = render(filled, "csv")
    assert set(files) == {"resources.csv", "offerings.csv"}
    resources = list(csv.DictReader(io.StringIO(files["resources.csv"].decode("utf-8"))))
    offerings = list(csv.DictReader(io.StringIO(files["offerings.csv"].decode("utf-8"))))
    with transaction(filled) as session:
        expected_resources = list(resource_rows(session))
        expected_offerings = list(offering_rows(session))
    assert [(r["section"], r["title"], r["url"], r["provider"], r["description"], r["link_state"],
             r["http_status"], r["suggestion"]) for r in resources] == [
        (e.section, e.title, e.url or "", e.provider or "", e.description, e.link_state,
         str(e.http_status or ""), e.suggestion or "") for e in expected_resources]
    assert resources[1]["redirect_target"] == REDIRECT_TARGET
    assert [(o["provider"], o["title"], o["start"], o["uid"]) for o in offerings] == [
        (e.provider, e.title, e.start_at.isoformat() if e.start_at else "",
         offering_uid(e.provider, e.key)) for e in expected_offerings]
    course = next(o for o in offerings if o["title"] == "Cataloging Basics")
    assert course["fees"] == "ALA members: 175.00 USD; non-members: 200.00 USD"
    assert (course["fee_known"], course["lssc_approved"]) == ("true", "true")
    book_clubs = next(o for o in offerings if o["title"] == "Hosting Book Clubs")
    assert (book_clubs["fee_known"], book_clubs["fees"]) == ("false", "")


# -- ics -----------------------------------------------------------------------------------------


def test_ics_holds_upcoming_scheduled_offerings_with_zones_fees_and_uids(filled: Engine) -> None:
    data = one(filled, "ics")
    cal = icalendar.Calendar.from_ical(data)
    events = calendar_events(data)
    assert set(events) == UPCOMING
    assert not NOT_IN_CALENDAR & set(events)
    assert sorted(str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")) == [
        "America/Chicago", "America/Los_Angeles"]

    course = events["Cataloging Basics"]
    start, end = course.decoded("dtstart"), course.decoded("dtend")
    assert start.tzinfo == ZoneInfo("America/Los_Angeles") and start == at("2027-02-01", 20)
    assert (start.hour, end) == (12, at("2027-02-26", 23))
    assert str(course["url"]) == "https://infopeople.org/civicrm/event/info?id=1081&reset=1"
    assert "Fee: ALA members: 175.00 USD; non-members: 200.00 USD" in str(course["description"])
    assert "LSSC approved: yes" in str(course["description"])
    assert course.decoded("sequence") == 2
    with transaction(filled) as session:
        keys = {o.title: (o.provider, o.key) for o in offering_rows(session)}
    assert str(course["uid"]) == offering_uid(*keys["Cataloging Basics"])
    assert len({str(e["uid"]) for e in events.values()}) == len(events)

    assert "Fee: free" in str(events["Managing Difficult Conversations"]["description"])
    book_clubs = events["Hosting Book Clubs"]
    assert "Fee: not stated" in str(book_clubs["description"])
    assert book_clubs.decoded("dtstart") == at("2027-01-20", 19) and "dtend" not in book_clubs
    chicago = events["Introduction to JSON for Librarians"].decoded("dtstart")
    assert str(chicago.tzinfo) == "America/Chicago" and chicago.hour == 0


def test_a_reschedule_keeps_the_uid_and_bumps_sequence(filled: Engine) -> None:
    before = calendar_events(one(filled, "ics"))["Cataloging Basics"]
    with transaction(filled) as session:
        from shelfcheck.catalog.models import Offering

        course = session.query(Offering).filter_by(title="Cataloging Basics").one()
        # What the listings crawl does on a reschedule: new dates, SEQUENCE + 1, one event.
        course.start_at += timedelta(days=7)
        course.end_at = (course.end_at or course.start_at) + timedelta(days=7)
        course.sequence += 1
        record_event(session, "offering_rescheduled", offering=course, provider=course.provider,
                     old="2027-02-01T20:00:00+00:00", new="2027-02-08T20:00:00+00:00",
                     detected_at=NOW)
    after = calendar_events(one(filled, "ics"))["Cataloging Basics"]
    assert str(after["uid"]) == str(before["uid"])
    assert after.decoded("sequence") == before.decoded("sequence") + 1
    assert after.decoded("dtstart") == before.decoded("dtstart") + timedelta(days=7)


# -- atom ----------------------------------------------------------------------------------------


def test_atom_feed_lists_events_newest_first_with_stable_ids(filled: Engine) -> None:
    feed = feedparser.parse(one(filled, "atom"))
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.id == "tag:shelfcheck,2026:libguides.ala.org/lss/education/events"
    entries = feed.entries
    assert [e.title.split(":")[0] for e in entries] == [
        "Provider unreachable", "Offering added", "Offering rescheduled", "Fee changed",
        "Link redirected", "Link broken"]
    updated = [e.updated_parsed for e in entries]
    assert updated == sorted(updated, reverse=True)
    broken = entries[-1]
    assert broken.title == (
        "Link broken: ABLE (Alternative Basic Library Education) (not_found, HTTP 404)")
    assert broken.link == BROKEN_URL
    assert "web.archive.org/web/*/" + BROKEN_URL in broken.content[0].value
    assert {t.term for t in broken.tags} == {"link_broken", "action"}
    fee = entries[3]
    assert fee.title == "Fee changed: Cataloging Basics (non-members: 150.00 → 200.00)"
    assert "Fee tier: non-members" in fee.content[0].value
    ids = [e.id for e in entries]
    assert ids[-1].startswith("tag:shelfcheck,2026:libguides.ala.org/lss/education/event/")
    assert len(set(ids)) == len(ids)

    with transaction(filled) as session:
        from shelfcheck.catalog.models import Offering

        course = session.query(Offering).filter_by(title="Cataloging Basics").one()
        record_event(session, "offering_ended", offering=course, provider=course.provider,
                     detected_at=NOW)
    again = feedparser.parse(one(filled, "atom")).entries
    assert again[0].title == "Offering ended: Cataloging Basics"
    assert [e.id for e in again[1:]] == ids


# -- html and json-ld ------------------------------------------------------------------------


def test_html_maintainer_view_flags_broken_links_and_shows_suggestions(filled: Engine) -> None:
    html = one(filled, "html")
    page = lxml.html.fromstring(html)
    assert [h.text_content() for h in page.cssselect("h2.s-lib-box-title")] == [
        "Training Resources", "Competencies"]
    broken = page.cssselect("li.link-broken")
    assert len(broken) == 1
    assert broken[0].cssselect("a")[0].get("href") == BROKEN_URL
    assert "Broken link" in broken[0].text_content() and "HTTP 404" in broken[0].text_content()
    assert message("not_found") in broken[0].text_content()  # the verdict registry's words
    assert f"https://web.archive.org/web/*/{BROKEN_URL}" in [
        a.get("href") for a in broken[0].cssselect(".flag a")]
    moved = page.cssselect("li.link-redirected")[0]
    assert moved.cssselect("a")[0].get("href") == REDIRECTED_URL
    assert [a.get("href") for a in moved.cssselect(".flag a")] == [REDIRECT_TARGET]
    assert "Not checked yet" in page.cssselect("li.link-unknown")[0].text_content()

    items, offerings = graph_items(jsonld_of(html))
    assert [i["name"] for i in items][:3] == [
        "Infopeople", "Library Juice Academy", "ABLE (Alternative Basic Library Education)"]
    assert len(items) == 7 and items[2]["url"] == BROKEN_URL
    by_name = {o["name"]: o for o in offerings}
    assert set(by_name) == UPCOMING | {"ABLE Course 1: Introduction", "On-demand Webinar Archive"}
    webinar = by_name["Managing Difficult Conversations"]
    assert webinar["@type"] == "Event" and webinar["startDate"] == "2027-01-12T12:00:00-08:00"
    assert webinar["offers"] == [{"@type": "Offer", "price": "0.00", "priceCurrency": "USD",
                                  "url": "https://infopeople.org/civicrm/event/info?id=1097&reset=1"}]
    course = by_name["Cataloging Basics"]
    assert course["@type"] == "Course"
    assert course["hasCourseInstance"][0]["startDate"] == "2027-02-01T12:00:00-08:00"
    assert [(o["name"], o["price"]) for o in course["offers"]] == [
        ("ALA members", "175.00"), ("non-members", "200.00")]
    assert "offers" not in by_name["Hosting Book Clubs"]  # unknown fee: no Offer invented
    assert by_name["ABLE Course 1: Introduction"]["@type"] == "Course"


def test_html_public_view_leaves_broken_links_out_and_follows_redirects(filled: Engine) -> None:
    html = one(filled, "html", public=True)
    page = lxml.html.fromstring(html)
    hrefs = [a.get("href") for a in page.cssselect("main a")]
    assert BROKEN_URL not in html.decode() and "ABLE (Alternative" not in page.text_content()
    assert REDIRECT_TARGET in hrefs and REDIRECTED_URL not in hrefs
    assert page.cssselect(".flag") == [] and "Maintainer view" not in page.text_content()
    items, _ = graph_items(jsonld_of(html))
    assert len(items) == 6
    assert BROKEN_URL not in [i.get("url") for i in items]
    assert next(i for i in items if i["name"] == "Library Juice Academy")["url"] == REDIRECT_TARGET


def test_jsonld_alone_is_the_document_the_page_embeds(filled: Engine) -> None:
    for public in (False, True):
        alone = json.loads(one(filled, "jsonld", public=public))
        assert alone == jsonld_of(one(filled, "html", public=public))
        assert alone["@context"] == "https://schema.org"


# -- writing: write_exports and the CLI ------------------------------------------------------------


def test_write_exports_writes_every_chosen_format(filled: Engine, tmp_path: Path) -> None:
    out = tmp_path / "exports"
    with transaction(filled) as session:
        paths = write_exports(session, ["json", "ics", "csv", "json"], out, now=NOW)
    assert [p.name for p in paths] == ["catalog.json", "offerings.ics", "resources.csv",
                                       "offerings.csv"]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    validator().validate(json.loads((out / "catalog.json").read_bytes()))
    with transaction(filled) as session, pytest.raises(UsageError, match="'pdf'"):
        write_exports(session, ["html", "pdf"], tmp_path / "none")
    assert not (tmp_path / "none").exists()  # nothing written when one format is unknown


def test_a_format_that_fails_midway_leaves_every_previous_file(
        filled: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The files are streamed into temporary files and renamed only once all are written."""
    out = tmp_path / "exports"
    with transaction(filled) as session:
        write_exports(session, ["json", "csv"], out, now=NOW)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(self: Any, session: Any) -> dict[str, Any]:
        def chunks() -> Any:
            yield b"<html>"
            raise RuntimeError("the database went away")
        return {"guide.html": chunks()}

    monkeypatch.setattr(get_exporter("html"), "stream", broken)
    with transaction(filled) as session, pytest.raises(RuntimeError, match="went away"):
        write_exports(session, ["json", "csv", "html"], out, now=NOW + timedelta(days=1))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no temporary file left


def test_cli_export_writes_each_format(filled: Engine, db_url: str, cli: Any,
                                       tmp_path: Path) -> None:
    for kind, name in (("json", "catalog.json"), ("ics", "offerings.ics"),
                       ("atom", "changes.atom"), ("html", "guide.html"),
                       ("jsonld", "guide.jsonld")):
        target = tmp_path / "out" / name
        result = cli("--database-url", db_url, "export", "--format", kind, "--out", str(target))
        assert result.exit_code == 0, result.output
        assert result.output.strip() == f"wrote {target}"
        assert target.stat().st_size > 0
    validator().validate(json.loads((tmp_path / "out" / "catalog.json").read_bytes()))
    assert set(calendar_events((tmp_path / "out" / "offerings.ics").read_bytes())) >= {
        "Cataloging Basics"}
    assert not feedparser.parse((tmp_path / "out" / "changes.atom").read_bytes()).bozo

    result = cli("--database-url", db_url, "export", "--format", "csv", "--out", "spread")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "spread").iterdir()) == [
        "offerings.csv", "resources.csv"]

    result = cli("--database-url", db_url, "export", "--format", "html", "--public",
                 "--out", "public.html")
    assert result.exit_code == 0, result.output
    assert BROKEN_URL not in (tmp_path / "public.html").read_text(encoding="utf-8")

    result = cli("--database-url", db_url, "export", "--format", "yaml")
    assert result.exit_code == 2
    assert "unknown export format 'yaml'" in result.output


def test_an_empty_catalog_exports_valid_empty_files(engine: Engine) -> None:
    doc = json.loads(one(engine, "json"))
    validator().validate(doc)
    assert (doc["sections"], doc["providers"], doc["guide"]) == ([], [], {})
    assert calendar_events(one(engine, "ics")) == {}
    feed = feedparser.parse(one(engine, "atom"))
    assert not feed.bozo and feed.entries == []
    items, offerings = graph_items(jsonld_of(one(engine, "html")))
    assert (items, offerings) == ([], [])
    assert [len(f.splitlines()) for f in render(engine, "csv").values()] == [1, 1]


def test_offerings_of_a_provider_dropped_from_the_catalog_are_not_published(
        filled: Engine) -> None:
    with transaction(filled) as session:
        from shelfcheck.catalog.models import Provider

        session.query(Provider).filter_by(slug="webjunction").one().active = False
    assert "Hosting Book Clubs" not in calendar_events(one(filled, "ics"))
    _, offerings = graph_items(json.loads(one(filled, "jsonld")))
    assert {"Hosting Book Clubs", "On-demand Webinar Archive"}.isdisjoint(
        o["name"] for o in offerings)
    assert "webjunction" not in [p["slug"] for p in json.loads(one(filled, "json"))["providers"]]


def test_offerings_of_one_start_keep_their_order_in_the_calendar_and_the_page(
        filled: Engine) -> None:
    """The exports read offerings by start from the database, a chunk at a time; those of one
    start are ordered as before: by provider and key in the calendar, by title on the page."""
    start = at("2027-01-25", 18)
    with transaction(filled) as session:
        for provider, key, title in (("infopeople", "k-3", "Omega Outreach"),
                                     ("lja", "k-2", "Zebra Cataloging"),
                                     ("infopeople", "k-9", "Alpha Outreach"),
                                     ("lja", "k-1", "Middle Metadata")):
            add_offering(session, provider, key, title, start=start,
                         end=start + timedelta(hours=1), fees=[("", "0.00")])
    cal = icalendar.Calendar.from_ical(one(filled, "ics"))
    same = [str(e["summary"]) for e in cal.walk("VEVENT") if e.decoded("dtstart") == start]
    assert same == ["Omega Outreach", "Alpha Outreach", "Middle Metadata", "Zebra Cataloging"]
    starts = [e.decoded("dtstart") for e in cal.walk("VEVENT")]
    assert starts == sorted(starts)

    html = one(filled, "html").decode("utf-8")
    asides = dict(re.findall(r'aria-label="Upcoming training at ([^"]+)">(.*?)</aside>', html,
                             re.S))
    titles = re.findall(r"<li>(?:<a [^>]*>)?([^<:]+)", asides["Infopeople"])
    assert titles.index("Alpha Outreach") + 1 == titles.index("Omega Outreach")


def test_a_provider_with_more_upcoming_offerings_than_shown_counts_the_rest(
        filled: Engine) -> None:
    with transaction(filled) as session:
        for day in range(1, 9):
            start = at(f"2027-03-{day:02d}", 18)
            add_offering(session, "lja", f"extra-{day}", f"Extra {day}", start=start,
                         fees=[("", "0.00")])
    html = one(filled, "html").decode("utf-8")
    body = dict(re.findall(r'aria-label="Upcoming training at ([^"]+)">(.*?)</aside>', html,
                           re.S))["Library Juice Academy"]
    # the JSON course of 2027-02-01 and the first four extras; the other four are counted
    assert body.count("<li>") == 5 and "Extra 4" in body and "Extra 5" not in body
    assert "and 4 more" in body


def test_catalog_json_gives_each_provider_its_own_offerings(filled: Engine) -> None:
    doc = json.loads(one(filled, "json"))
    with transaction(filled) as session:
        expected: dict[str, list[str]] = {}
        for row in offering_rows(session):
            expected.setdefault(row.provider, []).append(row.title)
    for provider in doc["providers"]:
        assert [o["title"] for o in provider["offerings"]] == expected.get(provider["slug"], [])
    assert sum(len(p["offerings"]) for p in doc["providers"]) > 0
