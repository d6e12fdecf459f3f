"""Benchmark: every export format over a large catalog.

    .venv/bin/python benchmarks/export_bench.py [--resources 20000] [--db sqlite|postgresql|both]

The database holds N resources (each with its own link, 7% not ok) in 50 sections, 2,000 offerings
(half upcoming, with two fee tiers each) in 20 providers and 5,000 change events. It times each
format's render and atomic write, then prints the file sizes and the peak memory (max RSS).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, create_engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shelfcheck.catalog.db import open_database, transaction
from shelfcheck.catalog.models import (
    ChangeEvent,
    FeeTier,
    Link,
    Meta,
    Offering,
    Provider,
    Resource,
    Section,
)
from shelfcheck.exports.base import export_kinds, get_exporter

NOW = datetime(2027, 1, 4, 7, 0, tzinfo=UTC)
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CHUNK = 10_000
ZONES = ["America/Los_Angeles", "America/Chicago", "America/New_York", "UTC"]


def bulk(engine: Engine, table: object, rows: list[dict[str, object]]) -> None:
    with engine.begin() as conn:
        for i in range(0, len(rows), CHUNK):
            conn.execute(insert(table), rows[i:i + CHUNK])  # type: ignore[call-overload]


def populate(engine: Engine, n: int) -> None:
    """Insert the benchmark catalog with bulk inserts."""
    states = ["ok"] * 93 + ["broken"] * 5 + ["redirected"] + ["unverifiable"]
    guide = {"title": "Benchmark guide", "url": "https://guide.example.org/"}
    bulk(engine, Meta, [{"key": "guide", "value": json.dumps(guide)}])
    bulk(engine, Provider, [{"id": p, "slug": f"p{p}", "name": f"Provider {p}", "active": True,
                             "home_url": f"https://p{p}.example.org/"} for p in range(1, 21)])
    bulk(engine, Section, [{"id": s, "name": f"Section {s}", "position": s, "active": True}
                           for s in range(1, 51)])
    links, resources = [], []
    for i in range(1, n + 1):
        state = states[i % len(states)]
        url = f"https://host{i % 500}.example.org/page/{i}"
        links.append({"id": i, "url": url, "host": f"host{i % 500}.example.org", "state": state,
                      "last_verdict": {"broken": "not_found", "redirected": "redirected",
                                       "unverifiable": "blocked"}.get(state, "ok"),
                      "last_http_status": 200, "last_checked_at": NOW - timedelta(hours=5),
                      "state_since": NOW - timedelta(days=i % 30), "consecutive_failures": 0,
                      "redirect_target": f"{url}/new" if state == "redirected" else None})
        resources.append({"id": i, "title": f"Resource {i}", "section_id": i % 50 + 1,
                          "provider_id": i % 20 + 1, "url": url, "link_id": i,
                          "description": f"Resource {i}: a training resource for staff.",
                          "position": i, "state": "active", "created_at": NOW,
                          "updated_at": NOW})
    bulk(engine, Link, links)
    bulk(engine, Resource, resources)
    offerings, fees = [], []
    for o in range(1, 2001):
        start = NOW + timedelta(days=o % 120 - 60, hours=o % 9)
        offerings.append({"id": o, "provider_id": o % 20 + 1, "key": f"https://p{o % 20 + 1}"
                          f".example.org/event/{o}", "title": f"Offering {o}",
                          "url": f"https://p{o % 20 + 1}.example.org/event/{o}",
                          "format": "webinar" if o % 3 else "course", "schedule": "scheduled",
                          "start_at": start, "end_at": start + timedelta(hours=1),
                          "timezone": ZONES[o % len(ZONES)], "fee_known": True,
                          "state": "active", "first_seen_at": NOW, "last_seen_at": NOW,
                          "sequence": o % 3})
        fees += [{"offering_id": o, "tier": "members", "amount": Decimal("45.00"),
                  "currency": "USD", "position": 0},
                 {"offering_id": o, "tier": "non-members", "amount": Decimal("60.00"),
                  "currency": "USD", "position": 1}]
    bulk(engine, Offering, offerings)
    bulk(engine, FeeTier, fees)
    bulk(engine, ChangeEvent, [
        {"kind": "link_broken", "severity": "action", "detected_at": NOW - timedelta(minutes=e),
         "link_id": e % n + 1, "url": f"https://host{e % 500}.example.org/page/{e}",
         "verdict": "not_found", "http_status": 404, "resources": [f"Resource {e}"],
         "sections": [f"Section {e % 50 + 1}"]} for e in range(1, 5001)])


def run(url: str, n: int) -> None:
    engine = open_database(url)
    started = time.perf_counter()
    populate(engine, n)
    print(f"  populated in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory() as out:
        for kind in export_kinds():
            with transaction(engine) as session:
                started = time.perf_counter()
                paths = get_exporter(kind)(now=NOW).write(session, Path(out))
                elapsed = time.perf_counter() - started
            size = sum(p.stat().st_size for p in paths)
            print(f"  {kind:7} {elapsed:6.2f} s  {size / 1e6:7.2f} MB  "
                  f"{', '.join(p.name for p in paths)}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=20_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    args = parser.parse_args()
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            print(f"SQLite, {args.resources} resources:")
            run(f"sqlite:///{folder}/bench.db", args.resources)
    if args.db in ("postgresql", "both"):
        name = f"shelfcheck_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            print(f"PostgreSQL, {args.resources} resources:")
            run(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", args.resources)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak:.0f} MB")


if __name__ == "__main__":
    main()
