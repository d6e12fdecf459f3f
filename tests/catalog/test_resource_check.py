"""`check: false` on a resource: the catalog file's validation, the sync, and the migration that
adds `resource.check` to an existing database (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, select, text

from shelfcheck.catalog.catalogfile import load_catalog
from shelfcheck.catalog.db import alembic_config, transaction
from shelfcheck.catalog.models import Resource
from shelfcheck.catalog.sync import sync_catalog
from shelfcheck.errors import CatalogFileError

CATALOG = """\
schema: shelfcheck.catalogfile/1
sections:
  - name: Links
    resources:
      - title: Members only
        url: https://www.example.org/members
        check: {members}
      - title: Open page
        url: https://www.example.org/open
"""


def write(tmp_path: Path, members: str = "false") -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG.format(members=members), encoding="utf-8")
    return path


def test_check_is_an_optional_boolean(tmp_path: Path) -> None:
    spec = load_catalog(write(tmp_path))
    assert [(r.title, r.check) for r in spec.sections[0].resources] == [
        ("Members only", False), ("Open page", True)]


@pytest.mark.parametrize("value, shown", [('"no"', "'no'"), ("1", "1"), ("null", "None"),
                                          ("[false]", "[False]")])
def test_a_check_that_is_not_a_boolean_names_the_file_and_line(
        tmp_path: Path, value: str, shown: str) -> None:
    path = write(tmp_path, value)
    with pytest.raises(CatalogFileError) as caught:
        load_catalog(path)
    assert str(caught.value) == (
        f"{path}:7: section 'Links' resource 'Members only': 'check' must be true or false, "
        f"not {shown}")


def checks(engine: Engine) -> dict[str, bool]:
    with transaction(engine) as session:
        return {r.title: r.check for r in session.scalars(select(Resource))}


def test_sync_writes_check_and_a_change_of_check_is_an_update(engine: Engine,
                                                              tmp_path: Path) -> None:
    with transaction(engine) as session:
        first = sync_catalog(session, load_catalog(write(tmp_path)))
    assert len(first.added) == 2
    assert checks(engine) == {"Members only": False, "Open page": True}

    with transaction(engine) as session:
        again = sync_catalog(session, load_catalog(write(tmp_path)))
    assert not again.changed and again.unchanged == 2

    with transaction(engine) as session:
        ids = dict(session.execute(select(Resource.title, Resource.id)).all())
        flipped = sync_catalog(session, load_catalog(write(tmp_path, "true")))
    assert flipped.updated.lines == ["Links / Members only: check"]
    assert (len(flipped.added), len(flipped.retired), flipped.unchanged) == (0, 0, 1)
    assert checks(engine) == {"Members only": True, "Open page": True}
    with transaction(engine) as session:
        assert dict(session.execute(select(Resource.title, Resource.id)).all()) == ids


def test_the_migration_reads_existing_resources_as_checked(engine: Engine) -> None:
    config = alembic_config(engine)
    command.downgrade(config, "0002_content_baseline")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO section (id, name, position, active) "
                          "VALUES (1, 'Old', 0, true)"))
        conn.execute(text(
            "INSERT INTO resource (title, section_id, description, position, state, created_at, "
            "updated_at) VALUES ('Kept', 1, '', 0, 'active', '2026-01-01 00:00:00', "
            "'2026-01-01 00:00:00')"))
    command.upgrade(config, "head")
    assert checks(engine) == {"Kept": True}
    with engine.begin() as conn:  # the default is the server's: rows written without it
        conn.execute(text(
            "INSERT INTO resource (title, section_id, description, position, state, created_at, "
            "updated_at) VALUES ('New', 1, '', 1, 'active', '2026-01-01 00:00:00', "
            "'2026-01-01 00:00:00')"))
    assert checks(engine) == {"Kept": True, "New": True}
    command.check(config)
