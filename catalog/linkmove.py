"""A fixed redirect keeps its history: the link row moves to the URL it redirected to.

`catalog fix` writes a redirected link's target into the catalog file. When that file is synced,
`move_fixed_redirects` runs first: each link in state ``redirected`` whose resource now names the
redirect target is renamed to the target (its checks and events stay with it) and becomes
``ok``, since the target answered when the redirect was seen. The sync that follows then finds
the new URL's row already there and links the resource to it: no resource is added or removed.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shelfcheck.catalog.catalogfile import CatalogSpec
from shelfcheck.catalog.links import link_key
from shelfcheck.catalog.models import Link, Resource, Section, utcnow


def move_fixed_redirects(session: Session, spec: CatalogSpec) -> list[str]:
    """Rename the redirected links whose resources now name their targets; returns
    "old → new" for each. A link stays when another resource of the file keeps its old URL,
    or when the target already has a row of its own (the resource then simply uses that)."""
    candidates = session.execute(
        select(Section.name, Resource.title, Link.id, Link.url, Link.redirect_target)
        .join(Resource, Resource.link_id == Link.id)
        .join(Section, Section.id == Resource.section_id)
        .where(Link.state == "redirected", Link.redirect_target.is_not(None))
    ).all()
    if not candidates:
        return []
    listed = {(s.name, r.title): r.url for s in spec.sections for r in s.resources}
    stored_listed = _still_listed(listed.values(), {url for _s, _t, _i, url, _r in candidates})
    moves: dict[int, tuple[str, str, str]] = {}
    for section, title, link_id, url, target in candidates:
        new_url = listed.get((section, title))
        if not new_url or not target or link_id in moves:
            continue
        stored, host = link_key(new_url)
        if stored == url or stored != link_key(target)[0] or url in stored_listed:
            continue
        moves[link_id] = (url, stored, host)
    taken = set(session.scalars(select(Link.url).where(
        Link.url.in_([stored for _old, stored, _host in moves.values()])))) if moves else set()
    now, moved = utcnow(), []
    for link_id, (old, stored, host) in moves.items():
        if stored in taken:
            continue
        taken.add(stored)
        session.execute(
            update(Link).where(Link.id == link_id).values(
                url=stored, host=host, state="ok", state_since=now, redirect_target=None,
                last_verdict="ok", last_detail=f"moved here from {old} (a fixed redirect)",
                etag=None, last_modified=None))
        moved.append(f"{old} → {stored}")
    return moved


def _still_listed(urls: Iterable[str | None], old_urls: set[str]) -> set[str]:
    """Which of `old_urls` (stored form) the file still lists; only URLs on their hosts are
    normalized, since normalizing 100,000 URLs costs seconds."""
    hosts = {_hostname(url) for url in old_urls}
    found = set()
    for url in urls:
        if not url:
            continue
        if url in old_urls:
            found.add(url)
            continue
        host = _hostname(url)
        if host and host.isascii() and host not in hosts:
            continue
        stored = link_key(url)[0]
        if stored in old_urls:
            found.add(stored)
    return found


def _hostname(url: str) -> str:
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""
