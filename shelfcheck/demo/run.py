"""The demo: a catalog, configuration and SQLite database for the demo web, the real `refresh` on
week one and week two, the real `report`, and a summary of what the report says.

Every step runs the shelfcheck command itself (`python -m shelfcheck --config DIR/shelfcheck.toml
...` in a child process), so the demo takes no path the product does not; the web is the only
thing that is not real.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import yaml

from shelfcheck.catalog.states import LinkState
from shelfcheck.demo.sitefiles import LIVE, host_map
from shelfcheck.demo.summary import DEAD_LINK, WEEK_TWO, missing_cases, report_lines
from shelfcheck.demo.web import SitesServer
from shelfcheck.errors import ExitCode, UsageError

Echo = Callable[[str], None]

OWN_FILES = ("shelfcheck.toml", "catalog.yaml", "shelfcheck.db", "shelfcheck.db-journal",
             "shelfcheck.db-wal", "shelfcheck.db-shm", "reports", "exports", "shelfcheck.log")
CONFIRM_AFTER = 2


@dataclass
class Demo:
    """The demo's folder and files, and the web it runs against."""

    folder: Path
    web: str = ""  # http://127.0.0.1:PORT/live
    codes: list[tuple[str, int]] = field(default_factory=list)

    @property
    def config(self) -> Path:
        return self.folder / "shelfcheck.toml"

    @property
    def catalog(self) -> Path:
        return self.folder / "catalog.yaml"

    @property
    def database(self) -> Path:
        return self.folder / "shelfcheck.db"

    @property
    def reports(self) -> Path:
        return self.folder / "reports"

    @property
    def exports(self) -> Path:
        return self.folder / "exports"

    @property
    def log(self) -> Path:
        return self.folder / "shelfcheck.log"


def prepare_folder(folder: Path | None) -> Path:
    """A new temporary folder, or `folder` emptied of an earlier demo's files.

    Raises UsageError when `folder` holds anything the demo did not write.
    """
    if folder is None:
        return Path(tempfile.mkdtemp(prefix="shelfcheck-demo-")).resolve()
    folder = folder.expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--dir {folder}: not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    foreign = sorted(p.name for p in folder.iterdir() if p.name not in OWN_FILES)
    if foreign:
        raise UsageError(f"--dir {folder}: the folder holds files the demo did not write "
                         f"({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}); "
                         "choose a new or empty folder")
    for name in OWN_FILES:
        path = folder / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    return folder


def write_catalog(demo: Demo) -> None:
    """The demo catalog: the packaged guide's providers and recipes, the demo's sections."""
    from shelfcheck.catalog.catalogfile import SCHEMA, packaged_catalog_path

    guide = yaml.safe_load(packaged_catalog_path().read_text(encoding="utf-8"))
    template = importlib_resources.files("shelfcheck.demo") / "catalog.yaml"
    sections = yaml.safe_load(template.read_text(encoding="utf-8"))
    for section in sections["sections"]:
        for resource in section["resources"]:
            if resource.get("url"):
                resource["url"] = resource["url"].replace("{web}", demo.web)
    data = {"schema": SCHEMA, "guide": sections["guide"], "providers": guide["providers"],
            "sections": sections["sections"]}
    header = ("# Written by `shelfcheck demo`: the packaged guide's providers and recipes, and\n"
              f"# resources on the demo web ({demo.web}).\n")
    demo.catalog.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True,
                                                    width=100), encoding="utf-8")


def write_config(demo: Demo, base: str) -> None:
    """The demo's shelfcheck.toml: its own database, catalog, folders and host map."""
    from shelfcheck.exports.base import export_kinds
    from shelfcheck.reports.reporters import reporter_kinds

    def toml(value: Any) -> str:  # JSON strings and lists of strings are valid TOML
        if isinstance(value, list) and len(json.dumps(value)) > 80:
            return "[\n" + "".join(f"    {json.dumps(item)},\n" for item in value) + "]"
        return json.dumps(value)

    values: dict[str, Any] = {
        "database_url": f"sqlite:///{demo.database}",
        "catalog_file": str(demo.catalog),
        "reports_dir": str(demo.reports),
        "report_formats": reporter_kinds(),
        "exports": export_kinds(),
        "exports_dir": str(demo.exports),
        # The demo web is on loopback, which shelfcheck refuses to fetch by default.
        "allow_private_addresses": True,
        # The recipes name the providers' real hosts; fetch them from the demo web instead.
        "host_map": host_map(base, LIVE),
        "confirm_after": CONFIRM_AFTER,
    }
    lines = ["# Written by `shelfcheck demo`. Run any command on the demo's database with",
             f"#   {runnable_command()} --config {demo.config} COMMAND",
             *(f"{name} = {toml(value)}" for name, value in values.items())]
    demo.config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def shelfcheck(demo: Demo, echo: Echo, *args: str) -> int:
    """Run ``shelfcheck --config DIR/shelfcheck.toml ARGS`` in a child process; echo its output."""
    echo(f"  $ {shlex.join(['shelfcheck', '--config', str(demo.config), *args])}")
    # Only the demo's own configuration: SHELFCHECK_* variables could point at a real database.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHELFCHECK_")}
    # -P: the folder's reports/ and exports/ must not shadow the packages of the same names.
    command = [sys.executable, "-P", "-m", "shelfcheck", "--config", str(demo.config),
               "--log-file", str(demo.log), *args]
    with subprocess.Popen(command, cwd=demo.folder, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, bufsize=1) as child:
        assert child.stdout is not None
        for line in child.stdout:
            echo(f"    {line.rstrip()}")
        code = child.wait()
    demo.codes.append((" ".join(args), code))
    return code


def link_state(demo: Demo, url: str) -> str | None:
    """The state of a catalog link in the demo's database."""
    from sqlalchemy import select

    from shelfcheck.catalog.db import make_engine
    from shelfcheck.catalog.links import link_key
    from shelfcheck.catalog.models import Link

    engine = make_engine(f"sqlite:///{demo.database}")
    try:
        with engine.connect() as conn:
            return conn.scalar(select(Link.state).where(Link.url == link_key(url)[0]))
    finally:
        engine.dispose()


def written_files(demo: Demo) -> list[tuple[str, list[Path]]]:
    """Everything the demo wrote, grouped."""
    reports = sorted(demo.reports.glob("*"))
    html = demo.reports / "latest.html"
    return [
        ("report (open this one)", [html] if html.exists() else []),
        ("report files", [p for p in reports if p != html]),
        ("exports", sorted(demo.exports.glob("*"))),
        ("catalog", [demo.catalog]),
        ("configuration", [demo.config]),
        ("database", [demo.database]),
        ("log", [demo.log] if demo.log.exists() else []),
    ]


def run_demo(folder: Path | None, echo: Echo) -> int:
    """Run the whole demo; returns its exit status (0: every week-two case is in the report)."""
    started = time.monotonic()
    demo = Demo(prepare_folder(folder))
    server = SitesServer(0, "A")
    thread = threading.Thread(target=server.serve_forever, name="demo-web", daemon=True)
    thread.start()
    try:
        demo.web = f"{server.base}/{LIVE}"
        write_catalog(demo)
        write_config(demo, server.base)
        echo(f"shelfcheck demo: the provider web runs at {demo.web}/ (offline copies of the")
        echo("providers' sites); the guide, configuration and database are in")
        echo(f"{demo.folder}\n")

        echo("Week one: the first refresh syncs the catalog, checks links, crawls the listings "
             "(a baseline), writes the first report and the exports.")
        shelfcheck(demo, echo, "refresh")

        server.switch("B")
        echo(f"\nWeek two: the web now has {WEEK_TWO}.")
        dead = demo.web + DEAD_LINK
        for attempt in range(1, CONFIRM_AFTER + 1):
            shelfcheck(demo, echo, "refresh")
            if link_state(demo, dead) == LinkState.BROKEN:
                break
            if attempt < CONFIRM_AFTER:
                echo(f"  The dead link failed once; confirm_after = {CONFIRM_AFTER} failures in a "
                     "row make it broken, so refresh runs again (as the next night's cron job "
                     "would).")
        echo("\nThe report of week two, in every format:")
        shelfcheck(demo, echo, "report")
    finally:
        server.shutdown()
        server.server_close()

    doc = _read_json(demo.reports / "latest.json")
    echo("\nWhat the report says:")
    for line in report_lines(doc):
        echo(f"  {line}")
    echo("\nFiles written:")
    for label, paths in written_files(demo):
        for i, path in enumerate(paths):
            echo(f"  {label if i == 0 else '':<23} {path}")
    config = shlex.quote(str(demo.config))
    command = runnable_command()
    echo(f"\nLook around: {command} --config {config} links   (or offerings, catalog list, "
         "runs, report --preview, export --format html ...)")
    if command != "shelfcheck":
        echo(f"  ({command} is the command; or `. {Path(command).parent}/activate` first, "
             "then just `shelfcheck`)")

    problems = [f"`shelfcheck {args}` exited with {code}" for args, code in demo.codes if code]
    problems += [f"the report does not show {case}" for case in missing_cases(doc, demo.web)]
    elapsed = time.monotonic() - started
    if problems:
        echo(f"\nshelfcheck demo: finished in {elapsed:.0f} s, but not as expected:")
        for problem in problems:
            echo(f"  - {problem}")
        echo(f"  (the log: {demo.log})")
        return ExitCode.ERROR
    echo(f"\nshelfcheck demo: done in {elapsed:.0f} s. Open {demo.reports / 'latest.html'}")
    return ExitCode.OK


def runnable_command() -> str:
    """How the user runs shelfcheck from here: `shelfcheck` when it is on PATH, else the
    virtual environment's script (`.venv/bin/shelfcheck` after `make run`)."""
    script = Path(sys.executable).parent / "shelfcheck"
    on_path = shutil.which("shelfcheck")
    if on_path and Path(on_path).resolve() == script.resolve():
        return "shelfcheck"
    if not script.exists():
        return "shelfcheck"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data
    except (OSError, ValueError):
        return {}
