"""The models and the migrations agree: `alembic check` finds nothing to generate."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Column, Engine, MetaData, String, text

from shelfcheck.catalog.db import alembic_config, transaction
from shelfcheck.catalog.models import Base, CrawlRun
from shelfcheck.catalog.states import ALL_STATES, RunOutcome


def test_models_match_migrations(engine: Engine) -> None:
    """`alembic check` on a database migrated to head (SQLite and PostgreSQL)."""
    command.check(alembic_config(engine))


def test_check_can_fail(engine: Engine) -> None:
    """The comparison `alembic check` makes finds a model change the migrations lack."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["meta"].append_column(Column("house_probe", String(10)))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        diffs = compare_metadata(context, changed)
    assert [(d[0], d[2], d[3].name) for d in diffs] == [("add_column", "meta", "house_probe")]


def test_state_columns_hold_the_enum_values(engine: Engine) -> None:
    """Each state column is a VARCHAR of the enum's values; a row written as plain text (as
    before the enums) reads back as the member."""
    for name, states in ALL_STATES.items():
        table_name, column_name = name.split(".")
        column = Base.metadata.tables[table_name].c[column_name]
        assert list(column.type.enums) == [m.value for m in states]  # type: ignore[attr-defined]
        assert column.type.length >= max(len(m.value) for m in states)  # type: ignore[attr-defined]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO crawl_run (kind, started_at, outcome, stats) "
                          "VALUES ('links', '2026-01-01 00:00:00', 'ok', '{}')"))
    with transaction(engine) as session:
        run = session.query(CrawlRun).one()
        assert run.outcome is RunOutcome.OK
