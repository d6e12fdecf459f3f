"""Stream the links a check run covers from the database, host by host, in small pages."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, exists, func, not_, select
from sqlalchemy.sql.elements import ColumnElement

from shelfcheck.catalog.models import Link, Resource


@dataclass(frozen=True)
class LinkRow:
    """What the spider needs of one link."""

    id: int
    url: str
    host: str
    etag: str | None
    last_modified: str | None


def not_due(checked_after: datetime) -> ColumnElement[bool]:
    """Links that were ok (no failure pending) and last checked after `checked_after`."""
    return and_(Link.state == "ok", Link.consecutive_failures == 0,
                Link.last_checked_at.is_not(None), Link.last_checked_at > checked_after)


class LinkSource:
    """The active links (used by an active resource), optionally of one provider or some ids.

    `due_before` (the `recheck_every` budget) leaves out the links `not_due` at that time.
    `only_hosts` restricts the source to the hosts one worker of a sharded run owns.
    """

    def __init__(self, engine: Engine, *, provider_id: int | None = None,
                 link_ids: Sequence[int] | None = None, page: int = 200,
                 due_before: datetime | None = None,
                 only_hosts: Collection[str] | None = None) -> None:
        self.engine = engine
        self.page = page
        self.only_hosts = None if only_hosts is None else frozenset(only_hosts)
        used = select(Resource.id).where(Resource.link_id == Link.id,
                                         Resource.state == "active")
        if provider_id is not None:
            used = used.where(Resource.provider_id == provider_id)
        self._scope: list[ColumnElement[bool]] = [exists(used)]
        if link_ids is not None:
            self._scope.append(Link.id.in_(list(link_ids)))
        self._where = list(self._scope)
        self._due_before = due_before
        if due_before is not None:
            self._where.append(not_(not_due(due_before)))

    def hosts(self) -> list[tuple[str, int]]:
        """(host, link count) of every host, the busiest first; "" is the invalid URLs."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Link.host, func.count(Link.id)).where(*self._where).group_by(Link.host)
            ).all()
        found = ((h or "", n) for h, n in rows)
        if self.only_hosts is not None:
            found = ((h, n) for h, n in found if h in self.only_hosts)
        return sorted(found, key=lambda r: (-r[1], r[0]))

    def not_due_count(self) -> int:
        """How many links of the scope the recheck budget leaves out of this run."""
        if self._due_before is None:
            return 0
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count(Link.id)).where(
                *self._scope, not_due(self._due_before))) or 0)

    def links(self, host: str, after: int = 0) -> list[LinkRow]:
        """The next page of `host`'s links with an id above `after`, by id."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Link.id, Link.url, Link.host, Link.etag, Link.last_modified)
                .where(*self._where, Link.host == host, Link.id > after)
                .order_by(Link.id)
                .limit(self.page)
            ).all()
        return [LinkRow(*row) for row in rows]

    def iter_host(self, host: str) -> Iterator[LinkRow]:
        """Every link of `host`, one page at a time."""
        after = 0
        while True:
            rows = self.links(host, after)
            if not rows:
                return
            yield from rows
            after = rows[-1].id
