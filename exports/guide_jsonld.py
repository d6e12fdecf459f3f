"""`jsonld`: schema.org JSON-LD of the guide: an ItemList of the resources, plus a Course or
Event with Offers per current offering. The `html` page embeds the same document."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shelfcheck.catalog.models import Provider, utcnow
from shelfcheck.catalog.queries import (
    OfferingRow,
    guide_meta,
    providers,
    resource_rows,
    resource_state_counts,
)
from shelfcheck.catalog.states import LinkState
from shelfcheck.exports.base import Exporter
from shelfcheck.exports.common import (
    LinkPolicy,
    ResourceView,
    clean_text,
    is_course,
    is_current,
    iter_resource_views,
    local,
    offering_uid,
    one_line,
    published_offerings,
    web_url,
)
from shelfcheck.exports.jsonstream import iter_json, materialize, script_safe, utf8_chunks

SCHEMA_ORG = "https://schema.org"


def _organization(name: str | None, home: str | None, links: LinkPolicy) -> dict[str, Any] | None:
    if not name:
        return None
    org: dict[str, Any] = {"@type": "Organization", "name": one_line(name)}
    if url := links(home):
        org["url"] = url
    return org


def _compact(node: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if v not in (None, "", [])}


def resource_list(guide: Mapping[str, Any], views: Iterable[ResourceView],
                  orgs: Mapping[str, Provider], links: LinkPolicy,
                  count: int | None = None) -> dict[str, Any]:
    """The schema.org ItemList of the guide's resources, in page order.

    With `count` (the number of views) the items are an iterator, made while they are written.
    """
    guide_url = web_url(guide.get("url"))

    def item(position: int, view: ResourceView) -> dict[str, Any]:
        provider = orgs.get(view.provider or "")
        return {
            "@type": "ListItem",
            "position": position,
            "item": _compact({
                "@type": "CreativeWork",
                "name": view.title,
                "url": view.href,
                "description": view.description,
                "genre": view.section,
                "provider": _organization(view.provider_name,
                                          provider.home_url if provider else None, links),
            }),
        }

    items: Iterable[dict[str, Any]] = (item(p, v) for p, v in enumerate(views, start=1))
    if count is None:
        items = list(items)
        count = len(items)
    return {**_compact({
        "@type": "ItemList",
        "@id": f"{guide_url}#resources" if guide_url else None,
        "name": one_line(guide.get("title")) or "Resources",
        "url": guide_url,
    }), "numberOfItems": count, "itemListElement": items}


def offers(row: OfferingRow, links: LinkPolicy) -> list[dict[str, Any]]:
    """One schema.org Offer per fee tier; none when the fee is unknown."""
    if not row.fee_known:
        return []
    return [
        _compact({"@type": "Offer", "name": one_line(f.tier), "price": f.amount,
                  "priceCurrency": f.currency, "url": links(row.url)})
        for f in row.fees
    ]


def offering_node(row: OfferingRow, home: str | None, links: LinkPolicy) -> dict[str, Any]:
    """An Event for a dated session such as a webinar; a Course for courses, self-paced
    modules and anything without a date."""
    uid = offering_uid(row.provider, row.key)
    start = local(row.start_at, row.timezone).isoformat() if row.start_at else None
    end = local(row.end_at, row.timezone).isoformat() if row.end_at else None
    org = _organization(row.provider_name, home, links)
    event = start is not None and row.schedule == "scheduled" and not is_course(row)
    node: dict[str, Any] = {
        "@type": "Event" if event else "Course",
        "@id": f"urn:uuid:{uid}",
        "identifier": uid,
        "name": one_line(row.title),
        "url": links(row.url),
        "description": clean_text(row.description),
    }
    if event:
        node.update({"startDate": start, "endDate": end, "organizer": org,
                     "eventStatus": f"{SCHEMA_ORG}/EventScheduled"})
        if "webinar" in (row.format or "").lower():
            node["eventAttendanceMode"] = f"{SCHEMA_ORG}/OnlineEventAttendanceMode"
            node["location"] = _compact({"@type": "VirtualLocation", "url": links(row.url)})
    else:
        instance = _compact({"@type": "CourseInstance", "startDate": start, "endDate": end})
        node.update({"provider": org, "hasCourseInstance": [instance] if start else None})
    node["offers"] = offers(row, links)
    if row.fee_known and row.fees and all(float(f.amount) == 0 for f in row.fees):
        node["isAccessibleForFree"] = True
    return _compact(node)


def guide_jsonld_stream(session: Session, *, public: bool = False,
                        now: datetime | None = None) -> dict[str, Any]:
    """The JSON-LD document with its resource items as an iterator (`exports.jsonstream`),
    read from the database while the document is written."""
    now = now or utcnow()
    orgs = {p.slug: p for p in providers(session, active_only=False)}
    links = LinkPolicy(session, public=public)
    counts = resource_state_counts(session)
    count = sum(counts.values()) - (counts.get(LinkState.BROKEN, 0) if public else 0)
    items = resource_list(guide_meta(session), iter_resource_views(resource_rows(session), links),
                          orgs, links, count)

    def graph() -> Iterator[dict[str, Any]]:
        yield items
        for row in published_offerings(session):
            if is_current(row, now):
                provider = orgs.get(row.provider)
                yield offering_node(row, provider.home_url if provider else None, links)

    return {"@context": SCHEMA_ORG, "@graph": graph()}


def guide_jsonld(session: Session, *, public: bool = False,
                 now: datetime | None = None) -> dict[str, Any]:
    """The whole JSON-LD document; `public` applies the reader view (see LinkPolicy)."""
    doc: dict[str, Any] = materialize(guide_jsonld_stream(session, public=public, now=now))
    return doc


class JsonLdExporter(Exporter):
    """The guide's schema.org JSON-LD on its own."""

    kind = "jsonld"
    default_name = "guide.jsonld"
    description = "schema.org ItemList of resources, Course/Event with Offer for offerings"

    def stream(self, session: Session) -> Mapping[str, Iterable[bytes]]:
        doc = guide_jsonld_stream(session, public=self.public, now=self.now)
        return {self.default_name: utf8_chunks(script_safe(iter_json(doc)), end="\n")}
