"""`shelfcheck runs`: the history of runs, newest first."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select

from shelfcheck.app import App
from shelfcheck.catalog.models import CrawlRun
from shelfcheck.catalog.states import RunOutcome
from shelfcheck.commands.output import echo_json, format_option, iso, wide_option
from shelfcheck.table import format_table
from shelfcheck.text import plural

DETAILED = (RunOutcome.FAILED, RunOutcome.INCONCLUSIVE, RunOutcome.ABORTED)


def counts(stats: dict[str, Any]) -> dict[str, Any]:
    """The counts of a run's stats: its whole numbers, and tallies such as `verdicts`."""
    found: dict[str, Any] = {}
    for key, value in stats.items():
        if isinstance(value, int) and not isinstance(value, bool):
            found[key] = value
        elif isinstance(value, dict) and value and all(
                isinstance(v, int) and not isinstance(v, bool) for v in value.values()):
            found[key] = dict(value)
    return found


def _counts_text(values: dict[str, Any]) -> str:
    parts = []
    for key, value in values.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{n} {k}" for k, n in sorted(value.items(), key=lambda kv: -kv[1]))
            parts.append(f"{key}: {inner}")
        else:
            parts.append(f"{key} {value}")
    return "; ".join(parts)


def duration(run: CrawlRun) -> float | None:
    """Seconds from start to end, or None while running."""
    if run.finished_at is None:
        return None
    return round((run.finished_at - run.started_at).total_seconds(), 1)


def run_json(run: CrawlRun) -> dict[str, Any]:
    """The documented JSON shape of one run."""
    stats = run.stats or {}
    return {
        "id": run.id, "kind": run.kind, "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at), "duration_s": duration(run),
        "outcome": run.outcome, "counts": counts(stats), "detail": run.detail,
        "holder": run.holder, "stats": stats,
    }


@click.command("runs")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              metavar="N", help="Show the N newest runs.")
@click.option("--kind", "kinds", multiple=True, metavar="KIND",
              help="Only runs of this kind: links, listings, sync, report, ... (repeatable).")
@format_option
@wide_option
@click.pass_obj
def runs_cmd(app: App, limit: int, kinds: tuple[str, ...], fmt: str, wide: bool) -> None:
    """List the runs, newest first: kind, start, end, duration, outcome, counts, and what went
    wrong in a failed, inconclusive or aborted run."""
    with app.session() as session:
        query = select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)
        if kinds:
            query = query.where(CrawlRun.kind.in_(kinds))
        runs = list(session.scalars(query))
    if fmt == "json":
        echo_json([run_json(run) for run in runs])
        return
    if not runs:
        click.echo("No runs yet: `shelfcheck refresh` (or check-links, crawl) records them.")
        return
    tz = app.settings.timezone
    rows = [
        (run.id, run.kind, _local(run.started_at, tz), _local(run.finished_at, tz),
         "" if duration(run) is None else f"{duration(run):g} s", run.outcome,
         _counts_text(counts(run.stats or {})),
         run.detail if run.outcome in DETAILED else "")
        for run in runs
    ]
    click.echo(format_table(["run", "kind", "started", "finished", "took", "outcome",
                             "counts", "detail"], rows, wide=wide))
    click.echo(f"\n{plural(len(runs), 'run')} (newest first)")


def _local(value: Any, tz: str) -> str:
    from shelfcheck.reports.templating import zone

    if value is None:
        return ""
    return str(value.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M %Z"))


COMMANDS = [runs_cmd]
