"""Benchmark: peak memory of `catalog sync` (first and repeated) and of every export, by size.

    .venv/bin/python benchmarks/memory.py --resources 10000 100000 [--db sqlite postgresql]
                                          [--formats html jsonld]

For each N it writes a catalog file of N resources (sections of 1,000, one link each, every tenth
tied to one of 10 providers), then runs the real CLI in child processes on a fresh database:
`catalog sync FILE` twice (the first sync, then a repeated one of the same file) and
`export --format F` for every format. Peak RSS is the child's own VmHWM, read at its exit.
The last table compares each step's peak at the largest N with the smallest (flat: ±20%).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def write_catalog(path: Path, n: int) -> None:
    """N resources as YAML text (a yaml.dump of 100,000 would take longer than the sync)."""
    out = ["schema: shelfcheck.catalogfile/1",
           "guide: {title: Memory benchmark, url: 'https://guide.example.org/'}", "providers:"]
    for k in range(10):
        out.append(f"  - slug: p{k}\n    name: Provider {k}\n"
                   f"    home: 'https://provider{k}.example.org/'")
    out.append("sections:")
    for start in range(0, n, 1000):
        out.append(f"  - name: Section {start // 1000 + 1}\n    resources:")
        for i in range(start, min(start + 1000, n)):
            provider = f"\n        provider: p{i % 10}" if i % 10 == 0 else ""
            out.append(f"      - title: Resource {i}\n"
                       f"        url: {json.dumps(f'https://host{i % 50}.example.org/page/{i}')}"
                       f"{provider}\n        description: Training resource number {i}.")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


# The child prints its own VmHWM at exit: ru_maxrss of a child counts the parent's memory at
# fork time (Linux keeps the larger high-water mark across exec), so it is only an upper bound.
LAUNCH = ("import atexit, re, sys\n"
          "def hwm():\n"
          "    status = open('/proc/self/status').read()\n"
          "    sys.stderr.write('VmHWM ' + re.search(r'VmHWM:\\s+(\\d+)', status)[1] + '\\n')\n"
          "atexit.register(hwm)\n"
          "from shelfcheck.cli import main\n"
          "sys.argv = ['shelfcheck', *sys.argv[1:]]\n"
          "main()\n")


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """Run the CLI with ARGS; wall seconds, peak RSS MB (VmHWM), exit status, last line."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", LAUNCH, *args], env=env, cwd=cwd,
                          capture_output=True, text=True, check=False)
    found = re.search(r"VmHWM (\d+)", proc.stderr)
    out = proc.stdout.strip()
    return {"wall_s": round(time.perf_counter() - started, 2),
            "rss_mb": round(int(found[1]) / 1024) if found else None, "exit": proc.returncode,
            "out": out.splitlines()[-1] if out else proc.stderr.strip()[-200:]}


def database(kind: str, work: Path, n: int) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{work}/memory-{n}.db", None
    from sqlalchemy import create_engine, text

    name = f"shelfcheck_mem_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", name


def drop(name: str | None) -> None:
    if name is None:
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def bench(n: int, kind: str, work: Path, formats: list[str] | None = None) -> list[dict[str, Any]]:
    from shelfcheck.exports.base import export_kinds

    catalog = work / f"catalog-{n}.yaml"
    if not catalog.exists():
        write_catalog(catalog, n)
    url, name = database(kind, work, n)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHELFCHECK_")}
    env["SHELFCHECK_DATABASE_URL"] = url
    rows = []
    try:
        steps = [("sync (first)", ["catalog", "sync", str(catalog)]),
                 ("sync (repeated)", ["catalog", "sync", str(catalog)])]
        steps += [(f"export {k}", ["export", "--format", k, "--out", str(work / f"out-{n}.{k}")])
                  for k in export_kinds() if formats is None or k in formats]
        for step, args in steps:
            row = {"n": n, "db": kind, "step": step, **run_cli(args, env, work)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    finally:
        drop(name)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--db", nargs="+", default=["sqlite"], choices=["sqlite", "postgresql"])
    parser.add_argument("--formats", nargs="*", default=None,
                        help="export formats to measure (default: all; none: only the syncs)")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="shelfcheck-memory-") as folder:
        for kind in args.db:
            for n in args.resources:
                rows += bench(n, kind, Path(folder), args.formats)
    print("\n| N | DB | step | exit | wall s | peak RSS MB |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['n']:,} | {r['db']} | {r['step']} | {r['exit']} | {r['wall_s']} "
              f"| {r['rss_mb']} |")
    small, large = min(args.resources), max(args.resources)
    if small != large:
        print(f"\n| DB | step | peak MB at {small:,} | at {large:,} | ratio |")
        print("|---|---|---|---|---|")
        by = {(r["db"], r["step"], r["n"]): r["rss_mb"] for r in rows}
        for kind in args.db:
            for step in dict.fromkeys(r["step"] for r in rows):
                a, b = by.get((kind, step, small)), by.get((kind, step, large))
                if a and b:
                    print(f"| {kind} | {step} | {a} | {b} | {b / a:.2f} |")


if __name__ == "__main__":
    main()
