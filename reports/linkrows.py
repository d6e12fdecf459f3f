"""The catalog's links as report rows: the links that are not ok, with their suggestions, and
the resources without a URL. Only links that are not ok are read row by row."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator
from datetime import datetime

from sqlalchemy import ColumnElement, case, exists, func, select
from sqlalchemy.orm import Session

from shelfcheck.catalog.dismissals import Dismissal
from shelfcheck.catalog.models import Link, Provider, Resource, Section
from shelfcheck.catalog.queries import suggestion_for
from shelfcheck.catalog.states import LinkState, ResourceState
from shelfcheck.catalog.verdicts import message_or_none as verdict_message
from shelfcheck.reports.changes import STREAM
from shelfcheck.reports.model import LINK_STATES, LinkRow, NoUrlRow
from shelfcheck.reports.shared import Shared
from shelfcheck.reports.templating import is_web_url


def _in_use() -> ColumnElement[bool]:
    return exists().where(Resource.link_id == Link.id, Resource.state == ResourceState.ACTIVE)


def unchecked_count(session: Session) -> int:
    """Links in use by an active resource that were never checked."""
    query = select(func.count()).select_from(Link).where(Link.state == LinkState.UNKNOWN, _in_use())
    return session.scalar(query) or 0


def link_rows(session: Session, start: datetime, dismissed: dict[int, Dismissal],
              skip: Collection[int] = (), share: Shared | None = None) -> Iterator[LinkRow]:
    """Links that are not ok and used by an active resource: broken, redirected, unverifiable;
    not those of `skip` (the links not checked). `share` keeps one copy of each text."""
    share = share or Shared()
    state_order = case({state: i for i, state in enumerate(LINK_STATES)}, value=Link.state)
    query = (
        select(
            Link.id, Link.url, Link.state, Link.last_verdict, Link.last_http_status,
            Link.last_detail, Link.state_since, Link.first_failed_at, Link.last_checked_at,
            Link.redirect_target, Resource.title, Section.name, Provider.slug,
        )
        .join(Resource, Resource.link_id == Link.id)
        .join(Section, Section.id == Resource.section_id)
        .outerjoin(Provider, Provider.id == Resource.provider_id)
        .where(Link.state.in_(LINK_STATES), Resource.state == ResourceState.ACTIVE)
        .order_by(state_order, Link.state_since.desc().nulls_last(), Link.url,
                  Section.position, Resource.position, Resource.id)
        .execution_options(**STREAM)
    )
    for link_id, group in itertools.groupby(session.execute(query), key=lambda r: r[0]):
        rows = list(group)
        if link_id in skip:
            continue
        (_, url, state, verdict, status, detail, since, first_failed, checked,
         target) = rows[0][:10]
        yield LinkRow(
            url=share(url), state=share(state), verdict=share(verdict),
            verdict_message=verdict_message(verdict), http_status=status, detail=share(detail),
            since=since, first_failed=first_failed, last_checked=checked,
            redirect_target=target, suggestion=_suggestion(url, state, target),
            resources=tuple(share(r[10]) for r in rows),
            sections=share.all(r[11] for r in rows),
            providers=share.all(r[12] for r in rows if r[12]),
            new=since is not None and since >= start,
            dismissed=dismissed.get(link_id),
        )


def _suggestion(url: str, state: str, target: str | None) -> str | None:
    """The redirect target, or a Wayback Machine search link for a broken http(s) URL."""
    suggestion = suggestion_for(Link(url=url, state=state, redirect_target=target))
    if suggestion and state == LinkState.BROKEN and not is_web_url(url):
        return None  # an archive search for javascript: or a typo helps nobody
    return suggestion


def no_url_rows(session: Session) -> Iterator[NoUrlRow]:
    """Active resources without a URL, in guide order."""
    query = (
        select(Resource.title, Section.name, Provider.slug)
        .join(Section, Section.id == Resource.section_id)
        .outerjoin(Provider, Provider.id == Resource.provider_id)
        .where(Resource.state == ResourceState.ACTIVE, Resource.link_id.is_(None))
        .order_by(Section.position, Resource.position, Resource.id)
    )
    for title, section, provider in session.execute(query):
        yield NoUrlRow(title, section, provider)
