"""The links of the report that are not checked (`check: false`, `link_exclude`): listed apart,
never as a problem, whatever state they last had."""

from __future__ import annotations

import itertools

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelfcheck.catalog.models import Link, Provider, Resource, Section
from shelfcheck.catalog.notchecked import LinkExclude, not_checked
from shelfcheck.catalog.states import ResourceState
from shelfcheck.reports.model import NotCheckedRow


def not_checked_links(session: Session,
                      exclude: LinkExclude) -> tuple[dict[int, str], list[NotCheckedRow]]:
    """The links not checked (id -> reason), and their rows by URL with who uses them."""
    skipped = not_checked(session, exclude)
    rows: list[NotCheckedRow] = []
    ids = sorted(skipped)
    for start in range(0, len(ids), 500):
        query = (
            select(Link.id, Link.url, Link.state, Link.last_checked_at, Resource.title,
                   Section.name, Provider.slug)
            .join(Resource, Resource.link_id == Link.id)
            .join(Section, Section.id == Resource.section_id)
            .outerjoin(Provider, Provider.id == Resource.provider_id)
            .where(Link.id.in_(ids[start:start + 500]), Resource.state == ResourceState.ACTIVE)
            .order_by(Link.id, Section.position, Resource.position, Resource.id)
        )
        for link_id, group in itertools.groupby(session.execute(query), key=lambda r: r[0]):
            found = list(group)
            _id, url, state, checked = found[0][:4]
            rows.append(NotCheckedRow(
                url=url, reason=skipped[link_id], state=state, last_checked=checked,
                resources=tuple(r[4] for r in found),
                sections=tuple(dict.fromkeys(r[5] for r in found)),
                providers=tuple(dict.fromkeys(r[6] for r in found if r[6]))))
    rows.sort(key=lambda row: row.url)
    return skipped, rows
