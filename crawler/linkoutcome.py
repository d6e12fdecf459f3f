"""The conclusion of a link-check run: mark the sinks (links sent to one page), move the link
states unless the outage guard calls the run inconclusive, and finish the CrawlRun with its stats.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine, func, select

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.events import record_event
from shelfcheck.catalog.linkstate import apply_run, assess_outage
from shelfcheck.catalog.models import Link, LinkCheck, Resource
from shelfcheck.catalog.runs import StepResult, finish_run
from shelfcheck.catalog.states import LinkState, ResourceState, RunOutcome, Step
from shelfcheck.config import Settings
from shelfcheck.errors import short_error

logger = logging.getLogger(__name__)


def _no_url_count(engine: Engine, provider_id: int | None) -> int:
    with engine.connect() as conn:
        query = select(func.count(Resource.id)).where(Resource.link_id.is_(None),
                                                       Resource.state == ResourceState.ACTIVE)
        if provider_id is not None:
            query = query.where(Resource.provider_id == provider_id)
        return int(conn.scalar(query) or 0)


def run_failed(engine: Engine, run_id: int, detail: str) -> StepResult:
    """Record run `run_id` as failed with `detail`, if the database still answers."""
    try:
        with transaction(engine) as session:
            finish_run(session, run_id, RunOutcome.FAILED, detail=detail)
    except Exception as exc:  # the next run marks it aborted
        logger.error("could not record the failure of run %s: %s", run_id, short_error(exc))
    return StepResult(Step.LINKS, RunOutcome.FAILED, run_id, detail)


def conclude_run(settings: Settings, engine: Engine, run_id: int, provider_id: int | None,
                 link_ids: list[int] | None, crawl: dict[str, Any],
                 elapsed: float) -> StepResult:
    """Finish run `run_id` from its stored checks and the `crawl` summary: failed, inconclusive
    (the outage guard) or ok with the link states moved."""
    if not crawl["error"]:
        from shelfcheck.crawler.content.sinks import mark_sinks

        with engine.begin() as conn:  # over every shard's checks: links sent to one page
            mark_sinks(conn, run_id)
    with engine.connect() as conn:
        verdicts = dict(conn.execute(
            select(LinkCheck.verdict, func.count(LinkCheck.id))
            .where(LinkCheck.run_id == run_id).group_by(LinkCheck.verdict)
        ).all())
    stored = sum(verdicts.values())
    stats: dict[str, Any] = {
        "links": crawl["total"], "checked": stored, "verdicts": verdicts,
        "no_url": _no_url_count(engine, provider_id) if link_ids is None else 0,
        "requests": crawl["requests"], "elapsed_s": round(elapsed, 2),
        "finish_reason": crawl["finish_reason"], "workers": crawl.get("workers", 1),
        "not_due": crawl.get("not_due", 0), "not_checked": crawl.get("not_checked", 0),
    }
    if crawl.get("dedicated"):
        stats["dedicated_host"] = crawl["dedicated"]
    if crawl["error"]:
        with transaction(engine) as session:
            finish_run(session, run_id, RunOutcome.FAILED, stats, detail=str(crawl["error"]))
        return StepResult(Step.LINKS, RunOutcome.FAILED, run_id,
                          f"the crawl failed: {crawl['error']}", stats)
    with transaction(engine) as session:
        guard = assess_outage(session, run_id, settings.outage_threshold,
                              canary_failure=crawl["canary_failure"])
        stats.update(hosts=guard.hosts, failing_hosts=guard.failing_hosts)
        if guard.inconclusive:
            run = finish_run(session, run_id, RunOutcome.INCONCLUSIVE, stats, detail=guard.reason)
            record_event(session, "run_inconclusive", run=run, detail=guard.reason)
            return StepResult(Step.LINKS, RunOutcome.INCONCLUSIVE, run_id,
                              f"inconclusive: {guard.reason}; no link state was changed", stats)
    from shelfcheck.text import plural

    unchecked = crawl["total"] - stored
    detail = None
    if unchecked > 0:
        detail = (f"{plural(unchecked, 'link was', 'links were')} not checked "
                  f"({crawl['finish_reason'] or 'the crawl stopped early'})")
        stats["unchecked"] = unchecked
    with transaction(engine) as session:  # the states move together with the run's outcome
        stats["events"] = apply_run(session, run_id, settings.confirm_after)
        broken = session.scalar(
            select(func.count(Link.id)).where(
                Link.state == LinkState.BROKEN,
                Link.id.in_(select(LinkCheck.link_id).where(LinkCheck.run_id == run_id)),
            )
        ) or 0
        stats["broken"] = int(broken)
        finish_run(session, run_id, RunOutcome.OK, stats, detail=detail)
    summary = f"checked {plural(stored, 'link')}: " + ", ".join(
        f"{n} {v}" for v, n in sorted(verdicts.items(), key=lambda kv: -kv[1])
    ) if stored else "no links to check"
    if stats["not_due"]:
        summary += (f"; {stats['not_due']} ok links not due yet "
                    f"(recheck_every = {settings.recheck_every:g} days)")
    if stats["not_checked"]:
        summary += (f"; {plural(stats['not_checked'], 'link')} not checked "
                    "(check: false or link_exclude)")
    if detail:
        summary += f"; {detail}"
    return StepResult(Step.LINKS, RunOutcome.OK, run_id, summary, stats)
