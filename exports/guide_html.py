"""`html`: the guide page regenerated from the catalog, with its schema.org JSON-LD embedded.

The default page is for maintainers (broken links flagged, suggestions shown); with `public`
it is for readers (broken links left out, permanent redirects replaced by their targets).
The markup follows LibGuides' boxes, so `catalog import-guide` reads the page back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
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
    is_upcoming,
    iter_resource_views,
    local,
    one_line,
    published_offerings,
    web_url,
)
from shelfcheck.exports.guide_jsonld import guide_jsonld_stream, script_safe
from shelfcheck.exports.jsonstream import iter_json, utf8_chunks


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


def upcoming_by_provider(session: Session, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Each provider's upcoming offerings, soonest first, with the date in the offering's own
    time zone and the fee in words."""
    found: dict[str, list[dict[str, Any]]] = {}
    rows = sorted((r for r in published_offerings(session) if is_upcoming(r, now)),
                  key=lambda r: (r.start_at, r.title))
    for row in rows:
        assert row.start_at is not None
        start = local(row.start_at, row.timezone)
        found.setdefault(row.provider, []).append({
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
            offerings = upcoming.pop(view.provider, []) if view.provider else []
            data["upcoming"] = offerings[:UPCOMING_SHOWN]
            data["upcoming_more"] = max(len(offerings) - UPCOMING_SHOWN, 0)
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
