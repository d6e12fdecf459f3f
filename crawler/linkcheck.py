"""Run a link-health check: crawl every active link, store the checks, then move link states.

`run_check_links` crawls in this process (Twisted's reactor starts once per process, so call it
at most once per process), or, for a large catalog, shards the crawl by host over `link_workers`
spawned processes (`crawler.linkshards`), then concludes the run (`crawler.linkoutcome`).
The run is recorded as a CrawlRun of kind "links"; its outcome is ``ok``,
``inconclusive`` (the outage guard: checks stored, no state moved, one `run_inconclusive` event)
or ``failed``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, exists, select
from sqlalchemy.exc import SQLAlchemyError

from shelfcheck.catalog.db import open_database, transaction
from shelfcheck.catalog.links import link_key
from shelfcheck.catalog.models import Link, Provider, Resource, utcnow
from shelfcheck.catalog.notchecked import LinkExclude, link_exclude, refuse_not_checked
from shelfcheck.catalog.runs import StepResult, finish_run, start_run
from shelfcheck.catalog.states import ResourceState, RunKind, RunOutcome, Step
from shelfcheck.config import Settings
from shelfcheck.crawler.linkoutcome import conclude_run, run_failed
from shelfcheck.crawler.settings import scrapy_settings
from shelfcheck.errors import NotSynced, UsageError, short_error

if TYPE_CHECKING:
    from shelfcheck.crawler.linkfeed import HostQueue
    from shelfcheck.crawler.linksource import LinkSource

logger = logging.getLogger(__name__)
Progress = Callable[[int, int, int], None]


def link_scrapy_settings(settings: Settings, run_id: int) -> dict[str, Any]:
    """The Scrapy settings of a link-check crawl."""
    handler = "shelfcheck.crawler.netguard.GuardedHTTPDownloadHandler"
    return scrapy_settings(
        settings,
        DOWNLOAD_HANDLERS={"http": handler, "https": handler},
        DOWNLOAD_VERIFY_CERTIFICATES=True,
        DOWNLOADER="shelfcheck.crawler.politeness.PoliteDownloader",
        DOWNLOAD_MAXSIZE=0,  # BodyPrefix bounds what is read
        DOWNLOAD_DELAY=0,
        DOWNLOADER_MIDDLEWARES={
            "shelfcheck.crawler.politeness.HostSlotMiddleware": 50,
            "shelfcheck.crawler.politeness.WaitMiddleware": 60,
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
            "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
            "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
            "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
            "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
            # Not needed per request (about 15% of the CPU of a check, measured): the spider
            # sends its own Accept headers and counts its requests.
            "scrapy.downloadermiddlewares.defaultheaders.DefaultHeadersMiddleware": None,
            "scrapy.downloadermiddlewares.stats.DownloaderStats": None,
        },
        SPIDER_MIDDLEWARES={
            "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
            "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
            "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
            "scrapy.spidermiddlewares.httperror.HttpErrorMiddleware": None,  # we take every status
            "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
        },
        EXTENSIONS={
            "shelfcheck.crawler.politeness.CrawlDelay": 100,
            "shelfcheck.crawler.politeness.BodyPrefix": 100,
            "scrapy.extensions.logstats.LogStats": None,
            "scrapy.extensions.memusage.MemoryUsage": None,
            "scrapy.extensions.logcount.LogCount": None,
            "scrapy.extensions.remote_control.RemoteControl": None,
            # Receivers of per-response and per-item signals a link check does not read (the
            # spider keeps the finish reason itself), and extensions it never configures.
            "scrapy.extensions.corestats.CoreStats": None,
            "scrapy.extensions.feedexport.FeedExporter": None,
            "scrapy.extensions.spiderstate.SpiderState": None,
            "scrapy.extensions.memdebug.MemoryDebugger": None,
            "scrapy.extensions.throttle.AutoThrottle": None,
            "scrapy.extensions.telnet.TelnetConsole": None,
        },
        ITEM_PIPELINES={"shelfcheck.crawler.linkpipeline.LinkCheckPipeline": 300},
        SHELFCHECK_RUN_ID=run_id,
        SHELFCHECK_ALLOW_PRIVATE_ADDRESSES=settings.allow_private_addresses,
        SHELFCHECK_RETRY_TIMES=settings.retry_times,
        SHELFCHECK_RETRY_BACKOFF=settings.retry_backoff,
        SHELFCHECK_RETRY_AFTER_CAP=settings.retry_after_cap,
        SHELFCHECK_BODY_PREFIX_SIZE=settings.body_prefix_size,
        SHELFCHECK_MAX_CRAWL_DELAY=settings.max_crawl_delay,
        SHELFCHECK_LINK_METHOD=settings.link_method,
        REACTOR_THREADPOOL_MAXSIZE=20,
        # Each callback yields one item or request: Scrapy's default of 100 would start 100
        # asyncio tasks per response to process it.
        CONCURRENT_ITEMS=1,
        # The spider feeds a few requests per host at a time; first in, first out keeps every
        # host busy (Scrapy's default LIFO queue starves the hosts fed first).
        SCHEDULER_MEMORY_QUEUE="scrapy.squeues.FifoMemoryQueue",
        WARN_ON_GENERATOR_RETURN_VALUE=False,  # parses the callback's source per response
        LOG_INSTALL_ROOT_HANDLER=False,
    )


def _scope(engine: Engine, provider: str | None, urls: Sequence[str] | None,
           exclude: LinkExclude) -> tuple[int | None, list[int] | None]:
    """The provider id and link ids a run covers; unknown or unchecked ones are usage
    errors."""
    with transaction(engine) as session:
        provider_id = None
        if provider:
            provider_id = session.scalar(select(Provider.id).where(Provider.slug == provider))
            if provider_id is None:
                known = ", ".join(session.scalars(select(Provider.slug).order_by(Provider.slug)))
                error = UsageError if known else NotSynced
                raise error(f"no provider {provider!r} in the catalog (known: {known or 'none'})",
                            options=("provider",))
        if not urls:
            return provider_id, None
        ids: list[int] = []
        for url in urls:
            stored, _host = link_key(url)
            used = select(Resource.id).where(Resource.link_id == Link.id,
                                             Resource.state == ResourceState.ACTIVE)
            link_id = session.scalar(select(Link.id).where(Link.url == stored, exists(used)))
            if link_id is None:
                raise UsageError(f"{url!r} is not a link of any active resource in the "
                                 "catalog", options=("url",))
            ids.append(link_id)
        refuse_not_checked(session, exclude, dict(zip(urls, ids, strict=True)))
        return provider_id, ids


def _crawl(settings: Settings, engine: Engine, run_id: int, provider_id: int | None,
           link_ids: list[int] | None, progress: Progress | None) -> dict[str, Any]:
    """Crawl in this process, or sharded by host over `link_workers` processes."""
    from shelfcheck.crawler.cpuuse import cpu_in_use
    from shelfcheck.crawler.hostclaims import dedicated_host
    from shelfcheck.crawler.linkshards import ShardJob, run_sharded, worker_count
    from shelfcheck.crawler.linksource import LinkSource

    due_before = None
    if settings.recheck_every > 0 and link_ids is None:  # named URLs are always checked
        due_before = utcnow() - timedelta(days=settings.recheck_every)
    source = LinkSource(engine, provider_id=provider_id, link_ids=link_ids,
                        due_before=due_before, exclude=link_exclude(settings))
    hosts = source.hosts()
    workers = worker_count(settings, hosts)
    if workers <= 1:
        crawl = crawl_links(settings, run_id=run_id, source=source,
                            canary_url=settings.canary_url, progress=progress)
        crawl["workers"] = 1
    else:
        dedicate = dedicated_host(hosts, workers, settings.max_in_flight_per_host,
                                  source.answer_time(hosts[0][0]), cpu_in_use)
        jobs = [ShardJob(i, workers, run_id, provider_id,
                         tuple(link_ids) if link_ids is not None else None, due_before,
                         settings.canary_url if i == 0 else None)
                for i in range(workers)]
        crawl = run_sharded(settings, jobs, hosts, progress, dedicate=dedicate)
        crawl["dedicated"] = hosts[0][0] if dedicate else None
    crawl["not_due"] = source.not_due_count()
    crawl["not_checked"] = source.not_checked_count()
    return crawl


def crawl_links(settings: Settings, *, run_id: int, source: LinkSource,
                canary_url: str | None, progress: Progress | None,
                max_in_flight: int | None = None,
                hosts: HostQueue | None = None) -> dict[str, Any]:
    """Run the link spider over `source` in this process (starts the reactor: once only);
    `hosts`: where its hosts come from (default: every host of `source`)."""
    from scrapy.crawler import CrawlerProcess

    from shelfcheck.crawler.spiders.links import LinkSpider

    for handler in logging.root.handlers:  # Scrapy's logging setup sets every level to DEBUG
        if handler.level == logging.NOTSET:
            handler.setLevel(settings.log_level)
    values = link_scrapy_settings(settings, run_id)
    if max_in_flight is not None:
        values["CONCURRENT_REQUESTS"] = max_in_flight
    process = CrawlerProcess(values)
    crawler = process.create_crawler(LinkSpider)
    process.crawl(crawler, source=source, canary_url=canary_url, progress=progress,
                  hosts=hosts)
    # Scrapy's logging setup resets levels: keep ours, and keep the robots.txt middleware
    # from logging a traceback per unreachable host (the checks record those failures).
    logging.root.setLevel(settings.log_level)
    logging.getLogger("scrapy").setLevel(settings.log_level)
    logging.getLogger("scrapy.downloadermiddlewares.robotstxt").setLevel(logging.CRITICAL)
    process.start()
    spider = crawler.spider
    stats = crawler.stats.get_stats() if crawler.stats else {}
    return {
        "total": getattr(spider, "total", 0),
        "checked": getattr(spider, "checked", 0),
        "canary_failure": getattr(spider, "canary_failure", None),
        "error": getattr(spider, "error", None) or stats.get("shelfcheck/pipeline_error"),
        "finish_reason": getattr(spider, "finish_reason", None) or stats.get("finish_reason"),
        "requests": getattr(spider, "requests", 0),
    }


def run_check_links(
    settings: Settings,
    *,
    provider: str | None = None,
    urls: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> StepResult:
    """Check the catalog's links (all, one provider's, or the given URLs); see the module doc."""
    engine = open_database(settings.database_url, busy_timeout=settings.sqlite_busy_timeout)
    try:
        provider_id, link_ids = _scope(engine, provider, urls, link_exclude(settings))
        run_id = start_run(engine, RunKind.LINKS)
        started = time.monotonic()
        try:
            crawl = _crawl(settings, engine, run_id, provider_id, link_ids, progress)
        except Exception as exc:
            logger.exception("link check crawl failed")
            with transaction(engine) as session:
                finish_run(session, run_id, RunOutcome.FAILED, detail=f"crawl failed: {exc}")
            return StepResult(Step.LINKS, RunOutcome.FAILED, run_id, f"the crawl failed: {exc}")
        try:
            return conclude_run(settings, engine, run_id, provider_id, link_ids, crawl,
                                time.monotonic() - started)
        except Exception as exc:  # e.g. the database went away: no link state moved
            logger.error("concluding the link check failed: %s", short_error(exc),
                         exc_info=not isinstance(exc, SQLAlchemyError))
            return run_failed(engine, run_id, f"concluding the run failed, no link state was "
                              f"changed: {short_error(exc)}")
    finally:
        engine.dispose()
