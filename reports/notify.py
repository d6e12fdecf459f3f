"""Notifications through Apprise (Slack, Teams, Matrix, ntfy, a JSON webhook, ...).

`notify_urls` lists Apprise URLs; each gets a short summary: the report's headline counts and
where the report is. `notify_on` says when: ``report`` (each report), ``link_broken`` (a link
became broken) and ``provider_problem`` (a provider became unreachable or its recipe drifted).
URLs are only ever logged in Apprise's privacy form, so tokens and passwords stay hidden.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelfcheck.catalog.models import ChangeEvent, Provider
from shelfcheck.config import Settings, redact_notify_url
from shelfcheck.reports.firstscreen import headline
from shelfcheck.reports.model import Report
from shelfcheck.reports.templating import environment

log = logging.getLogger(__name__)

TRIGGERS: dict[str, tuple[str, ...]] = {
    "report": (),
    "link_broken": ("link_broken",),
    "provider_problem": ("provider_unreachable", "extractor_drift"),
}
"""Each `notify_on` value and the change-event kinds that trigger it (none: each report)."""


def report_message(report: Report, where: Path | str | None) -> tuple[str, str]:
    """The title and body of the notification about `report`."""
    day = environment("md", report.timezone).filters["day"]
    title = f"shelfcheck report {day(report.period_start)} to {day(report.period_end)}"
    counts = headline(report)
    lines = []
    if report.inconclusive:
        lines.append(f"Inconclusive: nothing could be checked ({report.inconclusive}).")
    if counts:
        lines.append("Needs attention: " + ", ".join(f"{c.count} {c.text}" for c in counts) + ".")
    elif not report.inconclusive:
        lines.append("Nothing needs action.")
    changes = len(report.changes)
    lines.append(f"{changes} change{'' if changes == 1 else 's'} in the period; "
                 f"{report.summary.open} problem{'' if report.summary.open == 1 else 's'} "
                 "still open.")
    if where is not None:
        lines.append(f"Report: {where}")
    return title, "\n".join(lines)


def send(urls: Sequence[str], title: str, body: str) -> str | None:
    """Send one message to every URL; None when all were delivered, else what failed."""
    import apprise

    failed = []
    for url in urls:
        shown = redact_notify_url(url)
        sender = apprise.Apprise()
        if not sender.add(url):
            failed.append(f"{shown}: not an Apprise URL that this version understands")
            continue
        try:
            ok = bool(sender.notify(title=title, body=body))
        except Exception as exc:  # a plugin's own bug must not hide the others' result
            log.warning("notification to %s failed: %s", shown, type(exc).__name__)
            ok = False
        if not ok:
            failed.append(f"{shown}: the service did not accept it")
        else:
            log.info("notified %s", shown)
    if failed:
        message = "notification failed: " + "; ".join(failed)
        log.error("%s", message)
        return message
    return None


def notify_report(settings: Settings, report: Report, where: Path | str | None) -> str | None:
    """Notify about a written report when `notify_on` has ``report``; the error, if any."""
    if not settings.notify_urls or "report" not in settings.notify_on:
        return None
    title, body = report_message(report, where)
    return send(settings.notify_urls, title, body)


def notify_new_problems(settings: Settings, session: Session, run_id: int) -> str | None:
    """Notify about the problems run `run_id` found, as far as `notify_on` asks for them."""
    kinds = [kind for trigger in settings.notify_on for kind in TRIGGERS.get(trigger, ())]
    if not settings.notify_urls or not kinds:
        return None
    rows = session.execute(
        select(ChangeEvent.kind, ChangeEvent.url, Provider.name)
        .outerjoin(Provider, Provider.id == ChangeEvent.provider_id)
        .where(ChangeEvent.run_id == run_id, ChangeEvent.kind.in_(kinds))
        .order_by(ChangeEvent.id)
    ).all()
    if not rows:
        return None
    lines = []
    for kind, url, provider in rows[:20]:
        what = {"link_broken": "broken link", "provider_unreachable": "provider unreachable",
                "extractor_drift": "recipe drift"}.get(kind, kind)
        lines.append(f"{what}: {provider + ': ' if provider else ''}{url or ''}".rstrip(": "))
    if len(rows) > 20:
        lines.append(f"and {len(rows) - 20} more")
    n = len(rows)
    title = f"shelfcheck: {n} new problem{'' if n == 1 else 's'}"
    return send(settings.notify_urls, title, "\n".join(lines))
