"""`shelfcheck check-links` and `shelfcheck links`: check link health, list link states."""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Collection
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from shelfcheck.app import App
from shelfcheck.catalog.baseline import AcceptError, accept_link
from shelfcheck.catalog.linkstate import STATES
from shelfcheck.catalog.models import Link, LinkCheck, Resource
from shelfcheck.catalog.notchecked import link_exclude, not_checked, state_label
from shelfcheck.catalog.queries import suggestion_for
from shelfcheck.catalog.states import ResourceState, RunOutcome
from shelfcheck.catalog.verdicts import VERDICTS
from shelfcheck.commands.output import echo_json, format_option, iso, wide_option
from shelfcheck.commands.progress import LinkProgress
from shelfcheck.errors import ExitCode
from shelfcheck.table import format_table
from shelfcheck.text import plural


def _users(session: Session, link_ids: list[int]) -> dict[int, list[Resource]]:
    users: dict[int, list[Resource]] = defaultdict(list)
    for start in range(0, len(link_ids), 500):
        chunk = link_ids[start:start + 500]
        for res in session.scalars(
            select(Resource).options(joinedload(Resource.section), joinedload(Resource.provider))
            .where(Resource.link_id.in_(chunk), Resource.state == ResourceState.ACTIVE)
            .order_by(Resource.id)
        ):
            users[res.link_id or 0].append(res)
    return users


def dismissed(link: Link) -> dict[str, Any] | None:
    """The link's dismissal as {reason, at, until}, or None.

    Read defensively: dismissals (`links dismiss`) are another branch's work; either a
    `dismissal` relationship or `dismissed_*` columns on the link carry them.
    """
    found = getattr(link, "dismissal", None)
    if found is not None:
        reason = getattr(found, "reason", None)
        at = getattr(found, "at", None) or getattr(found, "dismissed_at", None)
        until = getattr(found, "until", None)
    else:
        reason = getattr(link, "dismissed_reason", None)
        at, until = getattr(link, "dismissed_at", None), getattr(link, "dismissed_until", None)
        if reason is None and at is None:
            return None
    return {"reason": reason, "at": _iso_any(at), "until": _iso_any(until)}


def _iso_any(value: Any) -> Any:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value


def link_json(link: Link, holders: list[Resource],
              not_checked: str | None = None) -> dict[str, Any]:
    """The documented JSON shape of one link (docs/cli.md); `not_checked` is why it is not
    checked, if it is not."""
    return {
        "url": link.url, "state": link.state, "verdict": link.last_verdict,
        "http_status": link.last_http_status, "since": iso(link.state_since),
        "redirect_target": link.redirect_target, "suggestion": suggestion_for(link),
        "detail": link.last_detail, "last_checked_at": iso(link.last_checked_at),
        "consecutive_failures": link.consecutive_failures, "dismissed": dismissed(link),
        "resources": [{"title": r.title, "section": r.section.name,
                       "provider": r.provider.slug if r.provider else None} for r in holders],
        "providers": sorted({r.provider.slug for r in holders if r.provider}),
        "not_checked": not_checked,
    }


@click.command("check-links")
@click.option("--provider", metavar="SLUG", help="Check only this provider's resources.")
@click.option("--url", "urls", multiple=True, metavar="URL",
              help="Check only this catalog URL (repeatable).")
@click.option("--fail-on", type=click.Choice(["broken"]),
              help="Exit with status 1 when a checked link is broken.")
@format_option
@wide_option
@click.pass_obj
def check_links_cmd(app: App, provider: str | None, urls: tuple[str, ...],
                    fail_on: str | None, fmt: str, wide: bool) -> None:
    """Check every active link of the catalog and keep each link's state across runs.

    A link that every resource marks `check: false`, or that `link_exclude` matches, gets no
    request (and --url refuses it).

    Progress goes to standard error: a bar on a terminal, a line per tenth of the links
    otherwise. Exit status: 0 a completed run, 1 broken links with --fail-on broken (or a
    failed run), 2 usage errors, 3 an inconclusive run (it looked like a local network failure).
    """
    from shelfcheck.crawler.linkcheck import run_check_links
    from shelfcheck.runguard import exclusive_run

    with exclusive_run(app, "check-links"), LinkProgress() as progress:
        result = run_check_links(app.settings, provider=provider, urls=list(urls) or None,
                                 progress=progress)
    code: int = ExitCode.OK
    if result.outcome == RunOutcome.INCONCLUSIVE:
        code = ExitCode.INCONCLUSIVE
    elif result.outcome != RunOutcome.OK or (fail_on == "broken" and result.stats.get("broken")):
        code = ExitCode.ERROR
    rows: list[tuple[LinkCheck, Link]] = []
    users: dict[int, list[Resource]] = {}
    if result.outcome == RunOutcome.OK:
        with app.session() as session:
            rows = [(check, link) for check, link in session.execute(
                select(LinkCheck, Link).join(Link, Link.id == LinkCheck.link_id)
                .where(LinkCheck.run_id == result.run_id, LinkCheck.verdict != "ok")
                .order_by(Link.state, Link.url)
            ).tuples()]
            users = _users(session, [link.id for _check, link in rows])
            documents = [{**link_json(link, users.get(link.id, [])),
                          "check": {"verdict": check.verdict, "http_status": check.http_status,
                                    "detail": check.detail, "final_url": check.final_url}}
                         for check, link in rows]
    else:
        documents = []
    if fmt == "json":
        echo_json({"run_id": result.run_id, "outcome": result.outcome,
                   "summary": result.summary, "stats": result.stats, "not_ok": documents})
        if code:
            sys.exit(code)
        return
    if result.outcome == RunOutcome.INCONCLUSIVE:
        click.echo(f"Run {result.run_id} is INCONCLUSIVE: "
                   f"{result.summary.removeprefix('inconclusive: ')}.")
        click.echo("Its checks were stored, but no link was marked broken and no change was "
                   "reported. Check this machine's network (DNS, connectivity) and run again.")
        sys.exit(code)
    if result.outcome != RunOutcome.OK:
        click.echo(f"shelfcheck: error: run {result.run_id}: {result.summary}", err=True)
        sys.exit(code)
    click.echo(f"Run {result.run_id}: {result.summary}.")
    table = [
        (link.state, check.verdict, check.http_status, link.url,
         "; ".join(r.title for r in users.get(link.id, [])),
         check.detail or "", suggestion_for(link) or "")
        for check, link in rows
    ]
    if table:
        click.echo("\nLinks that are not ok:")
        click.echo(format_table(["state", "verdict", "http", "url", "resources", "why",
                                 "suggestion"], table, wide=wide))
    else:
        click.echo("Every checked link is ok.")
    no_url = result.stats.get("no_url", 0)
    if no_url:
        click.echo(f"{plural(no_url, 'resource has', 'resources have')} no URL (no_url); "
                   f"{'it is' if no_url == 1 else 'they are'} not checked.")
    if code == ExitCode.ERROR and result.outcome == RunOutcome.OK:
        broken = result.stats["broken"]
        click.echo(f"{plural(broken, 'checked link is', 'checked links are')} broken.", err=True)
        sys.exit(code)


@click.group("links", invoke_without_command=True)
@click.option("--state", "states", multiple=True,
              type=click.Choice((*STATES, "dismissed", "not_checked")),
              help="Show only links in this state (repeatable); dismissed: the dismissed ones; "
                   "not_checked: those never checked (check: false, link_exclude).")
@format_option
@wide_option
@click.pass_context
def links_cmd(ctx: click.Context, states: tuple[str, ...], fmt: str, wide: bool) -> None:
    """List the links of active resources with their state, resources and sections.

    A link is "not checked" when every resource using it says `check: false` in the catalog
    file, or a `link_exclude` pattern matches it; a state filter leaves it out.

    `links accept URL` takes a changed page as right; `links dismiss URL --reason TEXT` says
    "we know" about a link, and `links undismiss URL` takes it back.
    """
    if ctx.invoked_subcommand is None:
        _list_links(ctx.obj, states, fmt, wide)


@links_cmd.command("accept")
@click.argument("urls", nargs=-1, required=True, metavar="URL...")
@click.pass_obj
def accept_cmd(app: App, urls: tuple[str, ...]) -> None:
    """Accept the page at URL as it is now: re-baseline its content and return it to ok.

    Use it when a link reported as content_changed ("the page now shows something else")
    is right after all, for instance after a redesign.
    """
    with app.session() as session:
        try:
            done = [accept_link(session, url) for url in urls]
        except AcceptError as exc:
            raise click.UsageError(str(exc)) from None
    for item in done:
        change = (f"{item.old_title!r} → {item.new_title!r}" if item.old_title != item.new_title
                  else repr(item.new_title))
        state = "; the link is ok again" if item.recovered else ""
        click.echo(f"accepted {item.url}: baseline is now the page as it is ({change}){state}")


def _list_links(app: App, states: tuple[str, ...], fmt: str, wide: bool) -> None:
    from shelfcheck.commands.dismiss import held_dismissals

    with app.session() as session:
        used = select(Resource.link_id).where(Resource.state == ResourceState.ACTIVE,
                                              Resource.link_id.is_not(None))
        query = select(Link).where(Link.id.in_(used)).order_by(Link.state, Link.url)
        dismissed = held_dismissals(app, session)
        skipped = not_checked(session, link_exclude(app.settings))
        if states and not {"dismissed", "not_checked"} & set(states):
            query = query.where(Link.state.in_(states))
        links = list(session.scalars(query))
        if states:
            links = [link for link in links if _listed(link, states, dismissed, skipped)]
        users = _users(session, [link.id for link in links])
        if fmt == "json":
            echo_json([link_json(link, users.get(link.id, []), skipped.get(link.id))
                       for link in links])
            return
        table = []
        for link in links:
            holders = users.get(link.id, [])
            table.append((
                state_label(link.state, skipped.get(link.id))
                + (" (dismissed)" if link.id in dismissed else ""),
                link.last_verdict or "", link.url,
                "; ".join(r.title for r in holders),
                "; ".join(sorted({r.section.name for r in holders})),
                link.state_since.date().isoformat() if link.state_since else "",
                "" if link.id in skipped else suggestion_for(link) or "",
            ))
    if not table:
        if states:
            click.echo(f"No links in state {', '.join(states)}.")
        else:
            click.echo("No links: the catalog is empty. Load it with `shelfcheck catalog sync` "
                       "(or `shelfcheck refresh`).")
        return
    click.echo(format_table(["state", "verdict", "url", "resources", "sections", "since",
                             "suggestion"], table, wide=wide))
    click.echo(f"\n{plural(len(table), 'link')}")
    shown = sorted({row[1] for row in table if row[1] in VERDICTS and row[1] != "ok"})
    if shown:
        click.echo("\nVerdicts:")
        for key in shown:
            click.echo(f"  {key}: {VERDICTS[key].message}")


def _listed(link: Link, states: tuple[str, ...], dismissed: Collection[int],
            skipped: dict[int, str]) -> bool:
    """Whether `links --state ...` shows `link`: a state names the checked links only."""
    if link.id in skipped:
        return "not_checked" in states
    return link.state in states or ("dismissed" in states and link.id in dismissed)


def _add_subcommands() -> None:
    from shelfcheck.commands.dismiss import SUBCOMMANDS

    for command in SUBCOMMANDS:
        links_cmd.add_command(command)


_add_subcommands()
COMMANDS = [check_links_cmd, links_cmd]
