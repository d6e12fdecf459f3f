"""Benchmark: listing extraction and change detection.

    .venv/bin/python benchmarks/listings_bench.py [--rounds 20] [--offerings 2000]

1. Extraction: the shipped recipes over the reference pages of all six providers (in-process,
   no HTTP), `--rounds` times; prints pages and offerings per second.
2. Change detection on SQLite: a provider with `--offerings` offerings (two fee tiers each) is
   applied as a baseline, then again with 5% rescheduled, 5% with a new fee and 5% gone; prints
   the seconds of each apply and the events written. Prints the peak memory (max RSS).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shelfcheck.catalog.catalogfile import load_catalog  # noqa: E402
from shelfcheck.catalog.db import open_database, transaction  # noqa: E402
from shelfcheck.catalog.models import ChangeEvent, Provider  # noqa: E402
from shelfcheck.catalog.offerings import (  # noqa: E402
    FeeData,
    OfferingData,
    ProviderCrawl,
    apply_provider_crawl,
)
from shelfcheck.catalog.sync import sync_catalog  # noqa: E402
from shelfcheck.crawler.recipe import parse_recipe, validate_recipe  # noqa: E402
from shelfcheck.crawler.walk import ProviderWalk  # noqa: E402
from tests.sites import walk_offline  # noqa: E402

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def extraction(rounds: int) -> None:
    spec = load_catalog(None, recipe_validator=validate_recipe)
    recipes = {p.slug: parse_recipe(p.slug, p.recipe) for p in spec.providers if p.recipe}
    pages = items = 0
    started = time.perf_counter()
    for _ in range(rounds):
        for slug, recipe in recipes.items():
            walk = ProviderWalk(slug, recipe, tz=recipe.timezone or "UTC", now=NOW)
            crawl = walk_offline(walk, "A")
            assert isinstance(crawl, ProviderCrawl)
            pages += crawl.pages
            items += len(crawl.records)
    took = time.perf_counter() - started
    print(f"extraction: {pages} pages, {items} offerings in {took:.2f} s "
          f"({pages / took:.0f} pages/s, {items / took:.0f} offerings/s)")


def synthetic(n: int) -> ProviderCrawl:
    records = []
    for i in range(n):
        start = NOW + timedelta(days=30 + i % 300, hours=i % 8)
        records.append(OfferingData(
            title=f"Course {i}", url=f"https://ex.org/course/{i}", format="course",
            schedule="scheduled", start=start, end=start + timedelta(hours=1),
            timezone="America/Chicago", start_raw=start.isoformat(), fee_known=True,
            fees=[FeeData("members", Decimal("45.00")), FeeData("non-members", Decimal("60.00"))],
            fee_raw="members $45 / non-members $60", lssc=False, description="A course."))
    return ProviderCrawl("infopeople", records=records, pages=n // 20 + 1)


def detection(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        with transaction(engine) as session:
            sync_catalog(session, load_catalog(None, recipe_validator=validate_recipe))
        base = synthetic(n)
        changed = []
        for i, record in enumerate(base.records):
            if i % 20 == 0:
                continue  # gone
            if i % 20 == 1 and record.start and record.end:
                record = replace(record, start=record.start + timedelta(days=7),
                                 end=record.end + timedelta(days=7))
            if i % 20 == 2:
                record = replace(record, fees=[FeeData("members", Decimal("50.00")),
                                               FeeData("non-members", Decimal("60.00"))])
            changed.append(record)
        for label, crawl in (("baseline", base), ("changes", replace(base, records=changed))):
            started = time.perf_counter()
            with transaction(engine) as session:
                provider = session.scalars(
                    select(Provider).where(Provider.slug == "infopeople")).one()
                apply_provider_crawl(session, provider, crawl, run=None, now=NOW)
            took = time.perf_counter() - started
            with transaction(engine) as session:
                events = session.scalar(select(func.count()).select_from(ChangeEvent))
            print(f"change detection ({label}, {n} offerings): {took:.2f} s, "
                  f"{events} events in total")
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--offerings", type=int, default=2000)
    args = parser.parse_args()
    extraction(args.rounds)
    detection(args.offerings)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
