"""`ics`: the upcoming scheduled offerings as an iCalendar feed (RFC 5545, icalendar library).

Each event's UID is derived from provider and offering key (`exports.common.offering_uid`), so a
calendar app updates an event instead of duplicating it; SEQUENCE is the offering's `sequence`,
which the listings crawl bumps on a reschedule or a fee change. Self-paced and unscheduled
offerings are left out; an offering stays in the feed until it has ended.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from operator import attrgetter
from typing import Any

from sqlalchemy.orm import Session

from shelfcheck.catalog.models import utcnow
from shelfcheck.catalog.queries import OfferingRow, guide_meta
from shelfcheck.exports.base import Exporter
from shelfcheck.exports.common import (
    clean_text,
    fee_text,
    local,
    offering_uid,
    one_line,
    upcoming_by_start,
    web_url,
)

PRODID = "-//shelfcheck//upcoming training//EN"


def event_description(row: OfferingRow) -> str:
    """The event text: the provider's excerpt, then provider, format, fee and LSSC approval."""
    lines = []
    if row.description:
        lines += [clean_text(row.description).strip(), ""]
    lines.append(f"Provider: {one_line(row.provider_name)}")
    if row.format:
        lines.append(f"Format: {one_line(row.format)}")
    lines.append(f"Fee: {fee_text(row)}")
    if row.lssc_approved:
        lines.append("LSSC approved: yes")
    if url := web_url(row.url):
        lines += ["", url]
    return "\n".join(lines)


def _event(row: OfferingRow, start: datetime, stamp: datetime) -> Any:
    import icalendar

    event = icalendar.Event()
    event.add("uid", offering_uid(row.provider, row.key))
    event.add("dtstamp", stamp)
    event.add("sequence", row.sequence)
    event.add("summary", one_line(row.title))
    event.add("dtstart", local(start, row.timezone))
    if row.end_at is not None and row.end_at > start:
        event.add("dtend", local(row.end_at, row.timezone))
    if url := web_url(row.url):
        event.add("url", url)
    event.add("description", event_description(row))
    if row.format:
        event.add("categories", [one_line(row.format)])
    event.add("created", row.first_seen_at)
    event.add("status", "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    return event


def render_calendar(session: Session, *, now: datetime | None = None) -> bytes:
    """The iCalendar feed of offerings that are scheduled and not over at `now`."""
    return b"".join(calendar_chunks(session, now=now))


def calendar_chunks(session: Session, *, now: datetime | None = None) -> Iterator[bytes]:
    """The iCalendar feed in chunks: the calendar's head and time zones, then one event at a
    time. The offerings are read twice, as they are used (the span and zones the head needs,
    then the events): neither they nor the calendar's components are ever all held."""
    import icalendar

    now = now or utcnow()

    def events() -> Iterator[tuple[datetime, OfferingRow]]:
        for row in upcoming_by_start(session, now, attrgetter("provider", "key")):
            assert row.start_at is not None
            yield row.start_at, row

    first: datetime | None = None
    last: datetime | None = None
    zones: set[str] = set()
    for start, row in events():
        first = first or start
        last = max(last or start, row.end_at or start)
        zones.add(str(local(start, row.timezone).tzinfo))
    title = one_line(guide_meta(session).get("title")) or "shelfcheck"
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{title}: upcoming training")
    cal.add("x-wr-caldesc", "Upcoming webinars and courses of the guide's providers.")
    cal.add("refresh-interval", timedelta(days=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "P1D")
    # VTIMEZONEs first, in name order, spanning only the years the events use.
    if first is not None and last is not None:
        for tzid in sorted(zones):
            if tzid != "UTC":
                cal.add_component(icalendar.Timezone.from_tzid(
                    tzid, first_date=date(first.year - 1, 1, 1),
                    last_date=date(last.year + 2, 1, 1)))
    head = cal.to_ical()
    yield head[:head.rindex(_END)]
    for start, row in events():
        yield _event(row, start, now).to_ical()
    yield _END


_END = b"END:VCALENDAR\r\n"


class IcsExporter(Exporter):
    """Upcoming offerings for calendar apps."""

    kind = "ics"
    default_name = "offerings.ics"
    description = "upcoming scheduled offerings as an iCalendar feed"

    def stream(self, session: Session) -> Mapping[str, Iterable[bytes]]:
        return {self.default_name: calendar_chunks(session, now=self.now)}

