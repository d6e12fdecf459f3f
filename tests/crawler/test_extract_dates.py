"""Date parsing: every date format of the reference pages, zones, and unscheduled offerings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shelfcheck.crawler.extract.dates import parse_instant, parse_when

NOW = datetime(2026, 11, 26, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "tz", "start", "end", "zone"),
    [
        # infopeople listing (no zone: the recipe's), same day and multi-day
        ("Wed, 02/17/2027 - 12:00 to 13:00", "America/Los_Angeles",
         "2027-02-17T12:00:00-08:00", "2027-02-17T13:00:00-08:00", "America/Los_Angeles"),
        ("Tue, 04/06/2027 - 12:00 to Mon, 05/03/2027 - 16:30", "America/Los_Angeles",
         "2027-04-06T12:00:00-07:00", "2027-05-03T16:30:00-07:00", "America/Los_Angeles"),
        # infopeople event page: ordinals, &nbsp;, "through", end time only on the same day
        ("June 15th, 2027 12:00 PM\u00a0through\u00a0July 12th, 2027 4:30 PM",
         "America/Los_Angeles", "2027-06-15T12:00:00-07:00", "2027-07-12T16:30:00-07:00",
         "America/Los_Angeles"),
        ("March 10th, 2027 12:00 PM through 1:00 PM", "America/Los_Angeles",
         "2027-03-10T12:00:00-08:00", "2027-03-10T13:00:00-08:00", "America/Los_Angeles"),
        # lja: a date range without times (the last day ends at 23:59)
        ("Monday, June 7, 2027 to Sunday, July 4, 2027", "America/Los_Angeles",
         "2027-06-07T00:00:00-07:00", "2027-07-04T23:59:00-07:00", "America/Los_Angeles"),
        # ala-elearning: numeric M/D/YYYY range; a webinar with a named zone
        ("Monday, 4/5/2027 - Monday, 5/3/2027", "America/Chicago",
         "2027-04-05T00:00:00-05:00", "2027-05-03T23:59:00-05:00", "America/Chicago"),
        ("Wednesday, 3/17/2027, 1:00 PM - 2:00 PM Central", "UTC",
         "2027-03-17T13:00:00-05:00", "2027-03-17T14:00:00-05:00", "America/Chicago"),
        # techsoup: Drupal date with a zone label and a GMT offset
        ("Wednesday, January 20, 2027 - 11:00am - 12:00pm - Pacific Standard Time GMT-8:00",
         "UTC", "2027-01-20T11:00:00-08:00", "2027-01-20T12:00:00-08:00", "America/Los_Angeles"),
        ("Wednesday, May 12, 2027 - 11:00am - 12:00pm - Pacific Daylight Time GMT-7:00",
         "UTC", "2027-05-12T11:00:00-07:00", "2027-05-12T12:00:00-07:00", "America/Los_Angeles"),
        # a "Standard Time" label kept in May: the named zone wins over the stale offset
        ("Wednesday, May 15, 2013 - 11:00am - 12:00pm - Pacific Standard Time GMT-8:00",
         "UTC", "2013-05-15T11:00:00-07:00", "2013-05-15T12:00:00-07:00", "America/Los_Angeles"),
        # only an offset
        ("May 15, 2013 - 11:00am - 12:00pm - GMT-8:00", "UTC",
         "2013-05-15T11:00:00-08:00", "2013-05-15T12:00:00-08:00", "-08:00"),
        # webjunction: the first of two renderings is used
        ("January 14, 2027, 3:00 pm Eastern / 12:00 pm Pacific", "UTC",
         "2027-01-14T15:00:00-05:00", None, "America/New_York"),
        # a structured value without a zone (webjunction's itemprop endDate)
        ("2027-01-14T16:00", "America/New_York", "2027-01-14T16:00:00-05:00", None,
         "America/New_York"),
        # research notes: "original date" of a recording
        ("Format: Webinar, original date November 17, 2015", "UTC",
         "2015-11-17T00:00:00+00:00", "2015-11-17T23:59:00+00:00", "UTC"),
    ],
)
def test_date_formats(text: str, tz: str, start: str, end: str | None, zone: str) -> None:
    when = parse_when(text, tz=tz, now=NOW)
    assert when.schedule == "scheduled"
    assert when.start is not None and when.start.isoformat() == start
    assert (when.end.isoformat() if when.end else None) == end
    assert when.timezone == zone
    assert when.raw  # the raw text is kept


def test_year_missing_is_taken_from_the_other_date_or_the_future() -> None:
    when = parse_when("Monday, June 2, to Sunday, June 29", tz="UTC", now=NOW)
    assert when.start is not None and when.start.date().isoformat() == "2027-06-02"
    assert when.end is not None and when.end.date().isoformat() == "2027-06-29"


@pytest.mark.parametrize("text", ["Not currently scheduled", "Dates: TBA",
                                  "No sessions scheduled", "To be announced"])
def test_unscheduled(text: str) -> None:
    when = parse_when(text, tz="UTC", now=NOW)
    assert when.schedule == "unscheduled"
    assert when.start is None and when.end is None
    assert when.raw == text


@pytest.mark.parametrize("text", ["Self-paced", "On demand, about 1 hour", "self paced"])
def test_self_paced(text: str) -> None:
    assert parse_when(text, tz="UTC", now=NOW).schedule == "self-paced"


@pytest.mark.parametrize("text", ["", "One Hour", "Register now"])
def test_no_date_is_unknown(text: str) -> None:
    when = parse_when(text, tz="UTC", now=NOW)
    assert when.schedule == "unknown"
    assert when.start is None


def test_end_before_start_is_dropped() -> None:
    when = parse_when("March 3, 2027, 3:00 pm - 1:00 pm", tz="UTC", now=NOW)
    assert when.start is not None and when.end is None


def test_parse_instant_offsets_and_naive_values() -> None:
    aware = parse_instant("2027-06-15T12:00:00-0700")
    assert aware is not None and aware.isoformat() == "2027-06-15T12:00:00-07:00"
    naive = parse_instant("2027-06-15 12:00", tz="America/Chicago")
    assert naive is not None and naive.utcoffset() is not None
    assert naive.isoformat() == "2027-06-15T12:00:00-05:00"
    assert parse_instant("2027-06-15Z") is not None
    assert parse_instant("soon") is None
