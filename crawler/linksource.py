"""Stream the links a check run covers from the database, host by host, in small pages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, func, not_, select
from sqlalchemy.sql.elements import ColumnElement

from shelfcheck.catalog.models import Link, LinkCheck, Resource
from shelfcheck.catalog.notchecked import (
    LinkExclude,
    checked_link,
    excluded_links,
    unchecked_link,
    wanted,
)
from shelfcheck.catalog.states import LinkState


@dataclass(frozen=True)
class LinkRow:
    """What the spider needs of one link."""

    id: int
    url: str
    host: str
    etag: str | None
    last_modified: str | None
    request_url: str | None = None       # the URL as written in the catalog (one of them)
    catalog_title: str | None = None
    content_baseline: str | None = None
    content_baseline_title: str | None = None


def not_due(checked_after: datetime) -> ColumnElement[bool]:
    """Links that were ok (no failure pending) and last checked after `checked_after`."""
    return and_(Link.state == LinkState.OK, Link.consecutive_failures == 0,
                Link.last_checked_at.is_not(None), Link.last_checked_at > checked_after)


class LinkSource:
    """The links to check: used by an active resource that is not `check: false`, optionally
    of one provider or some ids, and not matched by `exclude` (`link_exclude`).

    `due_before` (the `recheck_every` budget) leaves out the links `not_due` at that time.
    The excluded links are read once, and left out of the host counts and the pages.
    """

    def __init__(self, engine: Engine, *, provider_id: int | None = None,
                 link_ids: Sequence[int] | None = None, page: int = 200,
                 due_before: datetime | None = None,
                 exclude: LinkExclude | None = None) -> None:
        self.engine = engine
        self.page = page
        self.exclude = exclude or LinkExclude()
        self._excluded: dict[int, str] | None = None
        self._scope: list[ColumnElement[bool]] = [checked_link(provider_id)]
        self._unwanted = unchecked_link(provider_id)
        if link_ids is not None:
            self._scope.append(Link.id.in_(list(link_ids)))
            self._unwanted.append(Link.id.in_(list(link_ids)))
        self._where = list(self._scope)
        self._due_before = due_before
        if due_before is not None:
            self._where.append(not_(not_due(due_before)))

    def excluded(self) -> dict[int, str]:
        """The links of this run that `exclude` leaves out: id -> host."""
        if self._excluded is None:
            with self.engine.connect() as conn:
                self._excluded = excluded_links(conn, self.exclude, self._where)
        return self._excluded

    def hosts(self) -> list[tuple[str, int]]:
        """(host, link count) of every host, the busiest first; "" is the invalid URLs."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Link.host, func.count(Link.id)).where(*self._where).group_by(Link.host)
            ).all()
        left_out = Counter(self.excluded().values())
        found = ((h or "", n - left_out[h or ""]) for h, n in rows)
        found = ((h, n) for h, n in found if n > 0)
        return sorted(found, key=lambda r: (-r[1], r[0]))

    def answer_time(self, host: str, sample: int = 50) -> float | None:
        """The median answer time in seconds of `host`'s latest checks, or None if none."""
        with self.engine.connect() as conn:
            times = sorted(t for t in conn.scalars(
                select(LinkCheck.elapsed_ms).join(Link, Link.id == LinkCheck.link_id)
                .where(Link.host == host, LinkCheck.elapsed_ms.is_not(None))
                .order_by(LinkCheck.id.desc()).limit(sample)) if t is not None)
        return times[len(times) // 2] / 1000 if times else None

    def not_checked_count(self) -> int:
        """Links of the scope that are not checked: `check: false`, or excluded."""
        with self.engine.connect() as conn:
            unwanted = int(conn.scalar(select(func.count(Link.id)).where(*self._unwanted)) or 0)
        return unwanted + len(self.excluded())

    def not_due_count(self) -> int:
        """How many links of the scope the recheck budget leaves out of this run."""
        if self._due_before is None:
            return 0
        where = [*self._scope, not_due(self._due_before)]
        with self.engine.connect() as conn:
            count = int(conn.scalar(select(func.count(Link.id)).where(*where)) or 0)
            return count - len(excluded_links(conn, self.exclude, where))

    def links(self, host: str, after: int = 0) -> list[LinkRow]:
        """The next page of `host`'s links with an id above `after`, by id (fewer when some
        are excluded; empty only at the end)."""
        excluded = self.excluded()
        while True:
            rows = self._page(host, after)
            kept = [row for row in rows if row.id not in excluded]
            if kept or len(rows) < self.page:
                return kept
            after = rows[-1].id

    def _page(self, host: str, after: int) -> list[LinkRow]:
        active = (Resource.link_id == Link.id, *wanted())
        as_written = select(func.min(Resource.url)).where(*active).scalar_subquery()
        title = select(func.min(Resource.title)).where(*active).scalar_subquery()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Link.id, Link.url, Link.host, Link.etag, Link.last_modified,
                       as_written, title, Link.content_baseline, Link.content_baseline_title)
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
