"""Links: one row per normalized URL, shared by the resources that use it."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from shelfcheck.catalog.models import Link
from shelfcheck.catalog.states import LinkState
from shelfcheck.catalog.urlnorm import InvalidURL, host_of, normalize_url

LOOKUP_BATCH = 100
"""URLs per `IN (...)` query of `link_ids` (small enough for an index scan on PostgreSQL)."""


def link_key(url: str) -> tuple[str, str]:
    """The (stored URL, host) of a catalog URL; an invalid URL is kept as written."""
    try:
        normalized = normalize_url(url)
    except InvalidURL:
        return url.strip(), ""
    return normalized, host_of(normalized)


def link_ids(session: Session, keys: Mapping[str, tuple[str, str]]) -> dict[str, int]:
    """Catalog URL -> link id for a batch of URLs and their `link_key`s: the batch's links are
    read in a query per `LOOKUP_BATCH` and the new ones (state `unknown`) inserted in one
    statement, so a bulk load holds no map of every link."""
    hosts = {stored: host for stored, host in keys.values()}
    wanted = list(hosts)
    found: dict[str, int] = {}
    for start in range(0, len(wanted), LOOKUP_BATCH):
        rows = session.execute(
            select(Link.url, Link.id).where(Link.url.in_(wanted[start:start + LOOKUP_BATCH])))
        found.update((url, id_) for url, id_ in rows)
    new = [stored for stored in wanted if stored not in found]
    if new:
        table = Link.__table__
        rows = session.execute(
            insert(table).returning(table.c.url, table.c.id),  # type: ignore[arg-type]
            [{"url": stored, "host": hosts[stored], "state": LinkState.UNKNOWN,
              "consecutive_failures": 0} for stored in new])
        found.update((url, id_) for url, id_ in rows)
    return {url: found[stored] for url, (stored, _host) in keys.items()}


def get_or_create_link(session: Session, url: str) -> Link:
    """The Link row for `url`, created (state `unknown`) if it is new."""
    stored, host = link_key(url)
    link = session.scalar(select(Link).where(Link.url == stored))
    if link is None:
        link = Link(url=stored, host=host, state=LinkState.UNKNOWN, consecutive_failures=0)
        session.add(link)
        session.flush()
    return link
