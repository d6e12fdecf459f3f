"""`shelfcheck check-links` and `shelfcheck links`: check link health, list link states."""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from typing import TextIO

import click
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, joinedload

from shelfcheck.app import App
from shelfcheck.catalog.linkstate import STATES
from shelfcheck.catalog.models import Link, LinkCheck, Resource
from shelfcheck.catalog.queries import suggestion_for
from shelfcheck.errors import ExitCode
from shelfcheck.table import format_table


class ProgressLine:
    """Prints "checked N/M links, F failing": in place on a terminal, every 10% otherwise."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last_time = 0.0
        self.last_step = -1

    def __call__(self, checked: int, total: int, failures: int) -> None:
        text = f"checked {checked}/{total} links, {failures} failing"
        if self.tty:
            now = time.monotonic()
            if checked == total or now - self.last_time >= 0.1:
                self.last_time = now
                end = "\n" if checked == total else ""
                self.stream.write(f"\r{text}{end}")
                self.stream.flush()
            return
        step = 10 if total == 0 else checked * 10 // total
        if step != self.last_step:
            self.last_step = step
            self.stream.write(text + "\n")
            self.stream.flush()


def _users(session: Session, link_ids: list[int]) -> dict[int, list[Resource]]:
    users: dict[int, list[Resource]] = defaultdict(list)
    for start in range(0, len(link_ids), 500):
        chunk = link_ids[start:start + 500]
        for res in session.scalars(
            select(Resource).options(joinedload(Resource.section))
            .where(Resource.link_id.in_(chunk), Resource.state == "active")
            .order_by(Resource.id)
        ):
            users[res.link_id or 0].append(res)
    return users


@click.command("check-links")
@click.option("--provider", metavar="SLUG", help="Check only this provider's resources.")
@click.option("--url", "urls", multiple=True, metavar="URL",
              help="Check only this catalog URL (repeatable).")
@click.option("--fail-on", type=click.Choice(["broken"]),
              help="Exit with status 1 when a checked link is broken.")
@click.pass_obj
def check_links_cmd(app: App, provider: str | None, urls: tuple[str, ...],
                    fail_on: str | None) -> None:
    """Check every active link of the catalog and keep each link's state across runs.

    Exit status: 0 a completed run, 1 broken links with --fail-on broken (or a failed run),
    2 usage errors, 3 an inconclusive run (it looked like a local network failure).
    """
    from shelfcheck.crawler.linkcheck import run_check_links
    from shelfcheck.runguard import exclusive_run

    with exclusive_run(app, "check-links"):
        result = run_check_links(app.settings, provider=provider, urls=list(urls) or None,
                                 progress=ProgressLine())
    if result.outcome == "inconclusive":
        click.echo(f"Run {result.run_id} is INCONCLUSIVE: "
                   f"{result.summary.removeprefix('inconclusive: ')}.")
        click.echo("Its checks were stored, but no link was marked broken and no change was "
                   "reported. Check this machine's network (DNS, connectivity) and run again.")
        sys.exit(ExitCode.INCONCLUSIVE)
    if result.outcome != "ok":
        click.echo(f"shelfcheck: error: run {result.run_id}: {result.summary}", err=True)
        sys.exit(ExitCode.ERROR)
    click.echo(f"Run {result.run_id}: {result.summary}.")
    with app.session() as session:
        rows = session.execute(
            select(LinkCheck, Link).join(Link, Link.id == LinkCheck.link_id)
            .where(LinkCheck.run_id == result.run_id, LinkCheck.verdict != "ok")
            .order_by(Link.state, Link.url)
        ).all()
        users = _users(session, [link.id for _check, link in rows])
        table = [
            (link.state, check.verdict, check.http_status, link.url,
             "; ".join(r.title for r in users.get(link.id, [])),
             check.detail or "", suggestion_for(link) or "")
            for check, link in rows
        ]
    if table:
        click.echo("\nLinks that are not ok:")
        click.echo(format_table(["state", "verdict", "http", "url", "resources", "why",
                                 "suggestion"], table, max_width=60))
    else:
        click.echo("Every checked link is ok.")
    no_url = result.stats.get("no_url", 0)
    if no_url:
        click.echo(f"{no_url} resources have no URL (no_url); they are not checked.")
    if fail_on == "broken" and result.stats.get("broken"):
        click.echo(f"{result.stats['broken']} checked links are broken.", err=True)
        sys.exit(ExitCode.ERROR)


@click.group("links", invoke_without_command=True)
@click.option("--state", "states", multiple=True, type=click.Choice((*STATES, "dismissed")),
              help="Show only links in this state (repeatable); dismissed: the dismissed ones.")
@click.pass_obj
def links_cmd(app: App, states: tuple[str, ...]) -> None:
    """List the links of active resources with their state, resources and sections.

    `links dismiss URL --reason TEXT` says "we know" about a link; `links undismiss URL` takes
    it back.
    """
    if click.get_current_context().invoked_subcommand:
        return
    from shelfcheck.commands.dismiss import held_dismissals

    with app.session() as session:
        used = select(Resource.link_id).where(Resource.state == "active",
                                              Resource.link_id.is_not(None))
        query = select(Link).where(Link.id.in_(used)).order_by(Link.state, Link.url)
        dismissed = held_dismissals(app, session)
        if states:
            wanted: ColumnElement[bool] = Link.state.in_(
                [s for s in states if s != "dismissed"])
            if "dismissed" in states:
                wanted = wanted | Link.id.in_(list(dismissed))
            query = query.where(wanted)
        links = list(session.scalars(query))
        users = _users(session, [link.id for link in links])
        table = []
        for link in links:
            holders = users.get(link.id, [])
            table.append((
                link.state + (" (dismissed)" if link.id in dismissed else ""),
                link.last_verdict or "", link.url,
                "; ".join(r.title for r in holders),
                "; ".join(sorted({r.section.name for r in holders})),
                link.state_since.date().isoformat() if link.state_since else "",
                suggestion_for(link) or "",
            ))
    if not table:
        click.echo("No links" + (f" in state {', '.join(states)}" if states else "") + ".")
        return
    click.echo(format_table(["state", "verdict", "url", "resources", "sections", "since",
                             "suggestion"], table, max_width=60))
    click.echo(f"\n{len(table)} links")


def _add_subcommands() -> None:
    from shelfcheck.commands.dismiss import SUBCOMMANDS

    for command in SUBCOMMANDS:
        links_cmd.add_command(command)


_add_subcommands()
COMMANDS = [check_links_cmd, links_cmd]
