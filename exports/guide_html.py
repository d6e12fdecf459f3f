"""`html`: the guide page regenerated from the catalog, with its schema.org JSON-LD embedded.

The default page is for maintainers (broken links flagged, suggestions shown); with `public`
it is for readers (broken links left out, permanent redirects replaced by their targets).
The markup follows LibGuides' boxes, so `catalog import-guide` reads the page back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from itertools import groupby
from operator import attrgetter
from typing import Any

import jinja2
from markupsafe import Markup
from sqlalchemy.orm import Session

from shelfcheck.catalog.models import utcnow
from shelfcheck.catalog.queries import guide_meta, resource_rows, resource_state_counts
from shelfcheck.catalog.states import RESOURCE_LINK_STATES, LinkState
from shelfcheck.catalog.verdicts import message_or_none as verdict_message
from shelfcheck.exports.base import Exporter
from shelfcheck.exports.common import (
    LinkPolicy,
    ResourceView,
    fee_text,
    iter_resource_views,
    local,
    one_line,
    upcoming_by_start,
    web_url,
)
from shelfcheck.exports.guide_jsonld import guide_jsonld_stream
from shelfcheck.exports.jsonstream import iter_json, script_safe, utf8_chunks


@cache
def environment() -> jinja2.Environment:
    """The Jinja2 environment of the export templates; autoescape is always on."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("shelfcheck.exports", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    return env


def _template_resource(view: ResourceView) -> dict[str, Any]:
    data = dict(vars(view))
    broken = view.link_state == LinkState.BROKEN
    data["suggestion_href"] = web_url(view.suggestion) if broken else None
    data["target_href"] = web_url(view.redirect_target)
    data["verdict_message"] = verdict_message(view.verdict)
    return data


UPCOMING_SHOWN = 5
"""Upcoming offerings listed per provider; the rest are counted ("and 3 more")."""


@dataclass
class Upcoming:
    """A provider's first `UPCOMING_SHOWN` upcoming offerings, and how many more it has."""

    shown: list[dict[str, Any]] = field(default_factory=list)
    more: int = 0


def upcoming_by_provider(session: Session, now: datetime) -> dict[str, Upcoming]:
    """Each provider's upcoming offerings, soonest first, with the date in the offering's own
    time zone and the fee in words; past the first few, only counted."""
    found: dict[str, Upcoming] = {}
    for row in upcoming_by_start(session, now, attrgetter("title")):
        assert row.start_at is not None
        upcoming = found.setdefault(row.provider, Upcoming())
        if len(upcoming.shown) == UPCOMING_SHOWN:
            upcoming.more += 1
            continue
        start = local(row.start_at, row.timezone)
        upcoming.shown.append({
            "title": one_line(row.title), "href": web_url(row.url),
            "start": start.isoformat(), "when": start.strftime("%Y-%m-%d %H:%M %Z").strip(),
            "fee": fee_text(row),
        })
    return found


def guide_page_pieces(session: Session, *, public: bool = False,
                      now: datetime | None = None) -> Iterator[str]:
    """The guide page as pieces of HTML text, read from the database while it is written.

    Under the first resource of each provider with upcoming offerings, both views list them
    (an <aside>: `import-guide` reads them as no resource)."""
    now = (now or utcnow()).astimezone(UTC)
    guide = guide_meta(session)
    counts = resource_state_counts(session)
    jsonld = script_safe(iter_json(guide_jsonld_stream(session, public=public, now=now),
                                   indent=None))
    upcoming = upcoming_by_provider(session, now)

    def resources(views: Iterable[ResourceView]) -> Iterator[dict[str, Any]]:
        for view in views:
            data = _template_resource(view)
            offerings = upcoming.pop(view.provider, None) if view.provider else None
            data["upcoming"] = offerings.shown if offerings else []
            data["upcoming_more"] = offerings.more if offerings else 0
            yield data

    views = iter_resource_views(resource_rows(session), LinkPolicy(session, public=public))
    sections = ({"name": name, "resources": resources(group)}
                for name, group in groupby(views, key=attrgetter("section")))
    summary = {state: counts.get(state, 0) for state in RESOURCE_LINK_STATES}
    summary["resources"] = sum(counts.values())
    return environment().get_template("guide.html.j2").generate(
        guide={"title": one_line(guide.get("title")) or "Guide", "url": web_url(guide.get("url"))},
        sections=sections,
        public=public,
        counts=summary,
        generated=now.strftime("%Y-%m-%d %H:%M UTC"),
        jsonld=map(Markup, jsonld),
    )


class HtmlExporter(Exporter):
    """The regenerated guide page, written as it is rendered."""

    kind = "html"
    default_name = "guide.html"
    description = "the guide page (maintainer view, or the public view for readers) with JSON-LD"

    def stream(self, session: Session) -> Mapping[str, Iterable[bytes]]:
        pieces = guide_page_pieces(session, public=self.public, now=self.now)
        return {self.default_name: utf8_chunks(pieces)}
