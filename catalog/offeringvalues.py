"""How offering values read in events: times in the offering's zone, amounts, schedules."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shelfcheck.catalog.models import Offering


def zoned(value: datetime | None, tz: str | None) -> str | None:
    """`value` in ISO 8601 in the zone `tz` (the local zone without one), or None."""
    if value is None:
        return None
    try:
        return value.astimezone(ZoneInfo(tz) if tz else None).isoformat()
    except (ZoneInfoNotFoundError, ValueError):
        return value.isoformat()


def amount_text(value: Decimal) -> str:
    """A fee amount with two places, as events store it."""
    return f"{value:.2f}"


def has_ended(end: datetime | None, start: datetime | None, now: datetime) -> bool:
    """Whether an offering's end (or, without one, its start) is before `now`."""
    last = end or start
    return last is not None and last < now


def when_text(offering: Offering) -> str:
    """The offering's schedule as a line of text: its start and end, or its schedule kind."""
    if offering.schedule != "scheduled":
        return offering.schedule
    start = zoned(offering.start_at, offering.timezone)
    end = zoned(offering.end_at, offering.timezone)
    return f"{start} – {end}" if end else f"{start}"
