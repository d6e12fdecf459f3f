"""Dates: schedule text or structured values to aware start/end datetimes, raw text kept.

`parse_when` reads the date formats of the providers' pages:
- "June 15th, 2027 12:00 PM through July 12th, 2027 4:30 PM", "March 10th, 2027 12:00 PM through
  1:00 PM" (the end on the same day);
- "Wed, 02/17/2027 - 12:00 to 13:00", "Monday, 4/5/2027 - Monday, 5/3/2027" (numeric, `date_order`);
- "Wednesday, 3/17/2027, 1:00 PM - 2:00 PM Central", "January 14, 2027, 3:00 pm Eastern / 12:00 pm
  Pacific" (the first rendering is used), "Wednesday, January 20, 2027 - 11:00am - 12:00pm -
  Pacific Standard Time GMT-8:00";
- "Not currently scheduled", "TBA" (unscheduled), "Self-paced" / "on demand" (self-paced).

A named US zone ("Pacific", "Central Time", "EST") becomes its IANA zone, since sites keep
"Standard Time" labels all year; a bare "GMT-8:00" offset is used only when no zone is named.
Without either, the recipe's time zone applies. A date without a time starts at 00:00 and ends
at 23:59 local time. Token values are parsed with dateparser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dateparser

from shelfcheck.crawler.extract.text import clean

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_DATE = re.compile(
    r"(?P<iso>\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)"
    r"|(?P<num>\b\d{1,2}/\d{1,2}/\d{2,4}\b)"
    rf"|(?P<mdy>\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}}\b)?)"
    rf"|(?P<dmy>\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:,?\s+\d{{4}}\b)?)",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b(?:(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ap>[ap])\.?\s?m\b\.?|(?P<h24>\d{1,2}):(?P<m24>\d{2})\b"
    r"|(?P<noon>noon|midday|midnight))",
    re.IGNORECASE,
)
_WEEKDAY = re.compile(
    r"\b(?:Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun)(?:day|sday|nesday|urday|rsday)?\b\.?,?",
    re.IGNORECASE,
)
_ORDINAL = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b", re.IGNORECASE)
UNSCHEDULED = re.compile(
    r"not\s+(?:currently|yet)\s+scheduled|\bno\s+(?:upcoming\s+|current\s+)?(?:sessions?|dates?)"
    r"|\bto\s+be\s+(?:announced|determined|scheduled)\b|\bTBA\b|\bTBD\b|\bdates?\s+coming\s+soon"
    r"|\bnot\s+scheduled\b|\bno\s+longer\s+offered\b",
    re.IGNORECASE,
)
SELF_PACED = re.compile(r"self[\s-]?paced|on[\s-]demand|at\s+your\s+own\s+pace|\banytime\b",
                        re.IGNORECASE)
_ZONE_NAMES = {
    "eastern": "America/New_York", "central": "America/Chicago", "mountain": "America/Denver",
    "pacific": "America/Los_Angeles", "alaska": "America/Anchorage", "hawaii": "Pacific/Honolulu",
    "et": "America/New_York", "est": "America/New_York", "edt": "America/New_York",
    "ct": "America/Chicago", "cst": "America/Chicago", "cdt": "America/Chicago",
    "mt": "America/Denver", "mst": "America/Denver", "mdt": "America/Denver",
    "pt": "America/Los_Angeles", "pst": "America/Los_Angeles", "pdt": "America/Los_Angeles",
    "utc": "UTC", "gmt": "UTC",
}
_ZONE = re.compile(
    r"\b(?P<name>Eastern|Central|Mountain|Pacific|Alaska|Hawaii)(?:\s+(?:Standard|Daylight))?"
    r"(?:\s+Time)?\b|\b(?P<abbr>ET|EST|EDT|CT|CST|CDT|MT|MST|MDT|PT|PST|PDT)\b"
    r"|\b(?:GMT|UTC)\s*(?P<offset>[+-]\s*\d{1,2}(?::?\d{2})?)?",
)
_ALTERNATIVE = re.compile(r"\s+/\s+(?=[^/]*\d{1,2}(?::\d{2})?\s*[ap]\.?m)", re.IGNORECASE)


@dataclass(frozen=True)
class When:
    """A parsed schedule: `schedule` is scheduled | unscheduled | self-paced | unknown."""

    schedule: str
    start: datetime | None = None
    end: datetime | None = None
    timezone: str | None = None
    raw: str = ""


def zone(name: str | None) -> tzinfo:
    """The tzinfo of an IANA name or "+HH:MM" offset (UTC when empty or unknown)."""
    if not name:
        return UTC
    match = re.fullmatch(r"(?:UTC|GMT)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?", name.strip())
    if match:
        sign = -1 if match.group(1) == "-" else 1
        delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))
        return timezone(sign * delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _detect_zone(text: str) -> str | None:
    offset_zone: str | None = None
    for match in _ZONE.finditer(text):
        if match.group("name"):
            return _ZONE_NAMES[match.group("name").lower()]
        if match.group("abbr"):
            return _ZONE_NAMES[match.group("abbr").lower()]
        if offset_zone is None:
            offset = (match.group("offset") or "").replace(" ", "")
            if offset:
                hours, _, minutes = offset[1:].partition(":")
                offset_zone = f"{offset[0]}{int(hours):02d}:{int(minutes or 0):02d}"
            else:
                offset_zone = "UTC"
    return offset_zone


def parse_instant(value: str, *, tz: str = "UTC") -> datetime | None:
    """An ISO 8601 value (structured data); naive values are read in `tz`; dates at 00:00."""
    text = clean(value)
    if not text:
        return None
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text.replace("Z", "+00:00"))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        found = dateparser.parse(text, languages=["en"],
                                 settings={"RETURN_AS_TIMEZONE_AWARE": False})
        if found is None:
            return None
        parsed = found
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(tz))
    return parsed


def _time_of(match: re.Match[str]) -> time:
    if match.group("noon"):
        return time(0, 0) if match.group("noon").lower() == "midnight" else time(12, 0)
    if match.group("h24") is not None:
        return time(int(match.group("h24")) % 24, int(match.group("m24")))
    hour = int(match.group("h")) % 12 + (12 if match.group("ap").lower() == "p" else 0)
    return time(hour, int(match.group("m") or 0))


def _day(token: str, *, date_order: str, now: datetime) -> datetime | None:
    text = _ORDINAL.sub(r"\1", token).replace(",", " ")
    settings = {
        "DATE_ORDER": date_order,
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "RETURN_AS_TIMEZONE_AWARE": False,
        "PREFER_DAY_OF_MONTH": "first",
        "REQUIRE_PARTS": ["day", "month"],
    }
    return dateparser.parse(text, languages=["en"], settings=settings)


def parse_when(
    text: str | None,
    *,
    tz: str = "UTC",
    date_order: str = "MDY",
    now: datetime | None = None,
) -> When:
    """Parse a schedule text (see the module docstring); `tz` applies when no zone is named."""
    raw = clean(text)
    if not raw:
        return When("unknown", raw=raw)
    if UNSCHEDULED.search(raw):
        return When("unscheduled", raw=raw)
    now = now or datetime.now(UTC)
    body = _ALTERNATIVE.split(raw, maxsplit=1)[0]
    zone_name = _detect_zone(body) or tz
    body = _WEEKDAY.sub(" ", body)

    dates = list(_DATE.finditer(body))
    if not dates:
        if SELF_PACED.search(raw):
            return When("self-paced", raw=raw)
        return When("unknown", raw=raw)
    if dates[0].group("iso") and len(dates[0].group("iso")) > 10:
        iso_start = parse_instant(dates[0].group("iso"), tz=zone_name)
        iso_end = parse_instant(dates[1].group("iso"), tz=zone_name) if (
            len(dates) > 1 and dates[1].group("iso")) else None
        return When("scheduled", iso_start, iso_end, zone_name, raw)

    def times_between(lo: int, hi: int) -> list[time]:
        return [_time_of(m) for m in _TIME.finditer(body, lo, hi)
                if not _inside_date(m, dates)]

    first_day = _day(dates[0].group(), date_order=date_order, now=now)
    if first_day is None:
        return When("unknown", raw=raw)
    next_start = dates[1].start() if len(dates) > 1 else len(body)
    first_times = times_between(dates[0].end(), next_start)
    local = zone(zone_name)
    start = datetime.combine(first_day.date(), first_times[0] if first_times else time(0, 0),
                             tzinfo=local)
    end: datetime | None = None
    if len(dates) > 1:
        second_day = _day(dates[1].group(), date_order=date_order, now=now)
        if second_day is not None:
            if not re.search(r"\d{4}", dates[1].group()) and re.search(r"\d{4}", dates[0].group()):
                second_day = second_day.replace(year=first_day.year)
                if second_day.date() < first_day.date():
                    second_day = second_day.replace(year=first_day.year + 1)
            second_times = times_between(dates[1].end(), len(body))
            end = datetime.combine(second_day.date(),
                                   second_times[0] if second_times else time(23, 59),
                                   tzinfo=local)
    elif len(first_times) > 1:
        end = datetime.combine(first_day.date(), first_times[1], tzinfo=local)
    elif not first_times:
        end = datetime.combine(first_day.date(), time(23, 59), tzinfo=local)
    if end is not None and end < start:
        end = None
    return When("scheduled", start, end, zone_name, raw)


def _inside_date(match: re.Match[str], dates: list[re.Match[str]]) -> bool:
    return any(d.start() <= match.start() < d.end() for d in dates)
