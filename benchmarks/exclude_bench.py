"""What `link_exclude` and `check: false` cost where links are read: the link source of a check
(host counts, then every page) and the report's not-checked list, with and without patterns.

    .venv/bin/python benchmarks/exclude_bench.py --links 100000 --repeats 3

The catalog is memory.py's (N resources on 50 hosts, one link each), synced into a fresh SQLite
file; one resource in 100 says `check: false`. The patterns match about 2% of the links more.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from memory import write_catalog  # noqa: E402

from shelfcheck.catalog.catalogfile import load_catalog  # noqa: E402
from shelfcheck.catalog.db import open_database, transaction  # noqa: E402
from shelfcheck.catalog.notchecked import LinkExclude, not_checked  # noqa: E402
from shelfcheck.catalog.sync import sync_catalog  # noqa: E402
from shelfcheck.crawler.linksource import LinkSource  # noqa: E402

PATTERNS = [r"/page/\d*(17|42)$", r"^https://host49\.", r"linkedin\.com/"]


def timed(repeats: int, run: Callable[[], int]) -> tuple[float, int]:
    times, result = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "catalog.yaml"
        write_catalog(path, args.links)
        lines = path.read_text(encoding="utf-8").splitlines()
        title = "      - title: Resource "
        for i, line in enumerate(lines):  # every 100th resource: check: false
            if line.startswith(title) and int(line.removeprefix(title)) % 100 == 0:
                lines[i] = line + "\n        check: false"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        engine = open_database(f"sqlite:///{work}/bench.db")
        start = time.perf_counter()
        with transaction(engine) as session:
            sync_catalog(session, load_catalog(path))
        print(f"sync of {args.links} resources: {time.perf_counter() - start:.1f} s")

        def source(exclude: LinkExclude) -> int:
            links = LinkSource(engine, exclude=exclude)
            return sum(sum(1 for _ in links.iter_host(host)) for host, _n in links.hosts())

        def report_side(exclude: LinkExclude) -> int:
            with engine.connect() as conn:
                return len(not_checked(conn, exclude))

        for name, exclude in (("no patterns", LinkExclude()),
                              (f"{len(PATTERNS)} patterns", LinkExclude(PATTERNS))):
            seconds, count = timed(args.repeats, lambda e=exclude: source(e))
            print(f"link source, {name}: {seconds:.2f} s for {count} links to check")
            seconds, count = timed(args.repeats, lambda e=exclude: report_side(e))
            print(f"not_checked (report, listings), {name}: {seconds:.2f} s, {count} links")
        engine.dispose()


if __name__ == "__main__":
    main()
