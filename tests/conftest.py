"""Shared fixtures: a fresh SQLite or PostgreSQL catalog database per test, and the CLI.

PostgreSQL: each test session creates a migrated template database on 127.0.0.1:5432 and clones
it per test (CREATE DATABASE ... TEMPLATE), then drops everything at the end. When PostgreSQL is
absent the PostgreSQL cases are skipped, unless SHELFCHECK_REQUIRE_POSTGRES=1 (set by .ci/run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, create_engine, text

from shelfcheck.catalog.db import open_database

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).with_name("fixtures")
PG_ADMIN_URL = os.environ.get(
    "SHELFCHECK_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def _pg_admin() -> Engine | None:
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return engine
    except Exception:
        return None


class PostgresFactory:
    """Creates databases cloned from one migrated template, and drops them all at the end."""

    def __init__(self, admin: Engine) -> None:
        self.admin = admin
        self.prefix = f"shelfcheck_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.template = f"{self.prefix}_tpl"
        self.created: list[str] = []
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.template}"'))
        self.created.append(self.template)
        engine = open_database(self.url(self.template))
        engine.dispose()

    def url(self, name: str) -> str:
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    def new(self) -> str:
        name = f"{self.prefix}_{len(self.created)}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        self.created.append(name)
        return self.url(name)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in reversed(self.created):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_factory() -> Iterator[PostgresFactory | None]:
    admin = _pg_admin()
    if admin is None:
        if os.environ.get("SHELFCHECK_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required but not reachable at {PG_ADMIN_URL}")
        yield None
        return
    factory = PostgresFactory(admin)
    try:
        yield factory
    finally:
        factory.drop_all()
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    open_database(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    pg_factory: PostgresFactory | None,
) -> str:
    """The URL of a fresh, migrated, empty catalog database (SQLite file or PostgreSQL)."""
    if request.param == "sqlite":
        path = tmp_path / "catalog.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    if pg_factory is None:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    return pg_factory.new()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on `db_url`."""
    eng = open_database(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run `shelfcheck ARGS` in-process (click's runner) in an empty working directory."""
    from shelfcheck.cli import cli as command

    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("SHELFCHECK_") and name != "SHELFCHECK_REQUIRE_POSTGRES":
            monkeypatch.delenv(name)

    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(command, list(args), input=input, catch_exceptions=False)

    return run


def run_shelfcheck(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `python -m shelfcheck ARGS` in a child process (for Scrapy crawls: one reactor each)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SHELFCHECK_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "shelfcheck", *args], cwd=cwd, env=full_env,
        capture_output=True, text=True, timeout=timeout, check=False,
    )
