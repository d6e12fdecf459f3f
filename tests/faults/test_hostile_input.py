"""Hostile input through the real CLI: a bad catalog file, configuration file, recipe,
command-line argument or database URL gets one clear line naming the file, key or line, exit
status 2, no traceback, and writes nothing (the database and the working directory are as before).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.faults.world import measure

GOOD = """\
schema: shelfcheck.catalogfile/1
guide: {title: Fault guide, url: "https://guide.example/faults"}
providers:
  - slug: p1
    name: Provider one
    recipe:
      listing: http://127.0.0.1:9/listing
      item: li.course
      fields: {title: a}
sections:
  - name: Training
    resources:
      - {title: Course one, url: "http://127.0.0.1:9/one", provider: p1}
      - {title: Course two, url: "http://127.0.0.1:9/two", provider: p1}
"""


def catalog_with(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


# id -> (catalog file text or bytes, fragments the message must hold)
BAD_CATALOGS: dict[str, tuple[str | bytes, list[str]]] = {
    "malformed YAML": (catalog_with("name: Training", "name: [Training"),
                       ["bad.yaml:", "malformed YAML"]),
    "unknown key": (catalog_with("provider: p1}\n", "provider: p1, colour: red}\n"),
                    ["bad.yaml:13:", "colour"]),
    "duplicate key": (catalog_with("name: Provider one", "name: Provider one\n    name: Again"),
                      ["bad.yaml:6:", "duplicate key 'name'"]),
    "missing title": (catalog_with("{title: Course two, ", "{"),
                      ["bad.yaml:", "missing required key 'title'"]),
    "unknown provider": (catalog_with("Course two, url: \"http://127.0.0.1:9/two\", provider: p1",
                                      "Course two, url: \"http://127.0.0.1:9/two\", provider: p9"),
                         ["bad.yaml:14:", "unknown provider 'p9'"]),
    "duplicate URL": (catalog_with("127.0.0.1:9/two", "127.0.0.1:9/one"),
                      ["bad.yaml:14:", "duplicate URL"]),
    "URL too long": (catalog_with("127.0.0.1:9/two", "127.0.0.1:9/" + "x" * 2500),
                     ["bad.yaml:14:", "characters long"]),
    "recipe CSS selector does not parse": (catalog_with("item: li.course", "item: 'li[[x'"),
                                           ["bad.yaml:8:", "recipe item", "does not parse"]),
    "recipe field selector does not parse": (
        catalog_with("fields: {title: a}", "fields: {title: 'a::text::attr(x)'}"),
        ["bad.yaml:9:", "fields.title", "does not parse"]),
    "recipe pattern does not compile": (
        catalog_with("fields: {title: a}", "fields: {title: a, fee: {css: p, pattern: '('}}"),
        ["bad.yaml:9:", "fields.fee.pattern", "does not compile"]),
    "recipe unknown field": (catalog_with("fields: {title: a}", "fields: {title: a, x: b}"),
                             ["bad.yaml:9:", "fields.x", "unknown field"]),
    "recipe unknown time zone": (catalog_with("item: li.course",
                                              "item: li.course\n      timezone: Mars/Base"),
                                 ["bad.yaml:9:", "unknown time zone"]),
    "not UTF-8": (GOOD.encode().replace(b"Course one", b"Course \xff\xfe"),
                  ["bad.yaml", "not UTF-8"]),
}

# id -> (configuration file text, command, fragments)
BAD_CONFIGS: dict[str, tuple[str, list[str], list[str]]] = {
    "invalid TOML": ("download_timeout = \n", ["catalog", "list"], ["bad.toml", "invalid TOML"]),
    "unknown key": ("colour = 'red'\n", ["catalog", "list"], ["bad.toml", "unknown key 'colour'"]),
    "wrong type": ("download_timeout = 'soon'\n", ["check-links"],
                   ["bad.toml", "key 'download_timeout'", "expected a number"]),
    "below the minimum": ("max_in_flight_per_host = 0\n", ["check-links"],
                          ["bad.toml", "key 'max_in_flight_per_host'"]),
    "cron expression does not parse": ("schedule_links = '61 * * * *'\n", ["schedule", "--list"],
                                       ["bad.toml", "key 'schedule_links'", "cron"]),
    "cron expression with three fields": ("schedule_report = '* * *'\n", ["schedule"],
                                          ["bad.toml", "key 'schedule_report'"]),
    "unknown time zone": ("timezone = 'Mars/Base'\n", ["report"],
                          ["bad.toml", "key 'timezone'"]),
    "bad report_every": ("report_every = 'fortnightly'\n", ["refresh"],
                         ["bad.toml", "key 'report_every'"]),
    "unknown export format": ("exports = ['json', 'pdf']\n", ["refresh"],
                              ["bad.toml", "key 'exports'", "pdf"]),
    "unknown report format": ("report_formats = ['md', 'doc']\n", ["report"],
                              ["bad.toml", "key 'report_formats'", "doc"]),
    "bad host_map": ("host_map = ['not-a-pair']\n", ["crawl"], ["bad.toml", "key 'host_map'"]),
}

# id -> (arguments, fragments)
BAD_ARGUMENTS: dict[str, tuple[list[str], list[str]]] = {
    "report --since not a date": (["report", "--since", "next tuesday"], ["--since"]),
    "report --since and --days": (["report", "--since", "2027-01-01", "--days", "3"],
                                  ["--since or --days"]),
    "report empty period": (["report", "--since", "2027-01-02", "--until", "2027-01-01"],
                            ["--since"]),
    "report unknown format": (["report", "--format", "md,pdf"], ["pdf"]),
    "report --days 0": (["report", "--days", "0"], ["--days"]),
    "check-links unknown provider": (["check-links", "--provider", "nope"], ["--provider", "nope"]),
    "check-links URL not in the catalog": (["check-links", "--url", "http://elsewhere.example/"],
                                           ["--url", "elsewhere.example"]),
    "crawl unknown provider": (["crawl", "nope"], ["nope"]),
    "export unknown format": (["export", "--format", "pdf"], ["pdf"]),
    "links unknown state": (["links", "--state", "weird"], ["--state"]),
    "offerings unknown provider": (["offerings", "--provider", "nope"], ["nope"]),
    "recipes test unknown provider": (["recipes", "test", "nope"], ["nope"]),
    "unknown log level": (["--log-level", "LOUD", "catalog", "list"], ["--log-level"]),
}

# id -> (database URL, fragments); the URL's password must not be shown
BAD_DATABASES: dict[str, tuple[str, list[str]]] = {
    "not a database URL": ("notadb://somewhere/x", ["database_url", "notadb"]),
    "nothing listens": ("postgresql://shelf:S3cret-pw@127.0.0.1:1/catalog",
                        ["cannot use the database", "127.0.0.1:1"]),
    "no such database": ("postgresql://postgres:S3cret-pw@127.0.0.1:5432/no_such_db_7f3a",
                         ["cannot use the database", "no_such_db_7f3a"]),
    "no such directory": ("sqlite:////nonexistent-dir-7f3a/catalog.db",
                          ["cannot use the database", "nonexistent-dir-7f3a"]),
}


def snapshot(folder: Path) -> dict[str, Any]:
    """The working directory's files (by content) and the database's logical content."""
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()
             if p.is_file() and not p.name.startswith("shelfcheck.db")}
    db = folder / "shelfcheck.db"
    dump: list[str] = []
    if db.exists():
        conn = sqlite3.connect(db)
        try:
            dump = list(conn.iterdump())
        finally:
            conn.close()
    return {"files": files, "dirs": sorted(p.name for p in folder.iterdir() if p.is_dir()),
            "db": dump}


@pytest.fixture
def synced(cli: Callable[..., Any], tmp_path: Path) -> Callable[..., Any]:
    """The CLI in a working directory whose ./shelfcheck.db holds a synced catalog."""
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    result = cli("catalog", "sync", "good.yaml")
    assert result.exit_code == 0, result.output
    return cli


def refused(cli: Callable[..., Any], folder: Path, args: list[str], fragments: list[str],
            secret: str | None = None, code: int = 2) -> float:
    """Run a command that must be refused; check the message, the exit status (2, bad input,
    unless told), nothing written."""
    before = snapshot(folder)
    started = time.monotonic()
    result = cli(*args)
    seconds = time.monotonic() - started
    assert result.exit_code == code, f"exit {result.exit_code}: {result.output}"
    assert "Traceback" not in result.output
    message = result.output.strip()
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    if secret:
        assert secret not in message, message
    assert snapshot(folder) == before, "the refused command wrote something"
    return seconds


@pytest.mark.parametrize("case", list(BAD_CATALOGS))
def test_bad_catalog_file(synced: Callable[..., Any], tmp_path: Path, case: str) -> None:
    text, fragments = BAD_CATALOGS[case]
    path = tmp_path / "bad.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    seconds = refused(synced, tmp_path, ["catalog", "sync", "bad.yaml"], fragments)
    measure("hostile input", kind="catalog file", case=case, seconds=round(seconds, 2))


def test_main_job_keeps_the_last_good_catalog(synced: Callable[..., Any], tmp_path: Path) -> None:
    """`refresh` with a broken catalog file: exit 2, the message names the line, and the
    catalog stays the last good one (the other steps still run on it, by design)."""
    text, fragments = BAD_CATALOGS["recipe CSS selector does not parse"]
    (tmp_path / "bad.yaml").write_text(str(text), encoding="utf-8")
    (tmp_path / "job.toml").write_text("catalog_file = 'bad.yaml'\nreport_every = '30'\n",
                                       encoding="utf-8")
    def catalog_rows() -> list[str]:
        return [line for line in snapshot(tmp_path)["db"]
                if line.startswith(('INSERT INTO "resource"', 'INSERT INTO "provider"',
                                    'INSERT INTO "link"', 'INSERT INTO "meta"'))]

    before = catalog_rows()
    job = synced("--config", "job.toml", "refresh", "--skip-links", "--skip-listings")
    assert job.exit_code == 2, job.output
    assert all(f in job.output for f in fragments), job.output
    assert "Traceback" not in job.output
    assert catalog_rows() == before


def test_missing_catalog_file(synced: Callable[..., Any], tmp_path: Path) -> None:
    refused(synced, tmp_path, ["catalog", "sync", "absent.yaml"],
            ["absent.yaml", "cannot read catalog file"])
    (tmp_path / "folder.yaml").mkdir()
    refused(synced, tmp_path, ["catalog", "sync", "folder.yaml"], ["folder.yaml"])


@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_bad_configuration_file(synced: Callable[..., Any], tmp_path: Path, case: str) -> None:
    text, command, fragments = BAD_CONFIGS[case]
    (tmp_path / "bad.toml").write_text(text, encoding="utf-8")
    seconds = refused(synced, tmp_path, ["--config", "bad.toml", *command], fragments)
    measure("hostile input", kind="configuration", case=case, seconds=round(seconds, 2))


def test_bad_environment_setting(synced: Callable[..., Any], tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELFCHECK_SCHEDULE_LISTINGS", "every day")
    refused(synced, tmp_path, ["schedule", "--list"],
            ["SHELFCHECK_SCHEDULE_LISTINGS", "key 'schedule_listings'"])


@pytest.mark.parametrize("case", list(BAD_ARGUMENTS))
def test_bad_command_line_argument(synced: Callable[..., Any], tmp_path: Path,
                                   case: str) -> None:
    args, fragments = BAD_ARGUMENTS[case]
    seconds = refused(synced, tmp_path, args, fragments)
    measure("hostile input", kind="argument", case=case, seconds=round(seconds, 2))


@pytest.mark.parametrize("case", list(BAD_DATABASES))
def test_database_url_that_cannot_be_used(synced: Callable[..., Any], tmp_path: Path,
                                          case: str) -> None:
    url, fragments = BAD_DATABASES[case]
    code = 2 if case == "not a database URL" else 4  # bad input; a database that is down
    for command in (["catalog", "list"], ["check-links"], ["refresh"]):
        seconds = refused(synced, tmp_path, ["--database-url", url, *command], fragments,
                          secret="S3cret-pw", code=code)
    measure("hostile input", kind="database URL", case=case, seconds=round(seconds, 2))
