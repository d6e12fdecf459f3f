"""A fixed catalog database state for the export tests: resources in every link state, offerings
of every schedule, change events, and (on request) hostile web-sourced text.

Everything goes through real sessions: the catalog part through `sync_catalog`, link health,
offerings and events as the link-health and listings code store them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelfcheck.catalog.catalogfile import parse_catalog
from shelfcheck.catalog.events import record_event
from shelfcheck.catalog.links import link_key
from shelfcheck.catalog.models import CrawlRun, FeeTier, Link, Offering, Provider
from shelfcheck.catalog.sync import sync_catalog

NOW = datetime(2027, 1, 4, 7, 0, tzinfo=UTC)
GUIDE = {"title": "Library Support Staff Education and Training",
         "url": "https://libguides.ala.org/lss/education"}

CATALOG: dict[str, Any] = {
    "schema": "shelfcheck.catalogfile/1",
    "guide": GUIDE,
    "providers": [
        {"slug": "infopeople", "name": "Infopeople", "home": "https://infopeople.org/"},
        {"slug": "lja", "name": "Library Juice Academy", "home": "https://libraryjuiceacademy.com/"},
        {"slug": "able", "name": "Idaho Commission for Libraries (ABLE)",
         "home": "https://libraries.idaho.gov/continuing-education/able/"},
        {"slug": "webjunction", "name": "OCLC WebJunction", "home": "https://www.webjunction.org/"},
        {"slug": "a-to-z", "name": "The A to Z", "home": None},
        {"slug": "ala", "name": "American Library Association", "home": "https://www.ala.org/"},
    ],
    "sections": [
        {"name": "Training Resources", "resources": [
            {"title": "Infopeople", "provider": "infopeople", "url": "https://infopeople.org/training",
             "description": "Courses and webinars for library staff; many are free."},
            {"title": "Library Juice Academy", "provider": "lja",
             "url": "https://libraryjuiceacademy.com/",
             "description": "Fee-based online courses on practical topics."},
            {"title": "ABLE (Alternative Basic Library Education)", "provider": "able",
             "url": "https://libraries.idaho.gov/continuing-education/able/",
             "description": "Self-paced library-basics courses."},
            {"title": "The A to Z: Diverse and In-Depth Training", "provider": "a-to-z",
             "url": None, "description": "A paid webinar series; registration needed."},
            {"title": "OCLC WebJunction", "provider": "webjunction",
             "url": "https://www.webjunction.org/",
             "description": "A learning community for library workers."},
        ]},
        {"name": "Competencies", "resources": [
            {"title": "ALA Library Competencies", "provider": "ala",
             "url": "https://www.ala.org/educationcareers/careers/corecomp/corecompetences",
             "description": "Competency statements for library work."},
            {"title": "WebJunction Library Staff Competency Collection (2012)",
             "provider": "webjunction",
             "url": "https://www.webjunction.org/documents/webjunction/"
                    "Library_Staff_Competency_Collections.html",
             "description": "Competency sets published by library organizations."},
        ]},
    ],
}

# url -> (state, verdict, http status, redirect target)
LINK_HEALTH: dict[str, tuple[str, str | None, int | None, str | None]] = {
    "https://infopeople.org/training": ("ok", "ok", 200, None),
    "https://libraryjuiceacademy.com/": ("redirected", "redirected", 301,
                                         "https://libraryjuiceacademy.com/shop/"),
    "https://libraries.idaho.gov/continuing-education/able/": ("broken", "not_found", 404, None),
    "https://www.webjunction.org/": ("unverifiable", "blocked", 403, None),
    "https://www.webjunction.org/documents/webjunction/Library_Staff_Competency_Collections.html":
        ("ok", "ok", 200, None),
}
BROKEN_URL = "https://libraries.idaho.gov/continuing-education/able/"
REDIRECTED_URL = "https://libraryjuiceacademy.com/"
REDIRECT_TARGET = "https://libraryjuiceacademy.com/shop/"

HOSTILE_TITLE = "<script>alert(\"x\")</script> & 'quotes' \"double\""
HOSTILE_URL = "javascript:alert(document.cookie)"  # from the web: offerings, events
# A catalog file may only hold http(s) URLs (catalog sync refuses others), hostile ones included.
HOSTILE_RESOURCE_URL = "https://example.org/<script>alert('url')</script>"
HOSTILE_DESCRIPTION = "</script><img src=x onerror=alert(1)> ]]> =HYPERLINK(\"http://evil\")"
HOSTILE_QUOTE_URL = "https://example.org/search?q=\"><script>alert(1)</script>"
HOSTILE_OFFERING_TITLE = "<b>Bold</b> webinar\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil"
HOSTILE_TIER = "<i>members</i>; \"all\""
HOSTILE_DETAIL = HOSTILE_DESCRIPTION + " \x0b\x1f control characters"


def at(day: str, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC datetime on `day` (YYYY-MM-DD)."""
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


def sync(session: Session, catalog: dict[str, Any]) -> None:
    """Load catalog-file data into the database, as `catalog sync` does."""
    sync_catalog(session, parse_catalog(catalog, "<test>"))


def set_link_health(session: Session, url: str, state: str, verdict: str | None,
                    status: int | None, target: str | None = None,
                    checked: datetime = at("2027-01-03", 2, 0)) -> Link:
    """Give a link the state the link checker would have stored."""
    link = session.scalars(select(Link).where(Link.url == link_key(url)[0])).one()
    link.state, link.last_verdict, link.last_http_status = state, verdict, status
    link.redirect_target = target
    link.last_checked_at = checked
    link.state_since = at("2026-12-20", 2, 0) if state != "ok" else at("2026-11-01", 2, 0)
    return link


def add_offering(session: Session, provider: str, key: str, title: str, *,
                 url: str | None = None, fmt: str | None = "webinar",
                 schedule: str = "scheduled", start: datetime | None = None,
                 end: datetime | None = None, tz: str | None = "America/Los_Angeles",
                 fees: list[tuple[str, str]] | None = None, lssc: bool | None = None,
                 description: str | None = None, state: str = "active",
                 sequence: int = 0) -> Offering:
    """An offering as the listings crawl stores it; `fees` None means an unknown fee."""
    prov = session.scalars(select(Provider).where(Provider.slug == provider)).one()
    offering = Offering(
        provider=prov, key=key, title=title, url=url, format=fmt, schedule=schedule,
        start_at=start, end_at=end, timezone=tz if start else None,
        start_raw=start.isoformat() if start else None, fee_known=fees is not None,
        lssc_approved=lssc, description=description, state=state,
        first_seen_at=at("2026-12-01", 3, 0), last_seen_at=at("2027-01-03", 3, 0),
        sequence=sequence,
    )
    for position, (tier, amount) in enumerate(fees or []):
        offering.fees.append(FeeTier(tier=tier, amount=Decimal(amount), currency="USD",
                                     raw=f"${amount}", position=position))
    session.add(offering)
    session.flush()
    return offering


def populate(session: Session) -> dict[str, Any]:
    """The fixed state; returns the objects tests refer to by name."""
    sync(session, CATALOG)
    links = {url: set_link_health(session, url, *health) for url, health in LINK_HEALTH.items()}
    objs: dict[str, Any] = {"links": links}
    objs["webinar"] = add_offering(
        session, "infopeople", "https://infopeople.org/civicrm/event/info?id=1097",
        "Managing Difficult Conversations", url="https://infopeople.org/civicrm/event/info?id=1097&reset=1",
        start=at("2027-01-12", 20), end=at("2027-01-12", 21), fees=[("", "0.00")],
        description="A free one-hour webinar, with questions.")
    objs["course"] = add_offering(
        session, "infopeople", "https://infopeople.org/civicrm/event/info?id=1081",
        "Cataloging Basics", url="https://infopeople.org/civicrm/event/info?id=1081&reset=1",
        fmt="course", start=at("2027-02-01", 20), end=at("2027-02-26", 23),
        fees=[("ALA members", "175.00"), ("non-members", "200.00")], lssc=True, sequence=2,
        description="Four weeks of online cataloging practice.")
    objs["running"] = add_offering(
        session, "infopeople", "https://infopeople.org/civicrm/event/info?id=1064",
        "Reference Interview Skills", url="https://infopeople.org/civicrm/event/info?id=1064&reset=1",
        fmt="course", start=at("2026-12-01", 20), end=at("2027-01-29", 23), fees=[("", "200.00")])
    objs["lja"] = add_offering(
        session, "lja", "https://libraryjuiceacademy.com/shop/course/252-introduction-to-json/",
        "Introduction to JSON for Librarians",
        url="https://libraryjuiceacademy.com/shop/course/252-introduction-to-json/", fmt="course",
        start=at("2027-02-01", 6), end=at("2027-02-28", 6), tz="America/Chicago",
        fees=[("", "175.00")])
    objs["no_end"] = add_offering(
        session, "webjunction", "https://www.webjunction.org/events/webjunction/book-clubs.html",
        "Hosting Book Clubs", url="https://www.webjunction.org/events/webjunction/book-clubs.html",
        start=at("2027-01-20", 19), tz="UTC", fees=None)
    objs["past"] = add_offering(
        session, "infopeople", "https://infopeople.org/civicrm/event/info?id=1090",
        "Last Month's Webinar", url="https://infopeople.org/civicrm/event/info?id=1090&reset=1",
        start=at("2026-12-10", 20), end=at("2026-12-10", 21), fees=[("", "0.00")])
    objs["self_paced"] = add_offering(
        session, "able", "https://libraries.idaho.gov/forlibs/ce/able/course1/",
        "ABLE Course 1: Introduction", url="https://libraries.idaho.gov/forlibs/ce/able/course1/",
        fmt="self-paced", schedule="self-paced", fees=[("", "0.00")])
    objs["unscheduled"] = add_offering(
        session, "webjunction", "https://www.webjunction.org/on-demand.html",
        "On-demand Webinar Archive", url="https://www.webjunction.org/on-demand.html",
        schedule="unscheduled", fees=[("", "0.00")])
    objs["removed"] = add_offering(
        session, "lja", "https://libraryjuiceacademy.com/shop/course/999-withdrawn/",
        "Withdrawn Course", url="https://libraryjuiceacademy.com/shop/course/999-withdrawn/",
        fmt="course", start=at("2027-03-01", 6), end=at("2027-03-28", 6), fees=[("", "175.00")],
        state="removed")

    run = CrawlRun(kind="links", started_at=at("2027-01-02", 2), finished_at=at("2027-01-02", 3),
                   outcome="ok", stats={})
    listings = CrawlRun(kind="listings", started_at=at("2027-01-03", 3),
                        finished_at=at("2027-01-03", 4), outcome="ok", stats={})
    session.add_all([run, listings])
    session.flush()
    infopeople = objs["course"].provider
    events = [
        record_event(session, "link_broken", run=run, link=links[BROKEN_URL],
                     verdict="not_found", http_status=404, detected_at=at("2027-01-02", 2, 10)),
        record_event(session, "link_redirected", run=run, link=links[REDIRECTED_URL],
                     new=REDIRECT_TARGET, verdict="redirected", http_status=301,
                     detected_at=at("2027-01-02", 2, 11)),
        record_event(session, "fee_changed", run=listings, offering=objs["course"],
                     provider=infopeople, tier="non-members", old="150.00", new="200.00",
                     detected_at=at("2027-01-03", 3, 30)),
        record_event(session, "offering_rescheduled", run=listings, offering=objs["course"],
                     provider=infopeople, old="2027-01-25T20:00:00+00:00",
                     new="2027-02-01T20:00:00+00:00", detected_at=at("2027-01-03", 3, 30)),
        record_event(session, "offering_added", run=listings, offering=objs["lja"],
                     provider=objs["lja"].provider, detected_at=at("2027-01-03", 3, 31)),
        record_event(session, "provider_unreachable", run=listings,
                     provider=objs["no_end"].provider, detail="timeout after 20 s",
                     detected_at=at("2027-01-03", 3, 40)),
    ]
    session.flush()
    objs["events"] = events
    objs["runs"] = [run, listings]
    return objs


def add_hostile(session: Session) -> dict[str, Any]:
    """Web-sourced text that tries to break out of every format."""
    catalog = {**CATALOG, "sections": [*CATALOG["sections"], {
        "name": "Hostile <b>section</b> & co",
        "resources": [
            {"title": HOSTILE_TITLE, "provider": "infopeople", "url": HOSTILE_RESOURCE_URL,
             "description": HOSTILE_DESCRIPTION},
            {"title": "Quote \"breaker\"", "provider": "ala", "url": HOSTILE_QUOTE_URL,
             "description": "=cmd|' /C calc'!A0"},
        ]}]}
    sync(session, catalog)
    offering = add_offering(
        session, "infopeople", "hostile-1", HOSTILE_OFFERING_TITLE, url=HOSTILE_URL,
        start=NOW + timedelta(days=3), end=NOW + timedelta(days=3, hours=1),
        fees=[(HOSTILE_TIER, "10.00")], description=HOSTILE_DESCRIPTION)
    event = record_event(session, "offering_added", offering=offering,
                         provider=offering.provider, title=HOSTILE_TITLE, url=HOSTILE_URL,
                         detail=HOSTILE_DETAIL, detected_at=NOW - timedelta(minutes=5))
    session.flush()
    return {"offering": offering, "event": event}
