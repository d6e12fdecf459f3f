"""Dismissals: a maintainer says "we know" about a link that is not ok.

A dismissal holds until its date (`until`, inclusive, in `timezone`) or until the link's result
changes (its state, verdict or redirect target), whichever comes first; then the link is reported
again. Whether one holds is decided when it is read (`holds`), so nothing has to clear it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelfcheck.catalog.links import link_key
from shelfcheck.catalog.models import Link, LinkDismissal, Resource
from shelfcheck.catalog.states import LinkState, ResourceState
from shelfcheck.errors import UsageError

DISMISSABLE = (LinkState.BROKEN, LinkState.REDIRECTED, LinkState.UNVERIFIABLE)
"""The link states a dismissal can be given for (ok and never-checked links need none)."""


@dataclass(frozen=True, slots=True)
class Dismissal:
    """A dismissal as the report and the CLI show it."""

    reason: str
    at: datetime
    until: date | None


def holds(dismissal: LinkDismissal, link: Link, today: date) -> bool:
    """True while `dismissal` still applies to `link` on `today`."""
    if dismissal.until is not None and today > dismissal.until:
        return False
    return (dismissal.state, dismissal.verdict, dismissal.redirect_target) == (
        link.state, link.last_verdict, link.redirect_target)


def find_link(session: Session, url: str) -> Link:
    """The catalog's link for `url` (as written or normalized); a UsageError naming it if none."""
    stored, _host = link_key(url)
    link = session.scalar(select(Link).where(Link.url.in_({url.strip(), stored})))
    used = link is not None and session.scalar(
        select(Resource.id)
        .where(Resource.link_id == link.id, Resource.state == ResourceState.ACTIVE)
        .limit(1)) is not None
    if link is None or not used:
        raise UsageError(f"no resource of the catalog uses the link {url!r} "
                         "(see `shelfcheck links` for the links it has)")
    return link


def dismiss(session: Session, url: str, *, reason: str, until: date | None, now: datetime,
            today: date) -> tuple[Link, LinkDismissal]:
    """Dismiss the current result of the link `url`; replaces an earlier dismissal."""
    if not reason.strip():
        raise UsageError("--reason must say why the link is dismissed")
    if until is not None and until < today:
        raise UsageError(f"--until {until.isoformat()} is in the past")
    link = find_link(session, url)
    if link.state not in DISMISSABLE:
        raise UsageError(f"the link {link.url} is {link.state}: only a link that is "
                         f"{', '.join(DISMISSABLE[:-1])} or {DISMISSABLE[-1]} can be dismissed")
    row = session.get(LinkDismissal, link.id)
    if row is None:
        row = LinkDismissal(link_id=link.id)
        session.add(row)
    row.reason, row.at, row.until = reason.strip(), now, until
    row.state, row.verdict, row.redirect_target = (link.state, link.last_verdict,
                                                   link.redirect_target)
    session.flush()
    return link, row


def undismiss(session: Session, url: str) -> tuple[Link, bool]:
    """Remove the dismissal of the link `url`; False when it had none."""
    link = find_link(session, url)
    row = session.get(LinkDismissal, link.id)
    if row is None:
        return link, False
    session.delete(row)
    session.flush()
    return link, True


def dismissals_holding(session: Session, today: date) -> dict[int, Dismissal]:
    """Every dismissal that still holds, by link id."""
    query = select(LinkDismissal, Link).join(Link, Link.id == LinkDismissal.link_id)
    return {
        link.id: Dismissal(row.reason, row.at, row.until)
        for row, link in session.execute(query).all() if holds(row, link, today)
    }
