"""Helpers the export formats share: identities, safe text and URLs, time zones, fees."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from itertools import groupby
from operator import attrgetter
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from shelfcheck.catalog.links import link_key
from shelfcheck.catalog.queries import (
    OfferingRow,
    ResourceRow,
    listed_link_health,
    offering_rows,
)
from shelfcheck.catalog.states import LinkState

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A CSV cell: None as "", formula-like text made inert with a leading ``'``.

    Shared by the CSV export and the CSV report, so web-sourced text stays text in a spreadsheet.
    """
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


# Offering UIDs are UUIDv5 of "<provider slug>\n<offering key>" in this namespace: the same
# offering gives the same UID in every export (iCalendar UID, JSON "uid"), on every machine.
OFFERING_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/shelfcheck/shelfcheck/offering")

# Characters XML 1.0 cannot hold (and lxml refuses): C0 controls but tab/newline/CR, and
# the non-characters U+FFFE/U+FFFF and lone surrogates.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_COURSE_FORMATS = frozenset({"course", "self-paced", "module", "class", "workshop series"})


def offering_uid(provider: str, key: str) -> str:
    """The stable identity of an offering across exports: a UUID from provider and key."""
    return str(uuid.uuid5(OFFERING_NAMESPACE, f"{provider}\n{key}"))


def clean_text(text: str | None) -> str:
    """`text` without characters that XML and calendar files cannot carry; None gives ""."""
    return _NOT_XML.sub("", text) if text else ""


def one_line(text: str | None) -> str:
    """Clean text on one line, whitespace collapsed (for titles and names)."""
    return " ".join(clean_text(text).split())


@lru_cache(maxsize=4096)
def web_url(url: str | None) -> str | None:
    """`url` when it is an absolute http(s) address that may become a link, else None."""
    if not url:
        return None
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if _NOT_XML.search(text) or any(c in text for c in " \t\r\n<>\"'`"):
        return None
    return text


def zone(name: str | None) -> tzinfo:
    """The IANA time zone `name`, or UTC when it is missing or unknown."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


def local(dt: datetime, zone_name: str | None) -> datetime:
    """An aware datetime shown in the offering's own time zone."""
    return dt.astimezone(zone(zone_name))


def published_offerings(session: Session) -> Iterator[OfferingRow]:
    """Active offerings of the providers the catalog still lists, by provider then start,
    read as they are used."""
    return offering_rows(session, listed_only=True)


def upcoming_by_start(session: Session, now: datetime,
                      tie: Callable[[OfferingRow], Any]) -> Iterator[OfferingRow]:
    """The published upcoming offerings, soonest first and those of one start by `tie`, read
    as they are used: only the offerings of one start are held at a time."""
    rows = (row for row in offering_rows(session, listed_only=True, by_start=True)
            if is_upcoming(row, now))
    for _start, group in groupby(rows, key=attrgetter("start_at")):
        yield from sorted(group, key=tie)


def is_course(row: OfferingRow) -> bool:
    """True for courses and self-paced modules, False for one-off events such as webinars."""
    return row.schedule == "self-paced" or (row.format or "").strip().lower() in _COURSE_FORMATS


def is_upcoming(row: OfferingRow, now: datetime) -> bool:
    """A scheduled offering with a start that has not ended (or, without an end, not started)."""
    if row.schedule != "scheduled" or row.start_at is None:
        return False
    return (row.end_at or row.start_at) >= now


def is_current(row: OfferingRow, now: datetime) -> bool:
    """An offering worth publishing: upcoming, or available without a schedule."""
    return row.schedule in ("self-paced", "unscheduled") or is_upcoming(row, now)


def fee_text(row: OfferingRow) -> str:
    """The fee in words: ``ALA members: 45.00 USD; others: 60.00 USD``, ``free`` or unknown."""
    if not row.fee_known or not row.fees:
        return "not stated (see the provider's page)"
    if all(float(f.amount) == 0 for f in row.fees):
        return "free"
    return "; ".join(
        f"{one_line(f.tier) + ': ' if f.tier else ''}{f.amount} {f.currency}" for f in row.fees
    )


@dataclass(frozen=True)
class ResourceView:
    """A resource as a page shows it: the address to link (if any) and its link health."""

    section: str
    title: str
    description: str
    provider: str | None
    provider_name: str | None
    url: str | None  # the catalog's URL, as written
    href: str | None  # the address to link to, http(s) only
    link_state: str
    verdict: str | None
    http_status: int | None
    since: str | None
    redirect_target: str | None
    suggestion: str | None


class LinkPolicy:
    """Turns an address into the href to publish, or None when it must not become a link.

    Maintainer view: any http(s) address. Public view (`public`): an address the link checker
    found broken is dropped, and a permanent redirect is replaced by its target. A resource's
    own address is judged by its row; any other address (a provider's home, an offering) by
    the listed link it normalizes to, looked up once.
    """

    def __init__(self, session: Session, *, public: bool) -> None:
        self.session = session
        self.public = public
        self.known: dict[str, tuple[str, str | None]] = {}

    def __call__(self, url: str | None) -> str | None:
        href = web_url(url)
        if href is None or not self.public:
            return href
        if href not in self.known:
            found = listed_link_health(self.session, link_key(href)[0])
            self.known[href] = found or (LinkState.UNKNOWN, None)
        return self._decide(href, *self.known[href])

    def row_href(self, row: ResourceRow) -> str | None:
        """The href of a resource's own address."""
        href = web_url(row.url)
        if href is None or not self.public or not row.link_url:
            return self(row.url)
        return self._decide(href, row.link_state, redirect_target(row))

    @staticmethod
    def _decide(href: str, state: str, target: str | None) -> str | None:
        if state == LinkState.BROKEN:
            return None
        if state == LinkState.REDIRECTED and target:
            return web_url(target) or href
        return href


def redirect_target(row: ResourceRow) -> str | None:
    """Where a permanently redirected link now points."""
    return row.suggestion if row.link_state == LinkState.REDIRECTED else None


def iter_resource_views(rows: Iterable[ResourceRow], links: LinkPolicy) -> Iterator[ResourceView]:
    """Resources as the guide page shows them, in the view of `links`.

    Maintainer view: every resource under its catalog URL. Public view: broken links are left
    out and a permanent redirect is replaced by its target.
    """
    for row in rows:
        if links.public and row.link_state == LinkState.BROKEN:
            continue
        yield ResourceView(
            section=row.section, title=one_line(row.title), description=clean_text(row.description),
            provider=row.provider, provider_name=row.provider_name, url=row.url,
            href=links.row_href(row), link_state=row.link_state, verdict=row.verdict,
            http_status=row.http_status, since=row.since, redirect_target=redirect_target(row),
            suggestion=row.suggestion,
        )
