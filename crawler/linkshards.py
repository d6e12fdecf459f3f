"""Shard a link check by host over worker processes, each owning whole hosts.

The parent starts the spawned workers, sums their progress and merges their crawl results. The
workers share one queue of the run's hosts, the busiest first (`SharedHosts`): each claims its
next host when it has room for one, so the largest queues start first and a worker that runs
slower (a core shared with other work) simply claims fewer hosts. A worker runs the same crawl
as a one-process check, on the hosts it claimed only, so the per-host limit, robots.txt and
Crawl-delay stay exact; its pipeline stores its checks under the run's id, and the parent
concludes the run from the database as before (outage guard, states in one transaction).

A worker exits at once, without concluding anything, when its control pipe closes: its parent
stopped it, failed, or is gone. It has its own process group, so a Ctrl-C at the terminal
reaches only the parent, which stops the workers that way.
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection, wait
from multiprocessing.sharedctypes import SynchronizedArray
from typing import Any

from shelfcheck.config import Settings
from shelfcheck.crawler.hostclaims import SharedHosts

log = logging.getLogger(__name__)
Progress = Callable[[int, int, int], None]

# Below this many links per worker a process start (about 2 s of imports) costs more than the
# worker saves, at about 2 ms of CPU per link.
MIN_LINKS_PER_WORKER = 500
PROGRESS_EVERY = 0.25  # seconds between a worker's progress messages
EXIT_STOPPED = 143


@dataclass(frozen=True)
class ShardJob:
    """What one worker checks."""

    index: int
    of: int  # the number of workers of the run
    run_id: int
    provider_id: int | None
    link_ids: tuple[int, ...] | None
    due_before: datetime | None
    canary_url: str | None


def worker_count(settings: Settings, hosts: Sequence[tuple[str, int]]) -> int:
    """Workers for these (host, links) queues: `link_workers` (0: one per core), at most one per
    host and one per MIN_LINKS_PER_WORKER links."""
    wanted = settings.link_workers or os.cpu_count() or 1
    real = sum(1 for host, _n in hosts if host)
    links = sum(n for _h, n in hosts)
    return max(1, min(wanted, real, links // MIN_LINKS_PER_WORKER))


def merge_crawls(crawls: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One crawl result from the workers' results."""
    errors = [str(c["error"]) for c in crawls if c.get("error")]
    reasons = [c.get("finish_reason") for c in crawls]
    unusual = [r for r in reasons if r != "finished"]
    return {
        "total": sum(int(c.get("total") or 0) for c in crawls),
        "checked": sum(int(c.get("checked") or 0) for c in crawls),
        "requests": sum(int(c.get("requests") or 0) for c in crawls),
        "canary_failure": next((c["canary_failure"] for c in crawls
                                if c.get("canary_failure")), None),
        "error": "; ".join(errors) or None,
        "finish_reason": unusual[0] if unusual else "finished",
    }


@dataclass
class _Worker:
    job: ShardJob
    process: Any
    control: Connection
    results: Connection
    progress: tuple[int, int, int] = (0, 0, 0)
    crawl: dict[str, Any] | None = None


def run_sharded(settings: Settings, jobs: Sequence[ShardJob], hosts: Sequence[tuple[str, int]],
                progress: Progress | None = None, *, dedicate: bool = False) -> dict[str, Any]:
    """Run one worker process per job over `hosts` ((host, links), the busiest first), which
    the workers claim as they go; `dedicate`: the busiest host gets a worker of its own
    (`dedicated_host`). Returns the merged crawl result.

    A worker that fails (an error, or its process ends without a result) fails the run and
    stops the others.
    """
    ctx = multiprocessing.get_context("spawn")
    workers: list[_Worker] = []
    settings_data = (dict(settings.values), dict(settings.sources))
    queue = (tuple(hosts), SharedHosts.shared_state(ctx, len(jobs), dedicate))
    total = sum(n for _h, n in hosts)
    try:
        for job in jobs:
            control_read, control_write = ctx.Pipe(duplex=False)
            result_read, result_write = ctx.Pipe(duplex=False)
            process = ctx.Process(target=worker_main, name=f"shelfcheck-links-{job.index}",
                                  args=(settings_data, job, queue, control_read,
                                        result_write, _log_target()))
            with _main_not_reimported():
                process.start()
            control_read.close()
            result_write.close()
            workers.append(_Worker(job, process, control_write, result_read))
        stopped = _collect(workers, total, progress)
    finally:
        _stop(workers, settings.stop_timeout)
    crawls = [w.crawl if w.crawl is not None else {
        "error": None if w in stopped else f"link worker {w.job.index} ended without a "
                 f"result (exit code {w.process.exitcode})",
        "finish_reason": "stopped" if w in stopped else "worker_failed"}
        for w in workers]
    merged = merge_crawls(crawls)
    merged["workers"] = len(workers)
    return merged


@contextlib.contextmanager
def _main_not_reimported() -> Iterator[None]:
    """Start a spawned worker without re-running the parent's main script in it.

    A spawned child imports the parent's main script (the `shelfcheck` console script, which
    imports the whole CLI) unless it was run with ``python -m``; a worker needs none of it: its
    target lives in this module. While the child is prepared, the script's path is hidden.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


def _collect(workers: list[_Worker], total: int, progress: Progress | None) -> list[_Worker]:
    """Read the workers' messages until all are done or one failed; returns the workers
    still running then (they are stopped: the run has failed). Progress is out of `total`,
    the run's links."""
    pending = {w.results: w for w in workers}
    while pending:
        for conn in wait(list(pending)):
            worker = pending[conn]  # type: ignore[index]
            try:
                kind, *payload = worker.results.recv()
            except (EOFError, OSError):
                del pending[conn]  # type: ignore[arg-type]
                worker.process.join()
                log.error("link worker %s ended without a result (exit code %s)",
                          worker.job.index, worker.process.exitcode)
                return list(pending.values())  # the run has failed: stop the others
            if kind == "progress":
                worker.progress = tuple(payload)
                if progress is not None:
                    checked, failures = (sum(w.progress[i] for w in workers) for i in (0, 2))
                    progress(checked, total, failures)
                continue
            worker.crawl = payload[0]
            del pending[conn]  # type: ignore[arg-type]
            if worker.crawl and worker.crawl.get("error"):
                return list(pending.values())
    return []


def _stop(workers: list[_Worker], timeout: float) -> None:
    """Close the control pipes (a worker still running exits at once); kill the stragglers."""
    for worker in workers:
        with contextlib.suppress(OSError):
            worker.control.close()
    deadline = time.monotonic() + timeout
    for worker in workers:
        worker.process.join(max(0.0, deadline - time.monotonic()))
        if worker.process.is_alive():
            log.error("link worker %s did not stop; killing it", worker.job.index)
            worker.process.kill()
            worker.process.join()
        with contextlib.suppress(OSError):
            worker.results.close()


def _log_target() -> tuple[str, str | None]:
    root = logging.getLogger()
    log_file = next(
        (h.baseFilename for h in root.handlers if isinstance(h, logging.FileHandler)), None
    )
    return logging.getLevelName(root.getEffectiveLevel()), log_file


def _configure_logging(level: str, log_file: str | None) -> None:
    handler: logging.Handler = (
        logging.FileHandler(log_file, encoding="utf-8") if log_file else logging.StreamHandler()
    )
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def worker_main(settings_data: tuple[dict[str, Any], dict[str, str]], job: ShardJob,
                queue: tuple[tuple[tuple[str, int], ...], SynchronizedArray[int]],
                control: Connection, results: Connection,
                log_target: tuple[str, str | None]) -> None:
    """A worker process: crawl the hosts it claims, send progress and the crawl result."""
    from shelfcheck.catalog.db import make_engine
    from shelfcheck.catalog.notchecked import link_exclude
    from shelfcheck.crawler.linkcheck import crawl_links
    from shelfcheck.crawler.linksource import LinkSource

    os.setpgid(0, 0)
    _configure_logging(*log_target)

    def watch_parent() -> None:
        with contextlib.suppress(EOFError, OSError):
            control.recv()
        os._exit(EXIT_STOPPED)  # stopped, or the parent is gone: uncommitted checks roll back

    threading.Thread(target=watch_parent, name="stop-watch", daemon=True).start()
    settings = Settings(*settings_data)
    last = 0.0

    def report(checked: int, total: int, failures: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY or checked == total:
            last = now
            with contextlib.suppress(OSError):
                results.send(("progress", checked, total, failures))

    crawl: dict[str, Any]
    engine = make_engine(settings.database_url, busy_timeout=settings.sqlite_busy_timeout)
    try:
        source = LinkSource(engine, provider_id=job.provider_id, link_ids=job.link_ids,
                            due_before=job.due_before, exclude=link_exclude(settings))
        crawl = crawl_links(settings, run_id=job.run_id, source=source,
                            canary_url=job.canary_url, progress=report,
                            max_in_flight=_share(settings.max_in_flight, job),
                            hosts=SharedHosts(*queue, job.index))
    except Exception as exc:
        log.exception("link worker %s failed", job.index)
        crawl = {"error": f"link worker {job.index} failed: {exc}",
                 "finish_reason": "worker_failed"}
    finally:
        engine.dispose()
    with contextlib.suppress(OSError):
        results.send(("done", crawl))
    logging.shutdown()
    os._exit(0)


def _share(max_in_flight: int, job: ShardJob) -> int:
    """A worker's part of the global in-flight bound."""
    return max(1, math.ceil(max_in_flight / max(1, job.of)))
