"""Engines, sessions and schema migrations of the catalog database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from shelfcheck.config import redact_url
from shelfcheck.errors import DatabaseUnavailable, UsageError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def make_engine(url: str, *, busy_timeout: float = 30.0, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        if url.startswith("sqlite"):
            engine = create_engine(
                url, connect_args={"timeout": busy_timeout}, **kwargs
            )

            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

            return engine
        return create_engine(url, pool_pre_ping=True, **kwargs)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise UsageError(f"database_url {redact_url(url)!r} is not usable: {exc}"
                         f"{url_hint(url, exc)}") from None


def url_hint(url: str, exc: Exception) -> str:
    """What to do about a database URL SQLAlchemy refused (or "")."""
    if url.startswith("postgres://"):
        return ("; write postgresql://... (SQLAlchemy does not accept the short postgres:// "
                "form that Heroku and libpq print)")
    if "psycopg" in str(exc):
        return "; install the PostgreSQL driver: .venv/bin/pip install -e '.[postgres]'"
    return ""


def alembic_config(engine: Engine) -> Any:
    """An Alembic Config that runs our migrations on `engine`."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to `revision`."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def needs_upgrade(engine: Engine) -> bool:
    """True when the database is not at the newest revision."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current != set(script.get_heads())


def open_database(url: str, *, busy_timeout: float = 30.0, migrate: bool = True) -> Engine:
    """Connect, check that the database answers, and upgrade it when it is behind."""
    engine = make_engine(url, busy_timeout=busy_timeout)
    try:
        with engine.connect() as conn:
            inspect(conn).get_table_names()
        if migrate and needs_upgrade(engine):
            upgrade(engine)
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        engine.dispose()
        raise DatabaseUnavailable(
            f"cannot use the database {redact_url(url)}: {reason}"
        ) from None
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A sessionmaker bound to `engine` that keeps objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on error."""
    with session_factory(engine)() as session, session.begin():
        yield session


@contextmanager
def snapshot(engine: Engine) -> Iterator[Session]:
    """A read session that sees one consistent state however many queries it runs (REPEATABLE
    READ on PostgreSQL; SQLite's transaction already does)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, \
                conn.begin(), Session(bind=conn, expire_on_commit=False) as session:
            yield session
    else:
        with transaction(engine) as session:
            yield session
