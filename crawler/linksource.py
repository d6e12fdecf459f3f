"""Stream the links a check run covers from the database, host by host, in small pages."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, exists, func, select
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
    request_url: str | None = None       # the URL as written in the catalog (one of them)
    catalog_title: str | None = None
    content_baseline: str | None = None
    content_baseline_title: str | None = None


class LinkSource:
    """The active links (used by an active resource), optionally of one provider or some ids."""

    def __init__(self, engine: Engine, *, provider_id: int | None = None,
                 link_ids: Sequence[int] | None = None, page: int = 200) -> None:
        self.engine = engine
        self.page = page
        used = select(Resource.id).where(Resource.link_id == Link.id,
                                         Resource.state == "active")
        if provider_id is not None:
            used = used.where(Resource.provider_id == provider_id)
        self._where: list[ColumnElement[bool]] = [exists(used)]
        if link_ids is not None:
            self._where.append(Link.id.in_(list(link_ids)))

    def hosts(self) -> list[tuple[str, int]]:
        """(host, link count) of every host, the busiest first; "" is the invalid URLs."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Link.host, func.count(Link.id)).where(*self._where).group_by(Link.host)
            ).all()
        return sorted(((h or "", n) for h, n in rows), key=lambda r: (-r[1], r[0]))

    def links(self, host: str, after: int = 0) -> list[LinkRow]:
        """The next page of `host`'s links with an id above `after`, by id."""
        active = (Resource.link_id == Link.id, Resource.state == "active")
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
