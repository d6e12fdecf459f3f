"""Build a `Report` from the database: aggregate queries, streamed rows, nothing loaded twice.

Every count in the summary is the length of a list the report carries, so the numbers always
match what the sections show. The rows come from `runs`, `changes`, `linkrows`, `problems` and
`training`; this module puts them together.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from shelfcheck.catalog.dismissals import dismissals_holding
from shelfcheck.catalog.events import SUMMARY_COUNTS
from shelfcheck.catalog.notchecked import LinkExclude
from shelfcheck.catalog.states import LinkState
from shelfcheck.reports.changes import period_changes
from shelfcheck.reports.linkrows import link_rows, no_url_rows, unchecked_count
from shelfcheck.reports.model import ChangeRow, Report, Summary
from shelfcheck.reports.notchecked import not_checked_links
from shelfcheck.reports.problems import inconclusive, merge_changes, open_links, open_providers
from shelfcheck.reports.runs import links_checked, period_runs, run_warnings
from shelfcheck.reports.shared import Shared
from shelfcheck.reports.templating import zone
from shelfcheck.reports.training import training_changes, upcoming_offerings

UPCOMING_DAYS = 30


def build_report(
    session: Session, *, start: datetime, end: datetime, now: datetime, timezone: str = "UTC",
    exclude: LinkExclude | None = None,
) -> Report:
    """The report of the change events in [start, end) and of the current state of the catalog;
    links not checked (`check: false`, `exclude`) are listed apart, in no other list."""
    runs = period_runs(session, start, end)
    share = Shared()  # one copy of a URL, title or verdict that several lists show
    changes = merge_changes(period_changes(session, start, end, share))
    today = end.astimezone(zone(timezone)).date()
    skipped, not_checked = not_checked_links(session, exclude or LinkExclude())
    links = list(link_rows(session, start, dismissals_holding(session, today), skipped, share))
    no_url = list(no_url_rows(session))
    by_kind: dict[str, list[ChangeRow]] = {}
    for change in changes:
        by_kind.setdefault(change.kind, []).append(change)
    warned = run_warnings(runs, by_kind.get("run_inconclusive", []))
    open_rows = open_providers(session, start) + open_links(session, links)
    training = training_changes(changes)
    upcoming = upcoming_offerings(session, end, end + timedelta(days=UPCOMING_DAYS))

    def count(kind: str) -> int:
        return len(by_kind.get(kind, []))

    def undismissed(state: str) -> int:
        return sum(1 for link in links if link.state == state and link.dismissed is None)

    providers_open = sum(1 for row in open_rows if not row.is_link)
    not_checked_unknown = sum(1 for n in not_checked if n.state == LinkState.UNKNOWN)
    summary = Summary(
        links_checked=links_checked(session, start, end),
        broken=undismissed(LinkState.BROKEN),
        redirected=undismissed(LinkState.REDIRECTED),
        unverifiable=undismissed(LinkState.UNVERIFIABLE),
        unchecked=unchecked_count(session) - not_checked_unknown,
        no_url=len(no_url),
        **{counter: count(kind) for kind, counter in SUMMARY_COUNTS.items()},
        warnings=providers_open + len(warned),
        dismissed=sum(1 for link in links if link.dismissed is not None),
        open=len(open_rows),
        not_checked=len(not_checked),
    )
    return Report(
        generated_at=now, period_start=start, period_end=end, timezone=timezone,
        summary=summary, runs=runs, changes=changes, links=links, no_url=no_url,
        training=training, open=open_rows, run_warnings=warned,
        recovered=by_kind.get("link_recovered", []), upcoming=upcoming,
        upcoming_days=UPCOMING_DAYS, inconclusive=inconclusive(runs), not_checked=not_checked,
    )
