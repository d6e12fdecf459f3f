"""Benchmark: field accuracy of the platform presets on the labelled corpus, and identity cost.

    .venv/bin/python benchmarks/listings.py [--offerings 2000] [--rounds 5]

1. Accuracy: every site of `tests/corpus/listings/` through its preset (in-process, no HTTP);
   prints, per preset, the share of labelled offerings whose title, start, current fee, status
   and platform id are right, the tier labels that are not audiences, and the wrong values.
2. Identity on SQLite: a provider with `--offerings` offerings applied as a baseline, then a
   crawl in which 10% changed their URL and kept their platform id, 10% changed URL and title
   without an id (similar-title rung), and 5% are gone; prints the seconds of each apply and
   the events (every edit should be one `offering_updated`, every gone one `offering_removed`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shelfcheck.catalog.db import open_database, transaction  # noqa: E402
from shelfcheck.catalog.models import ChangeEvent, Provider  # noqa: E402
from shelfcheck.catalog.offerings import (  # noqa: E402
    FeeData,
    OfferingData,
    ProviderCrawl,
    apply_provider_crawl,
)
from shelfcheck.crawler.extract.fees import audience  # noqa: E402
from tests.corpus.listings import SCORED, Score, crawl_site, score, sites  # noqa: E402

TITLES = ("Cataloging", "Metadata", "Readers' Advisory", "Budgets", "Outreach", "Preservation",
          "Copyright", "Weeding", "Storytime", "Grant Writing", "Reference", "Makerspaces")


def accuracy(rounds: int) -> None:
    per_preset: dict[str, Score] = {}
    bad_labels: list[str] = []
    pages = 0
    started = time.perf_counter()
    for _round in range(rounds):
        for site in sites():
            crawl = crawl_site(site)
            pages += crawl.pages
            if _round:
                continue
            per_preset.setdefault(site.preset, Score()).add(score(site, crawl))
            bad_labels += [f.tier for r in crawl.records for f in r.fees
                           if audience(f.tier) != f.tier]
    elapsed = time.perf_counter() - started
    count = len(sites())
    print(f"corpus: {count} sites, {sum(len(s.offerings) for s in sites())} labelled "
          f"offerings; {pages} pages in {elapsed:.2f} s ({pages / elapsed:.0f} pages/s)")
    print(f"{'preset':<16}{'sites':>6}{'items':>6}" + "".join(f"{f:>13}" for f in SCORED))
    total = Score()
    for preset, result in sorted(per_preset.items()):
        total.add(result)
        n = sum(1 for s in sites() if s.preset == preset)
        print(f"{preset:<16}{n:>6}{result.total['title']:>6}" + "".join(
            f"{100 * result.right[f] / result.total[f]:>12.1f}%" for f in SCORED))
    print(f"{'all':<16}{count:>6}{total.total['title']:>6}" + "".join(
        f"{100 * total.right[f] / total.total[f]:>12.1f}%" for f in SCORED))
    print(f"tier labels that are not an audience: {len(bad_labels)} {bad_labels[:5]}")
    for line in total.wrong:
        print(f"  wrong: {line}")


def _records(n: int, now: datetime) -> list[OfferingData]:
    out = []
    for i in range(n):
        start = now + timedelta(days=7 + i % 300, hours=i % 9)
        title = f"{TITLES[i % len(TITLES)]} for Library Staff, Cohort {i // len(TITLES)}"
        out.append(OfferingData(
            title=title, url=f"https://shop.example.org/product/{i}-course/",
            schedule="scheduled", start=start, fee_known=True,
            fees=[FeeData("members", Decimal(100 + i % 50)),
                  FeeData("non-members", Decimal(150 + i % 50))],
            platform_id=f"wp:{i}" if i % 2 == 0 else None))
    return out


def identity(n: int) -> None:
    now = datetime(2026, 11, 26, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_database(f"sqlite:///{tmp}/bench.db")
        with transaction(engine) as session:
            session.add(Provider(slug="shop", name="Shop"))
        base = _records(n, now)
        edited = []
        for i, record in enumerate(base):
            if i % 20 == 19:
                continue  # 5% gone
            if i % 10 == 0:  # 10%: new slug, same platform id
                record = replace(record, url=f"https://shop.example.org/product/{i}-renamed/")
            elif i % 10 == 1:  # 10%: new slug and a title edit, no platform id
                record = replace(record, url=f"https://shop.example.org/product/{i}-new/",
                                 title=record.title.replace("for Library Staff",
                                                            "for Library Staff (online)"))
            edited.append(record)
        for label, records in (("baseline", base), ("edits", edited)):
            started = time.perf_counter()
            with transaction(engine) as session:
                provider = session.scalars(select(Provider)).one()
                apply_provider_crawl(session, provider, ProviderCrawl("shop", records=records),
                                     run=None, now=now)
            elapsed = time.perf_counter() - started
            with transaction(engine) as session:
                kinds = Counter(session.scalars(select(ChangeEvent.kind)))
                session.execute(ChangeEvent.__table__.delete())
            print(f"identity {label}: {n} stored, {len(records)} crawled: {elapsed:.2f} s; "
                  f"events {dict(sorted(kinds.items()))}")
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--offerings", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    accuracy(args.rounds)
    identity(args.offerings)


if __name__ == "__main__":
    main()
