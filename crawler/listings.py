"""`run_crawl`: crawl the providers' listings and apply the changes to the catalog.

The crawl runs in this process (it starts Twisted's reactor, which cannot restart: once per
process). Nothing is written to offerings until the crawl has ended; then every provider's
changes, its events and the run record are committed in one transaction. A crawl stopped by a
signal changes no offering and ends `aborted`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from shelfcheck.catalog.db import open_database, transaction
from shelfcheck.catalog.identity import listed_urls
from shelfcheck.catalog.models import CrawlRun, Provider, utcnow
from shelfcheck.catalog.offerings import ProviderCrawl, ProviderOutcome, apply_provider_crawl
from shelfcheck.catalog.runs import StepResult, finish_run, start_run
from shelfcheck.catalog.states import RunKind, RunOutcome, Step
from shelfcheck.config import Settings
from shelfcheck.crawler.recipe import Recipe, RecipeError, parse_recipe
from shelfcheck.crawler.settings import scrapy_settings
from shelfcheck.crawler.spiders.listings import ListingJobs, ListingSpider, ProviderRun
from shelfcheck.crawler.walk import ProviderWalk
from shelfcheck.errors import NotSynced, UsageError, short_error

log = logging.getLogger(__name__)

LISTING_MIDDLEWARES = {
    "shelfcheck.crawler.hostmap.HostMapMiddleware": 50,
    "shelfcheck.crawler.pagecache.ConditionalRequestMiddleware": 580,
}


GUARDED_HANDLER = "shelfcheck.crawler.netguard.GuardedHTTPDownloadHandler"


def listing_scrapy_settings(settings: Settings, **extra: Any) -> dict[str, Any]:
    """The shared Scrapy settings plus the listing spider's middlewares and the private-address
    guard (off when `allow_private_addresses` is true)."""
    values = scrapy_settings(settings)
    middlewares = dict(values.get("DOWNLOADER_MIDDLEWARES") or {})
    middlewares.update(LISTING_MIDDLEWARES)
    values["DOWNLOADER_MIDDLEWARES"] = middlewares
    values["DOWNLOAD_HANDLERS"] = {"http": GUARDED_HANDLER, "https": GUARDED_HANDLER}
    values["SHELFCHECK_ALLOW_PRIVATE_ADDRESSES"] = settings.allow_private_addresses
    values.update(extra)
    return values


def load_recipes(engine: Engine, providers: Sequence[str] | None) -> dict[str, Recipe]:
    """The recipes of the chosen providers (all active providers that have one by default).

    Raises UsageError for an unknown provider, one without a recipe, or an invalid recipe.
    """
    with transaction(engine) as session:
        rows = {p.slug: p for p in session.scalars(select(Provider).where(Provider.active))}
    if providers:
        unknown = [s for s in providers if s not in rows]
        if unknown:
            known = ", ".join(sorted(rows))
            error = UsageError if known else NotSynced
            raise error(f"unknown provider {unknown[0]!r} (known: {known or 'none'})")
        without = [s for s in providers if not rows[s].recipe]
        if without:
            raise UsageError(f"provider {without[0]!r} has no listing recipe "
                             "(it is covered by link health only)")
        chosen = list(dict.fromkeys(providers))
    else:
        chosen = sorted(s for s, p in rows.items() if p.recipe)
    if not chosen:
        raise NotSynced("no provider has a listing recipe")
    recipes = {}
    for slug in chosen:
        try:
            recipes[slug] = parse_recipe(slug, rows[slug].recipe or {})
        except RecipeError as exc:
            raise UsageError(f"{exc} (fix the catalog file and sync it)") from None
    return recipes


def crawl_walks(settings: Settings, walks: list[ProviderWalk],
                on_done: Callable[[ProviderRun], None] | None = None, *,
                use_cache: bool = True) -> ListingJobs:
    """Run the listing spider over `walks` in this process (starts the reactor).

    `use_cache=False` sends no conditional requests and leaves the page cache alone.
    """
    from scrapy.crawler import CrawlerProcess

    jobs = ListingJobs({w.slug: ProviderRun(w) for w in walks}, on_done=on_done)
    values = listing_scrapy_settings(settings, LOG_INSTALL_ROOT_HANDLER=False)
    if not use_cache:
        middlewares = values["DOWNLOADER_MIDDLEWARES"]
        middlewares["shelfcheck.crawler.pagecache.ConditionalRequestMiddleware"] = None
    # Scrapy sets its own loggers to DEBUG; shelfcheck's handlers keep to log_level.
    for handler in logging.getLogger().handlers:
        if handler.level == logging.NOTSET:
            handler.setLevel(settings.log_level)
    process = CrawlerProcess(values)
    process.crawl(ListingSpider, jobs=jobs)
    # A host whose robots.txt cannot be fetched is a page failure the crawl records; Scrapy
    # would also log a traceback for it.
    logging.getLogger("scrapy.downloadermiddlewares.robotstxt").setLevel(logging.CRITICAL)
    process.start()
    return jobs


def _progress_line(run: ProviderRun) -> str:
    crawl = run.walk.crawl
    cached = f", {crawl.not_modified} not modified" if crawl.not_modified else ""
    failed = f", {len(crawl.failures)} failed" if crawl.failures else ""
    return (f"{run.walk.slug}: {crawl.pages} pages fetched{cached}{failed}, "
            f"{run.walk.items} items")


def run_crawl(
    settings: Settings,
    *,
    providers: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> StepResult:
    """Crawl the listings of `providers` (default: every provider with a recipe), detect
    changes and record a "listings" run.

    Outcome: ok; inconclusive when every provider was unreachable (most likely our own network,
    nothing changed); aborted when stopped by a signal; failed when the crawl itself broke.
    """
    engine = open_database(settings.database_url, busy_timeout=settings.sqlite_busy_timeout)
    try:
        return _run(engine, settings, providers, progress)
    finally:
        engine.dispose()


def _run(engine: Engine, settings: Settings, providers: Sequence[str] | None,
         progress: Callable[[str], None] | None) -> StepResult:
    recipes = load_recipes(engine, providers)
    run_id = start_run(engine, RunKind.LISTINGS)
    now = utcnow()
    with transaction(engine) as session:
        known = listed_urls(session, list(recipes))
    walks = [ProviderWalk(slug, recipe, tz=recipe.timezone or settings.timezone, now=now,
                          known_urls=known.get(slug, frozenset()))
             for slug, recipe in recipes.items()]
    if progress:
        from shelfcheck.text import plural

        progress(f"crawling {plural(len(walks), 'provider')}: {', '.join(recipes)}")
    try:
        jobs = crawl_walks(settings, walks,
                           on_done=(lambda run: progress(_progress_line(run))) if progress
                           else None)
    except Exception as exc:
        log.exception("the listings crawl failed")
        with transaction(engine) as session:
            finish_run(session, run_id, RunOutcome.FAILED, {}, f"the crawl failed: {exc}")
        return StepResult(Step.LISTINGS, RunOutcome.FAILED, run_id, f"the crawl failed: {exc}")

    if jobs.close_reason == "shutdown":
        detail = "stopped by a signal before it finished; no offering was changed"
        with transaction(engine) as session:
            finish_run(session, run_id, RunOutcome.ABORTED, {"close_reason": "shutdown"}, detail)
        return StepResult(Step.LISTINGS, RunOutcome.ABORTED, run_id, detail)

    try:
        return _apply(engine, settings, run_id, recipes, jobs, now)
    except Exception as exc:  # e.g. the database went away: nothing of the crawl is committed
        log.error("applying the listings crawl failed: %s", short_error(exc),
                  exc_info=not isinstance(exc, SQLAlchemyError))
        detail = f"applying the crawl failed, no offering was changed: {short_error(exc)}"
        try:
            with transaction(engine) as session:
                finish_run(session, run_id, RunOutcome.FAILED, {"close_reason": jobs.close_reason},
                           detail)
        except Exception as again:  # the next run marks it aborted
            log.error("could not record the failure of run %s: %s", run_id, short_error(again))
        return StepResult(Step.LISTINGS, RunOutcome.FAILED, run_id, detail)


def _apply(engine: Engine, settings: Settings, run_id: int, recipes: dict[str, Recipe],
           jobs: ListingJobs, now: datetime) -> StepResult:
    outcomes: dict[str, ProviderOutcome] = {}
    crawls: dict[str, ProviderCrawl] = {}
    with transaction(engine) as session:
        run = session.get_one(CrawlRun, run_id)
        by_slug = {p.slug: p for p in session.scalars(
            select(Provider).where(Provider.slug.in_(list(recipes))))}
        for slug, job in jobs.runs.items():
            crawl = job.walk.finish()
            crawl.complete = job.done and jobs.close_reason in (None, "finished")
            crawls[slug] = crawl
            outcomes[slug] = apply_provider_crawl(session, by_slug[slug], crawl, run=run,
                                                  now=now, drift_ratio=settings.drift_ratio)
            crawl.records = []  # applied: only the counts are needed from here on
        stats = _stats(crawls, outcomes, jobs.close_reason)
        reachable = [o for o in outcomes.values() if o.status != "unreachable"]
        outcome = RunOutcome.OK if reachable else RunOutcome.INCONCLUSIVE
        summary = _summary(outcomes, stats)
        finish_run(session, run_id, outcome, stats, summary)
    return StepResult(Step.LISTINGS, outcome, run_id, summary, stats)


def _stats(crawls: dict[str, ProviderCrawl], outcomes: dict[str, ProviderOutcome],
           close_reason: str | None) -> dict[str, Any]:
    events: Counter[str] = Counter()
    providers: dict[str, Any] = {}
    for slug, crawl in crawls.items():
        outcome = outcomes[slug]
        events.update(outcome.events)
        providers[slug] = {
            **outcome.as_dict(),
            "pages": crawl.pages,
            "not_modified": crawl.not_modified,
            "listing_pages": crawl.listing_pages,
            "failures": [{"url": f.url, "reason": f.reason} for f in crawl.failures],
            "warnings": crawl.warnings,
        }
    return {
        "providers": providers,
        "events": dict(events),
        "pages": sum(c.pages for c in crawls.values()),
        "not_modified": sum(c.not_modified for c in crawls.values()),
        "offerings": sum(o.items for o in outcomes.values()),
        "close_reason": close_reason,
    }


def _summary(outcomes: dict[str, ProviderOutcome], stats: dict[str, Any]) -> str:
    from shelfcheck.text import plural

    statuses = Counter(o.status for o in outcomes.values())
    counts = ", ".join(f"{n} {s}" for s, n in statuses.items())
    parts = [f"{plural(len(outcomes), 'provider')} ({counts})",
             plural(stats["offerings"], "offering"), plural(stats["pages"], "page")]
    if stats["events"]:
        parts.append(", ".join(f"{n} {k}" for k, n in sorted(stats["events"].items())))
    else:
        parts.append("no changes")
    return "; ".join(parts)
