"""iCalendar feeds (CiviCRM publishes one): VEVENTs matched to listed items by URL."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Any

from shelfcheck.catalog.urlnorm import InvalidURL, normalize_url
from shelfcheck.crawler.extract.dates import zone
from shelfcheck.crawler.extract.model import Candidate
from shelfcheck.crawler.extract.text import clean

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedEvent:
    """One VEVENT: what it says about an offering."""

    uid: str
    url: str | None
    summary: str
    start: datetime | None
    end: datetime | None
    start_raw: str
    end_raw: str
    categories: tuple[str, ...]
    cancelled: bool

    @property
    def key(self) -> str | None:
        """The normalized URL the event points to."""
        if not self.url:
            return None
        try:
            return normalize_url(self.url)
        except InvalidURL:
            return None


def _aware(value: Any, tz: tzinfo, *, end: bool) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59) if end else time(0, 0), tzinfo=tz)
    return None


def parse_feed(body: bytes | str, *, tz: str = "UTC") -> list[FeedEvent]:
    """The VEVENTs of an iCalendar feed; dates without a zone use X-WR-TIMEZONE, else `tz`.

    Raises ValueError when the body is not iCalendar.
    """
    import icalendar

    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except Exception as exc:  # icalendar raises ValueError and others on bad input
        raise ValueError(f"not an iCalendar feed: {exc}") from None
    default = zone(str(calendar.get("X-WR-TIMEZONE") or tz))
    events: list[FeedEvent] = []
    for component in calendar.walk("VEVENT"):
        start_prop = component.get("DTSTART")
        end_prop = component.get("DTEND")
        start = _aware(start_prop.dt, default, end=False) if start_prop is not None else None
        end = _aware(end_prop.dt, default, end=True) if end_prop is not None else None
        categories: list[str] = []
        cats = component.get("CATEGORIES")
        for cat in cats if isinstance(cats, list) else [cats] if cats is not None else []:
            categories.extend(str(c) for c in getattr(cat, "cats", [cat]))
        events.append(FeedEvent(
            uid=str(component.get("UID", "")),
            url=str(component.get("URL")) if component.get("URL") else None,
            summary=clean(str(component.get("SUMMARY", ""))),
            start=start,
            end=end,
            start_raw=start_prop.to_ical().decode() if start_prop is not None else "",
            end_raw=end_prop.to_ical().decode() if end_prop is not None else "",
            categories=tuple(categories),
            cancelled=str(component.get("STATUS", "")).upper() == "CANCELLED",
        ))
    return events


def feed_candidates(link: str | None, events: list[FeedEvent]) -> list[Candidate]:
    """Candidates from the feed event whose URL is the item's URL."""
    if not link:
        return []
    try:
        key = normalize_url(link)
    except InvalidURL:
        return []
    for event in events:
        if event.key != key:
            continue
        out = []
        if event.summary:
            out.append(Candidate("title", event.summary, "ical", "VEVENT SUMMARY", event.summary))
        if event.start is not None:
            out.append(Candidate("start", event.start, "ical", "VEVENT DTSTART", event.start_raw))
        if event.end is not None:
            out.append(Candidate("end", event.end, "ical", "VEVENT DTEND", event.end_raw))
        if event.cancelled:
            out.append(Candidate("cancelled", True, "ical", "VEVENT STATUS", "CANCELLED"))
        return out
    return []
