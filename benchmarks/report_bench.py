"""Benchmark: the weekly report over a catalog of 100,000 links.

    .venv/bin/python benchmarks/report_bench.py [--links 100000] [--db sqlite|postgresql|both]

The database holds N links used by N resources in 50 sections, two weekly link runs with a check
of every link each (2N link_check rows), 7% of links not ok, N / 10 change events in the period
(a fifth of them broken links), and 2,000 offerings with fees. It times `write_report` for all
four formats, each report in a child process, and prints each child's peak memory (VmHWM).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, text

from shelfcheck.catalog.db import open_database
from shelfcheck.catalog.models import (
    ChangeEvent,
    CrawlRun,
    FeeTier,
    Link,
    LinkCheck,
    Offering,
    Provider,
    Resource,
    Section,
)
from shelfcheck.config import load_settings
from shelfcheck.reports.write import write_report

NOW = datetime(2027, 1, 4, 7, 0, tzinfo=UTC)
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CHUNK = 10_000


def chunks(rows: list[dict[str, object]]) -> list[list[dict[str, object]]]:
    return [rows[i:i + CHUNK] for i in range(0, len(rows), CHUNK)]


def populate(engine: Engine, n: int) -> None:
    """Insert the benchmark catalog with bulk inserts."""
    day = timedelta(days=1)
    states = ["ok"] * 93 + ["broken"] * 5 + ["redirected"] + ["unverifiable"]
    with engine.begin() as conn:
        conn.execute(insert(Provider), [
            {"id": p, "slug": f"p{p}", "name": f"Provider {p}", "active": True,
             "recipe": {"url": f"https://p{p}.example.org/events"}} for p in range(1, 21)])
        conn.execute(insert(Section), [{"id": s, "name": f"Section {s}", "position": s,
                                        "active": True} for s in range(1, 51)])
        links, resources = [], []
        for i in range(1, n + 1):
            state = states[i % len(states)]
            links.append({
                "id": i, "url": f"https://host{i % 500}.example.org/page/{i}",
                "host": f"host{i % 500}.example.org", "state": state,
                "state_since": NOW - (i % 30) * day, "last_verdict": {
                    "ok": "ok", "broken": "not_found", "redirected": "redirected",
                    "unverifiable": "blocked"}[state],
                "last_http_status": {"ok": 200, "broken": 404, "redirected": 301,
                                     "unverifiable": 403}[state],
                "last_checked_at": NOW - day, "consecutive_failures": 0,
                "redirect_target": f"https://new{i}.example.org/" if state == "redirected"
                else None,
            })
            resources.append({
                "id": i, "title": f"Resource {i}", "section_id": i % 50 + 1,
                "provider_id": i % 20 + 1, "url": links[-1]["url"], "link_id": i,
                "description": "", "position": i, "state": "active",
                "created_at": NOW - 90 * day, "updated_at": NOW - 90 * day,
            })
        for part in chunks(links):
            conn.execute(insert(Link), part)
        for part in chunks(resources):
            conn.execute(insert(Resource), part)
        conn.execute(insert(CrawlRun), [
            {"id": 1, "kind": "links", "started_at": NOW - 8 * day,
             "finished_at": NOW - 8 * day + timedelta(hours=1), "outcome": "ok", "stats": {}},
            {"id": 2, "kind": "links", "started_at": NOW - day,
             "finished_at": NOW - day + timedelta(hours=1), "outcome": "ok", "stats": {}},
            {"id": 3, "kind": "listings", "started_at": NOW - day + timedelta(hours=2),
             "finished_at": NOW - day + timedelta(hours=3), "outcome": "ok", "stats": {}},
        ])
        for run_id, base in ((1, NOW - 8 * day), (2, NOW - day)):
            checks = [{"link_id": i, "run_id": run_id, "verdict": "ok", "http_status": 200,
                       "checked_at": base + timedelta(milliseconds=20 * i)}
                      for i in range(1, n + 1)]
            for part in chunks(checks):
                conn.execute(insert(LinkCheck), part)
        offerings, fees = [], []
        for o in range(1, 2001):
            offerings.append({
                "id": o, "provider_id": o % 20 + 1, "key": f"k{o}", "title": f"Offering {o}",
                "url": f"https://p{o % 20 + 1}.example.org/e/{o}", "schedule": "scheduled",
                "start_at": NOW + (o % 60) * day, "fee_known": True, "state": "active",
                "first_seen_at": NOW - 30 * day, "last_seen_at": NOW - day, "sequence": 0})
            fees.append({"offering_id": o, "tier": "", "amount": Decimal("45.00"),
                         "currency": "USD", "position": 0})
        conn.execute(insert(Offering), offerings)
        conn.execute(insert(FeeTier), fees)
        kinds = ["link_broken", "offering_added", "fee_changed", "offering_ended",
                 "offering_rescheduled"]
        events = []
        for e in range(n // 10):
            kind = kinds[e % len(kinds)]
            row: dict[str, object] = {
                "kind": kind, "severity": "action" if kind in ("link_broken", "fee_changed")
                else "info", "detected_at": NOW - day + timedelta(seconds=e), "run_id": 2,
                "url": None, "title": None, "tier": None, "old": None, "new": None,
                "resources": None, "sections": None, "link_id": None, "offering_id": None,
                "provider_id": None, "verdict": None, "http_status": None, "detail": None}
            if kind == "link_broken":
                link_id = (e * 10) % n + 1
                row.update(link_id=link_id, url=links[link_id - 1]["url"], verdict="not_found",
                           http_status=404, resources=[f"Resource {link_id}"],
                           sections=[f"Section {link_id % 50 + 1}"])
            else:
                off = e % 2000 + 1
                row.update(offering_id=off, provider_id=off % 20 + 1, run_id=3)
                if kind == "fee_changed":
                    row.update(tier="", old="40.00", new="45.00")
                if kind == "offering_rescheduled":
                    row.update(old=(NOW + 3 * day).isoformat(), new=(NOW + 5 * day).isoformat())
            events.append(row)
        conn.execute(insert(ChangeEvent), events)
        if engine.dialect.name == "postgresql":
            for table in ("link", "resource", "crawl_run", "offering", "provider", "section"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))


def bench(url: str, n: int, out: Path) -> None:
    engine = open_database(url)
    started = time.perf_counter()
    populate(engine, n)
    print(f"{engine.dialect.name}: populated {n:,} links, {2 * n:,} checks "
          f"in {time.perf_counter() - started:.1f} s")
    name = engine.dialect.name
    engine.dispose()
    for attempt in (1, 2):
        subprocess.run([sys.executable, __file__, "--report", url, str(out / f"{name}-{attempt}")],
                       check=True)


def report(url: str, out: Path) -> None:
    """One report of the populated database, in this process (the child of `bench`)."""
    engine = open_database(url)
    settings = load_settings(environ={}, cwd=out.parent)
    started = time.perf_counter()
    outcome = write_report(engine, settings, since=NOW - timedelta(days=7), until=NOW,
                           now=NOW, out_dir=out)
    elapsed = time.perf_counter() - started
    sizes = ", ".join(f"{p.suffix} {p.stat().st_size / 1e6:.1f} MB"
                      for p in outcome.paths if p.name.startswith("shelfcheck-"))
    # VmHWM, not ru_maxrss: a child's ru_maxrss counts its parent's memory at the fork.
    peak = int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text())[1]) / 1024
    print(f"{engine.dialect.name}: report in {elapsed:.2f} s, peak RSS {peak:.0f} MB "
          f"(summary {outcome.summary['broken']:,} broken, "
          f"{outcome.summary['links_checked']:,} checked; {sizes})")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--report", nargs=2, metavar=("URL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.report:
        report(args.report[0], Path(args.report[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        if args.db in ("sqlite", "both"):
            bench(f"sqlite:///{out}/bench.db", args.links, out)
        if args.db in ("postgresql", "both"):
            name = f"shelfcheck_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                bench(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", args.links, out)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
