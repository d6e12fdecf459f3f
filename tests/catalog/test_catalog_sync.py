"""Catalog database: migrations, sync idempotence, retire/restore, shared links, bad files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, func, inspect, select

from shelfcheck.catalog.catalogfile import load_catalog, packaged_catalog_path
from shelfcheck.catalog.db import make_engine, needs_upgrade, open_database
from shelfcheck.catalog.db import transaction as tx
from shelfcheck.catalog.models import Link, Provider, Resource, Section
from shelfcheck.catalog.sync import last_synced_hash, sync_catalog
from shelfcheck.errors import CatalogFileError

SMALL = {
    "schema": "shelfcheck.catalogfile/1",
    "providers": [{"slug": "ala", "name": "ALA", "home": "https://www.ala.org/"}],
    "sections": [
        {"name": "One", "resources": [
            {"title": "A", "url": "https://www.ala.org/a", "provider": "ala", "description": "a"},
            {"title": "No address", "url": None, "description": "needs a URL"},
        ]},
        {"name": "Two", "resources": [
            {"title": "C", "url": "https://example.org/c", "description": "c"},
            {"title": "B", "url": "HTTPS://WWW.ALA.ORG/a#top", "description": "same link as A"},
        ]},
    ],
}


def write(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data)
    return path


def counts(engine: Engine) -> tuple[int, int, int, int]:
    with tx(engine) as s:
        return (
            s.scalar(select(func.count()).select_from(Section)) or 0,
            s.scalar(select(func.count()).select_from(Resource)) or 0,
            s.scalar(select(func.count()).select_from(Link)) or 0,
            s.scalar(select(func.count()).select_from(Provider)) or 0,
        )


def test_migrations_from_empty(tmp_path: Path, db_url: str) -> None:
    # db_url is already migrated; an empty SQLite file is upgraded on first use too.
    engine = open_database(f"sqlite:///{tmp_path / 'fresh.db'}")
    tables = set(inspect(engine).get_table_names())
    assert {"section", "resource", "link", "link_check", "offering", "fee_tier",
            "change_event", "crawl_run", "run_lock", "alembic_version"} <= tables
    assert not needs_upgrade(engine)
    engine.dispose()
    migrated = make_engine(db_url)
    assert not needs_upgrade(migrated)
    fks = inspect(migrated).get_foreign_keys("resource")
    migrated.dispose()
    assert any(fk["name"] == "fk_resource_section_id_section" for fk in fks)


def test_packaged_guide_syncs_idempotently(engine: Engine) -> None:
    spec = load_catalog()
    with tx(engine) as s:
        first = sync_catalog(s, spec)
    assert len(first.added) == 21 and first.changed
    assert counts(engine)[:2] == (5, 21)
    with tx(engine) as s:
        second = sync_catalog(s, spec)
        assert last_synced_hash(s) == spec.sha256
    assert not second.changed and second.unchanged == 21
    with tx(engine) as s:
        no_url = s.scalars(select(Resource).where(Resource.link_id.is_(None))).all()
        assert [r.title for r in no_url] == [
            "The A to Z: Diverse and In-Depth Training for Library Support Staff"]
        # LSSC webinars and the LSSC certification program share http://ala-apa.org/lssc
        shared = s.scalar(select(Link).where(Link.url == "http://ala-apa.org/lssc"))
        assert shared is not None and len(shared.resources) == 2


def test_one_link_shared_by_two_resources(tmp_path: Path, engine: Engine) -> None:
    spec = load_catalog(write(tmp_path / "c.yaml", SMALL))
    with tx(engine) as s:
        sync_catalog(s, spec)
    with tx(engine) as s:
        link = s.scalar(select(Link).where(Link.url == "https://www.ala.org/a"))
        assert link is not None
        assert sorted(r.title for r in link.resources) == ["A", "B"]
        assert link.host == "www.ala.org" and link.state == "unknown"
    assert counts(engine) == (2, 4, 2, 1)


def test_retire_and_restore(tmp_path: Path, engine: Engine) -> None:
    with tx(engine) as s:
        sync_catalog(s, load_catalog(write(tmp_path / "c.yaml", SMALL)))
    smaller = yaml.safe_load(yaml.safe_dump(SMALL))
    smaller["sections"][1]["resources"] = smaller["sections"][1]["resources"][1:]
    smaller["sections"][0]["resources"][0]["description"] = "new words"
    with tx(engine) as s:
        result = sync_catalog(s, load_catalog(write(tmp_path / "c2.yaml", smaller)))
    assert result.retired.lines == ["Two / C"]
    assert result.updated.lines == ["One / A: description", "Two / B: position"]
    with tx(engine) as s:
        c = s.scalar(select(Resource).where(Resource.title == "C"))
        assert c is not None and c.state == "retired" and c.retired_at is not None
        assert c.link is not None  # history kept
    with tx(engine) as s:
        result = sync_catalog(s, load_catalog(write(tmp_path / "c3.yaml", SMALL)))
    assert result.restored.lines == ["Two / C"]
    with tx(engine) as s:
        c = s.scalar(select(Resource).where(Resource.title == "C"))
        assert c is not None and c.state == "active" and c.retired_at is None


def _bad(data: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    copy = yaml.safe_load(yaml.safe_dump(data))
    node = copy
    for part in path[:-1]:
        node = node[part]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return copy


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        ((["sections", 0, "resources", 0, "title"], ["x"]), ":11: section 'One' resources[0]: "
         "'title' must be text, not list"),
        ((["sections", 0, "resources", 1, "title"], KeyError), "missing required key 'title'"),
        ((["sections", 0, "resources", 1, "url"], "https://www.ala.org/a?utm_source=x"),
         "duplicate URL within the section (also 'A')"),
        ((["sections", 0, "resources", 0, "provider"], "nobody"), "unknown provider 'nobody'"),
        ((["sections", 0, "resources", 0, "colour"], "red"), "unknown key 'colour'"),
        ((["sections"], "none"), "'sections' must be a list"),
        ((["providers", 0, "slug"], "Bad Slug"), "slug must be lower-case"),
    ],
)
def test_bad_catalog_files(tmp_path: Path, engine: Engine, mutation: Any, message: str) -> None:
    with tx(engine) as s:
        sync_catalog(s, load_catalog(write(tmp_path / "good.yaml", SMALL)))
    before = counts(engine)
    path = write(tmp_path / "bad.yaml", _bad(SMALL, *mutation))
    with pytest.raises(CatalogFileError) as info:
        load_catalog(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)
    assert counts(engine) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sections:\n  - name: One\n    resources: [\n", ":4: malformed YAML"),
        ("sections:\n  - name: One\n    name: Two\n", ":3: duplicate key 'name'"),
        ("- just\n- a list\n", ":1: a catalog file must be a mapping"),
        ("providers: []\n", "missing required key 'sections'"),
    ],
)
def test_malformed_yaml(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "bad.yaml", text)
    with pytest.raises(CatalogFileError) as info:
        load_catalog(path)
    assert f"{path}" in str(info.value) and message in str(info.value)


def test_failed_sync_writes_nothing(tmp_path: Path, engine: Engine) -> None:
    """A sync that fails part-way (a database error) is rolled back whole."""
    spec = load_catalog(write(tmp_path / "c.yaml", SMALL))
    spec.sections[1].resources[0].title = "x" * 100_000  # too long for PostgreSQL's VARCHAR(500)
    spec.sections.append(spec.sections[0])  # and a duplicate (section, title) for SQLite
    with pytest.raises(Exception), tx(engine) as s:  # noqa: B017
        sync_catalog(s, spec)
    assert counts(engine) == (0, 0, 0, 0)


def test_cli_sync_list_and_errors(cli: Any, tmp_path: Path, db_url: str) -> None:
    result = cli("--database-url", db_url, "catalog", "sync")
    assert result.exit_code == 0, result.output
    assert "21 added" in result.output
    again = cli("--database-url", db_url, "catalog", "sync")
    assert "0 added, 0 updated, 0 retired, 0 restored, 21 unchanged" in again.output
    listing = cli("--database-url", db_url, "catalog", "list")
    assert "Financial Assistance" in listing.output and "(no URL)" in listing.output
    assert "21 resources in 5 sections" in listing.output
    bad = write(tmp_path / "bad.yaml", "sections: [\n")
    result = cli("--database-url", db_url, "catalog", "sync", str(bad))
    assert result.exit_code == 2
    assert f"{bad}:" in result.output and "malformed YAML" in result.output


def test_unreachable_database_is_one_clear_line(cli: Any) -> None:
    result = cli("--database-url", "postgresql://nobody:pw@127.0.0.1:1/none", "catalog", "list")
    assert result.exit_code == 4  # a failure to reach the database, not bad input
    assert "cannot use the database postgresql://nobody:***@127.0.0.1:1/none" in result.output
    assert "Traceback" not in result.output and "pw@" not in result.output


def test_packaged_catalog_path_exists() -> None:
    assert packaged_catalog_path().is_file()
