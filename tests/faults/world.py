"""Helpers of the fault suite: the hostile server process, catalog files, integrity checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine, text

from shelfcheck.catalog.verdicts import FAILING
from tests.loopback import JsonReadyServer

# Settings every fault run uses: short bounds, so a hostile host costs seconds, not minutes.
FAST = {
    "SHELFCHECK_ALLOW_PRIVATE_ADDRESSES": "true",
    "SHELFCHECK_DOWNLOAD_TIMEOUT": "2",
    "SHELFCHECK_RETRY_TIMES": "1",
    "SHELFCHECK_RETRY_BACKOFF": "0.2",
    "SHELFCHECK_MAX_DOWNLOAD_SIZE": str(2 * 1024 * 1024),
    "SHELFCHECK_CONFIRM_AFTER": "1",
    "SHELFCHECK_RUN_TIME_LIMIT": "120",
}


class HostileServer(JsonReadyServer):
    """Context manager: `python -m tests.faults.hostile` in a child process."""

    module = "tests.faults.hostile"

    def __init__(self, folder: Path, *extra: str, prefix: list[str] | None = None) -> None:
        super().__init__("--dir", str(folder), *extra, prefix=prefix or [])
        self.folder = folder
        self.hosts: dict[str, str] = {}
        self.log_path = folder / "requests.jsonl"

    def ready(self, line: str) -> None:
        super().ready(line)
        self.hosts = self.info["hosts"]

    def url(self, host: str, path: str = "/") -> str:
        return self.hosts[host] + path

    def requests(self) -> list[dict[str, Any]]:
        if not self.log_path.exists():
            return []
        with self.log_path.open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]


def provider_recipe(listing: str, **extra: Any) -> dict[str, Any]:
    """The recipe of the hostile world's listing layout (<li class="course">)."""
    recipe: dict[str, Any] = {
        "listing": listing, "item": "li.course", "link": "a.title",
        "timezone": "America/New_York", "format": "course",
        "fields": {"title": "a.title", "when": {"css": ".when", "optional": True},
                   "fee": {"css": ".fee", "optional": True},
                   "description": {"css": ".desc", "optional": True}},
    }
    recipe.update(extra)
    return recipe


def write_catalog(path: Path, resources: Iterable[tuple[str, str | None]],
                  providers: dict[str, dict[str, Any] | None] | None = None) -> Path:
    """A catalog file: one section of (title, url) resources, plus providers with recipes."""
    data: dict[str, Any] = {
        "schema": "shelfcheck.catalogfile/1",
        "guide": {"title": "Fault guide", "url": "https://guide.example/faults"},
        "providers": [{"slug": "world", "name": "The world", "home": "http://example.invalid/"}],
        "sections": [{"name": "Resources", "resources": [
            {"title": title, "url": url, "provider": "world", "description": title}
            for title, url in resources]}],
    }
    for slug, recipe in (providers or {}).items():
        entry: dict[str, Any] = {"slug": slug, "name": f"Provider {slug}",
                                 "home": "http://example.invalid/"}
        if recipe:
            entry["recipe"] = recipe
        data["providers"].append(entry)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def shelfcheck_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "shelfcheck", *args]


def clean_env(**settings: str) -> dict[str, str]:
    """The environment of a child shelfcheck: no inherited SHELFCHECK_* keys, then `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHELFCHECK_")}
    env.update(settings)
    return env


def run(*args: str, cwd: Path, env: dict[str, str], timeout: float = 120,
        ) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run shelfcheck in a child process; returns the result and how long it took."""
    started = time.monotonic()
    result = subprocess.run(shelfcheck_cmd(*args), cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout, check=False)
    return result, time.monotonic() - started


@dataclass
class Integrity:
    """What `check_integrity` found: problems (empty when the database is sound) and counts."""

    problems: list[str]
    counts: dict[str, int]


INVARIANTS = {
    # A link moves only when its run concluded: its last check belongs to a run that ended ok.
    "link state moved by a run that did not end ok": """
        SELECT l.url FROM link l WHERE l.last_checked_at IS NOT NULL AND NOT EXISTS (
          SELECT 1 FROM link_check c JOIN crawl_run r ON r.id = c.run_id
          WHERE c.link_id = l.id AND c.checked_at = l.last_checked_at AND r.outcome = 'ok')""",
    "broken link without a failing check": """
        SELECT l.url FROM link l WHERE l.state = 'broken' AND (l.consecutive_failures < 1
          OR l.last_verdict NOT IN (""" + ", ".join(f"'{v}'" for v in sorted(FAILING)) + "))",
    "event of a run that did not conclude": """
        SELECT e.id FROM change_event e JOIN crawl_run r ON r.id = e.run_id
        WHERE r.outcome IN ('running', 'aborted', 'failed')""",
    "offering of a provider never crawled well": """
        SELECT o.id FROM offering o JOIN provider p ON p.id = o.provider_id
        WHERE p.last_good_crawl_at IS NULL""",
    "offering seen after its provider's last good crawl": """
        SELECT o.id FROM offering o JOIN provider p ON p.id = o.provider_id
        WHERE o.last_seen_at > p.last_good_crawl_at""",
    "finished run without an end time": """
        SELECT id FROM crawl_run WHERE outcome <> 'running' AND finished_at IS NULL""",
    "unknown run outcome": """
        SELECT id FROM crawl_run
        WHERE outcome NOT IN ('running', 'ok', 'inconclusive', 'failed', 'aborted')""",
}


def check_integrity(db_url: str) -> Integrity:
    """SQLite's integrity and foreign key checks (on SQLite), then shelfcheck's invariants."""
    url = db_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    problems: list[str] = []
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                result = [row[0] for row in conn.execute(text("PRAGMA integrity_check"))]
                if result != ["ok"]:
                    problems.append(f"integrity_check: {result[:5]}")
                fks = list(conn.execute(text("PRAGMA foreign_key_check")))
                if fks:
                    problems.append(f"foreign_key_check: {fks[:5]}")
            for name, query in INVARIANTS.items():
                rows = list(conn.execute(text(query)))
                if rows:
                    problems.append(f"{name}: {[tuple(r) for r in rows[:5]]}")
            counts = {table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                                 or 0)
                      for table in ("resource", "link", "link_check", "offering", "fee_tier",
                                    "change_event", "crawl_run")}
    finally:
        engine.dispose()
    return Integrity(problems, counts)


# Read at import: the `cli` fixture clears SHELFCHECK_* variables while a test runs.
REPORT = os.environ.get("SHELFCHECK_FAULT_REPORT")


def measure(fault: str, /, **figures: Any) -> None:
    """Append a measurement to $SHELFCHECK_FAULT_REPORT (JSON lines) for docs/reliability.md."""
    target = REPORT
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"fault": fault, **figures}, default=str) + "\n")


def query(db_url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Rows of one SQL query (tests read the database the CLI wrote)."""
    url = db_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


PAGE_HOSTS = ("healthy", "redirect", "charset", "html", "idn")  # all serve /slow/N after 50 ms
LINKS = 150
BIG_LISTING = 300


@dataclass
class World:
    """A catalog of slow-ish healthy links and listings, synced into `db_url`."""

    server: HostileServer
    db_url: str
    env: dict[str, str]
    cwd: Path
    offerings: int


@contextmanager
def healthy_world(tmp_path: Path, db_url: str, links: int = LINKS) -> Iterator[World]:
    with HostileServer(tmp_path / "world") as server:
        resources = [(f"page {i}", server.url(PAGE_HOSTS[i % len(PAGE_HOSTS)], f"/slow/{i}"))
                     for i in range(links)]
        providers = {
            "p-healthy": provider_recipe(server.url("healthy", "/listing")),
            "p-dupes": provider_recipe(server.url("dupes", "/listing")),
            "p-big": provider_recipe(server.url("big", f"/listing?n={BIG_LISTING}")),
        }
        catalog = write_catalog(tmp_path / "catalog.yaml", resources, providers)
        # Generous bounds: a check that times out on a busy test machine would be a false alarm.
        env = clean_env(**{**FAST, "SHELFCHECK_DOWNLOAD_TIMEOUT": "10",
                           "SHELFCHECK_CONFIRM_AFTER": "2"}, SHELFCHECK_DATABASE_URL=db_url,
                        SHELFCHECK_CATALOG_FILE=str(catalog),
                        SHELFCHECK_REPORTS_DIR=str(tmp_path / "out-reports"),
                        SHELFCHECK_EXPORTS="json", SHELFCHECK_EXPORTS_DIR=str(tmp_path / "out"),
                        SHELFCHECK_STOP_TIMEOUT="5")
        synced, _ = run("catalog", "sync", str(catalog), cwd=tmp_path, env=env)
        assert synced.returncode == 0, synced.stderr
        yield World(server, db_url, env, tmp_path, offerings=3 + 3 + BIG_LISTING)
