"""Item pipeline of the link spider: stores each check, in batches, in the catalog database."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.utils.defer import _schedule_coro
from sqlalchemy import Engine, bindparam, insert, update

from shelfcheck.catalog.db import make_engine
from shelfcheck.catalog.models import Link, LinkCheck
from shelfcheck.errors import short_error

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)
CHECK_FIELDS = ("link_id", "verdict", "http_status", "final_url", "redirect_chain", "method",
                "elapsed_ms", "detail", "checked_at")


class LinkCheckPipeline:
    """Buffers results and writes them `batch_size` at a time: the checks of the run, and the
    ETag/Last-Modified validators a working link sent (for the next run's conditional request).
    """

    def __init__(self, database_url: str, run_id: int, batch_size: int = 500,
                 busy_timeout: float = 30.0) -> None:
        self.crawler: Crawler | None = None
        self.database_url = database_url
        self.run_id = run_id
        self.batch_size = batch_size
        self.busy_timeout = busy_timeout
        self.engine: Engine | None = None
        self.checks: list[dict[str, Any]] = []
        self.validators: list[dict[str, Any]] = []
        self.contents: list[dict[str, Any]] = []
        self.baselines: list[dict[str, Any]] = []
        self.stored = 0
        self.error: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        values = crawler.settings.getdict("SHELFCHECK_SETTINGS")
        pipeline = cls(values["database_url"], crawler.settings.getint("SHELFCHECK_RUN_ID"),
                       crawler.settings.getint("SHELFCHECK_BATCH_SIZE", 500),
                       float(values.get("sqlite_busy_timeout", 30.0)))
        pipeline.crawler = crawler
        return pipeline

    def open_spider(self) -> None:
        self.engine = make_engine(self.database_url, busy_timeout=self.busy_timeout)

    def close_spider(self) -> None:
        try:
            self.flush()
        finally:
            if self.engine is not None:
                self.engine.dispose()
                self.engine = None

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        if self.error is not None:
            return item
        row = {name: item.get(name) for name in CHECK_FIELDS}
        row["run_id"] = self.run_id
        self.checks.append(row)
        validators = item.get("validators")
        if validators is not None:
            self.validators.append({"b_id": item["link_id"], "b_etag": validators[0],
                                    "b_lm": validators[1]})
        content = item.get("content")
        if content is not None:
            row = {"b_id": item["link_id"], "b_fp": content["fingerprint"],
                   "b_title": content["title"]}
            self.contents.append(row)
            if content.get("baseline"):
                self.baselines.append({**row, "b_at": item["checked_at"]})
        if len(self.checks) >= self.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        """Write the buffered checks and validators in one transaction.

        When that fails (the database went away) the run has failed: the error is recorded in
        the stats, the crawl is closed, and nothing more is written.
        """
        if self.error is not None or (not self.checks and not self.validators):
            return
        assert self.engine is not None
        try:
            self._write()
        except Exception as exc:
            self.error = f"storing checks failed: {short_error(exc)}"
            log.error("%s; stopping the link check", self.error)
            self.checks, self.validators, self.contents, self.baselines = [], [], [], []
            if self.crawler is not None:
                if self.crawler.stats is not None:
                    self.crawler.stats.set_value("shelfcheck/pipeline_error", self.error)
                if self.crawler.engine is not None and self.crawler.engine.spider is not None:
                    _schedule_coro(self.crawler.engine.close_spider_async(
                        reason="pipeline_error"))
            return
        self.stored += len(self.checks)
        self.checks, self.validators, self.contents, self.baselines = [], [], [], []

    def _write(self) -> None:
        assert self.engine is not None
        table = Link.__table__
        with self.engine.begin() as conn:
            if self.checks:
                conn.execute(insert(LinkCheck.__table__), self.checks)  # type: ignore[arg-type]
            if self.validators:
                conn.execute(
                    update(table)  # type: ignore[arg-type]
                    .where(table.c.id == bindparam("b_id"))
                    .values(etag=bindparam("b_etag"), last_modified=bindparam("b_lm")),
                    self.validators,
                )
            if self.contents:
                conn.execute(
                    update(table)  # type: ignore[arg-type]
                    .where(table.c.id == bindparam("b_id"))
                    .values(content_seen=bindparam("b_fp"),
                            content_seen_title=bindparam("b_title")),
                    self.contents,
                )
            if self.baselines:
                # The first good check's page becomes the baseline, only where there is none.
                conn.execute(
                    update(table)  # type: ignore[arg-type]
                    .where(table.c.id == bindparam("b_id"), table.c.content_baseline.is_(None))
                    .values(content_baseline=bindparam("b_fp"),
                            content_baseline_title=bindparam("b_title"),
                            content_baseline_at=bindparam("b_at")),
                    self.baselines,
                )
