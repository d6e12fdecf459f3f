"""A fixed redirect keeps its history: the link row moves to the URL it redirected to.

`catalog fix` writes a redirected link's target into the catalog file. When that file is synced,
each link in state ``redirected`` whose resource now names the redirect target is renamed to the
target (its checks and events stay with it) and becomes ``ok``, since the target answered when
the redirect was seen: no resource is added or removed.

The sync streams the file, so `FixedRedirects` notes what each section lists as it is synced
(only what concerns the redirected links) and moves the links at the end, once the whole file
is known: the resources that the sync linked to a new row for the target take the moved row,
and that new row goes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shelfcheck.catalog.catalogspec import ResourceSpec
from shelfcheck.catalog.links import link_key
from shelfcheck.catalog.models import Link, Resource, Section, utcnow
from shelfcheck.catalog.states import LinkState


class FixedRedirects:
    """The redirected links whose resources may now name their targets, read before the sync
    writes anything."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.candidates = session.execute(
            select(Section.name, Resource.title, Link.id, Link.url, Link.redirect_target)
            .join(Resource, Resource.link_id == Link.id)
            .join(Section, Section.id == Resource.section_id)
            .where(Link.state == LinkState.REDIRECTED, Link.redirect_target.is_not(None))
        ).all()
        self.old_urls = {url for _s, _t, _i, url, _r in self.candidates}
        self.pairs = {(section, title) for section, title, _i, _u, _r in self.candidates}
        targets = {link_key(target)[0] for _s, _t, _i, _u, target in self.candidates if target}
        # targets with a row of their own before the sync: the resource simply uses that row
        self.taken = set(session.scalars(select(Link.url).where(Link.url.in_(targets)))) \
            if targets else set()
        self.listed: dict[tuple[str, str], str | None] = {}
        self.still_listed: set[str] = set()

    def see(self, section: str, resources: Iterable[ResourceSpec],
            keys: Mapping[str, tuple[str, str]]) -> None:
        """Note a section of the file: the URL of each candidate's resource, and which old
        URLs it still lists (`keys`: each URL's `link_key`)."""
        if not self.candidates:
            return
        for resource in resources:
            if (section, resource.title) in self.pairs:
                self.listed[(section, resource.title)] = resource.url
            if not resource.url:
                continue
            if resource.url in self.old_urls:
                self.still_listed.add(resource.url)
            elif (stored := keys[resource.url][0]) in self.old_urls:
                self.still_listed.add(stored)

    def apply(self) -> list[str]:
        """Rename the redirected links whose resources now name their targets; returns
        "old → new" for each. A link stays when another resource of the file keeps its old URL,
        or when the target already had a row of its own."""
        moves: dict[int, tuple[str, str, str]] = {}
        for section, title, link_id, url, target in self.candidates:
            new_url = self.listed.get((section, title))
            if not new_url or not target or link_id in moves:
                continue
            stored, host = link_key(new_url)
            if stored == url or stored != link_key(target)[0] or url in self.still_listed:
                continue
            moves[link_id] = (url, stored, host)
        session, taken = self.session, self.taken
        now, moved = utcnow(), []
        resources = Resource.__table__
        for link_id, (old, stored, host) in moves.items():
            if stored in taken:
                continue
            taken.add(stored)
            made = session.scalar(select(Link.id).where(Link.url == stored))
            if made is not None:  # created by this sync for the resources naming the target
                session.execute(update(resources).where(resources.c.link_id == made)  # type: ignore[arg-type]
                                .values(link_id=link_id))
                session.execute(delete(Link).where(Link.id == made))
            session.execute(
                update(Link).where(Link.id == link_id).values(
                    url=stored, host=host, state=LinkState.OK, state_since=now,
                    redirect_target=None, last_verdict="ok",
                    last_detail=f"moved here from {old} (a fixed redirect)",
                    etag=None, last_modified=None))
            moved.append(f"{old} → {stored}")
        return moved
