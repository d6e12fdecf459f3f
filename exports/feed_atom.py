"""`atom`: the change events as an Atom feed (RFC 4287, feedgen), newest first.

Entry ids are tag URIs (RFC 4151) that never change for an event:
``tag:shelfcheck,2026:<guide host and path>/event/<event id>`` (``tag:shelfcheck,2026:event/<id>``
when the catalog names no guide URL); the feed's id ends in ``/events`` instead. Web-sourced text
goes into the entry content as HTML rendered by Jinja2 with autoescape, and only http(s)
addresses become links.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy.orm import Session

from shelfcheck.catalog.models import utcnow
from shelfcheck.catalog.queries import EventRow, change_event_rows, guide_meta
from shelfcheck.exports.base import Exporter
from shelfcheck.exports.common import clean_text, one_line, web_url

TAG_AUTHORITY = "tag:shelfcheck,2026:"
MAX_ENTRIES = 500


def tag_scope(guide_url: str | None) -> str:
    """The part of the tag URIs that names the guide: its host and path, or ""."""
    url = web_url(guide_url)
    if not url:
        return ""
    parts = urlsplit(url)
    scope = f"{parts.netloc.lower()}{parts.path}".rstrip("/")
    return quote(scope, safe="/:@!$'()*+,;=-._~") + "/"


def entry_id(scope: str, event_id: int) -> str:
    """The stable Atom id of one change event."""
    return f"{TAG_AUTHORITY}{scope}event/{event_id}"


def entry_title(event: EventRow) -> str:
    """``Link broken: Infopeople (not_found, HTTP 404)``, ``Fee changed: Title (tier: 45 → 60)``."""
    label = event.kind.replace("_", " ").capitalize()
    subject = (event.title or "; ".join(event.resources) or event.url or event.provider_name
               or "")
    text = f"{label}: {subject}" if subject else label
    if event.kind == "fee_changed":
        tier = f"{event.tier}: " if event.tier else ""
        text += f" ({tier}{event.old or 'none'} → {event.new or 'none'})"
    elif event.kind == "offering_rescheduled" and (event.old or event.new):
        text += f" ({event.old or '?'} → {event.new or '?'})"
    elif event.kind == "link_redirected" and event.new:
        text += f" → {event.new}"
    elif event.kind in ("link_broken", "link_unverifiable") and event.verdict:
        status = f", HTTP {event.http_status}" if event.http_status else ""
        text += f" ({event.verdict}{status})"
    return one_line(text)


def entry_content(event: EventRow) -> str:
    """The entry's HTML: what happened and every detail the event holds, all escaped."""
    from shelfcheck.exports.guide_html import environment

    url_href = web_url(event.url)
    html = environment().get_template("atom_entry.html.j2").render(
        e=event,
        url_href=url_href,
        new_href=web_url(event.new) if event.kind == "link_redirected" else None,
        wayback_href=f"https://web.archive.org/web/*/{url_href}"
        if event.kind == "link_broken" and url_href else None,
        detected=event.detected_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
    return clean_text(html)


def render_feed(session: Session, *, now: datetime | None = None,
                limit: int = MAX_ENTRIES) -> bytes:
    """The Atom feed of the newest `limit` change events."""
    from feedgen.feed import FeedGenerator

    from shelfcheck import PROJECT_URL, __version__

    guide = guide_meta(session)
    scope = tag_scope(guide.get("url"))
    events = change_event_rows(session, limit=limit)
    title = one_line(guide.get("title")) or "shelfcheck"

    feed = FeedGenerator()
    feed.id(f"{TAG_AUTHORITY}{scope}events")
    feed.title(f"{title}: changes")
    feed.subtitle("Broken links, redirects, new, changed and removed offerings, and fee changes "
                  "found by shelfcheck.")
    feed.author({"name": "shelfcheck"})
    if guide_url := web_url(guide.get("url")):
        feed.link(href=guide_url, rel="alternate")
    feed.generator("shelfcheck", version=__version__, uri=PROJECT_URL)
    feed.updated(events[0].detected_at if events else (now or utcnow()))
    for event in events:
        entry: Any = feed.add_entry(order="append")
        entry.id(entry_id(scope, event.id))
        entry.title(entry_title(event))
        entry.updated(event.detected_at)
        entry.published(event.detected_at)
        entry.content(entry_content(event), type="html")
        if href := web_url(event.url):
            entry.link(href=href, rel="alternate")
        entry.category(term=event.kind, scheme=f"{TAG_AUTHORITY}kind",
                       label=event.kind.replace("_", " "))
        entry.category(term=event.severity, scheme=f"{TAG_AUTHORITY}severity")
    data: bytes = feed.atom_str(pretty=True)
    return data


class AtomExporter(Exporter):
    """Change events for feed readers."""

    kind = "atom"
    default_name = "changes.atom"
    description = "change events as an Atom feed, newest first"

    def render(self, session: Session) -> Mapping[str, bytes]:
        return {self.default_name: render_feed(session, now=self.now)}

