"""Redirect sinks: one target that several catalog links of a run are redirected to.

Removed pages are often sent to one catch-all page (a course list, a "we moved" page). When at
least `SINK_LINKS` different catalog links of one run redirect to the same URL, and that URL is not
itself a catalog link, their checks become `redirect_to_home`: the target is never offered as the
fix. Run once at the end of a link check, after every shard's checks are stored
(`crawler.linkcheck`).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, bindparam, select, update

from shelfcheck.catalog.models import Link, LinkCheck
from shelfcheck.catalog.urlnorm import InvalidURL, normalize_url

SINK_LINKS = 3
SINK_VERDICT = "redirect_to_home"


def _key(url: str) -> str:
    try:
        return normalize_url(url)
    except InvalidURL:
        return url


def mark_sinks(conn: Connection, run_id: int, min_links: int = SINK_LINKS) -> int:
    """Re-judge the run's redirected-and-working checks that land on a sink; returns how many."""
    rows = conn.execute(
        select(LinkCheck.id, LinkCheck.link_id, LinkCheck.final_url, LinkCheck.detail,
               LinkCheck.redirect_chain)
        .where(LinkCheck.run_id == run_id, LinkCheck.redirect_chain.is_not(None),
               LinkCheck.verdict.in_(("ok", "redirected")), LinkCheck.final_url.is_not(None))
    )
    groups: dict[str, list[tuple[int, int, str | None]]] = defaultdict(list)
    for check_id, link_id, final_url, detail, chain in rows:
        if not chain:  # a JSON null passes IS NOT NULL: no redirect, no URL to normalize
            continue
        groups[_key(final_url or "")].append((check_id, link_id, detail))
    sinks = {target: checks for target, checks in groups.items()
             if len({link_id for _c, link_id, _d in checks}) >= min_links}
    if not sinks:
        return 0
    listed = set(conn.scalars(select(Link.url).where(Link.url.in_(list(sinks)))))
    updates = []
    for target, checks in sinks.items():
        if target in listed:
            continue  # the target is a page of the guide itself: a real move
        others = len({link_id for _c, link_id, _d in checks}) - 1
        for check_id, _link_id, detail in checks:
            why = (f"redirects to {target}, where {others} other catalog links land too "
                   f"(a catch-all page for removed pages)")
            updates.append({"b_id": check_id, "b_detail": f"{why}; {detail}" if detail else why})
    if updates:
        table = LinkCheck.__table__
        conn.execute(
            update(table).where(table.c.id == bindparam("b_id"))  # type: ignore[arg-type]
            .values(verdict=SINK_VERDICT, detail=bindparam("b_detail")),
            updates,
        )
    return len(updates)
