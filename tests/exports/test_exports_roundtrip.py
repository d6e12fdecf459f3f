"""Round trips: the exported JSON loads back into a fresh database and exports the same
resources; the regenerated guide page imports back (catalog import-guide) as the same guide."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from shelfcheck.catalog.catalogfile import load_catalog, parse_catalog
from shelfcheck.catalog.db import open_database, transaction
from shelfcheck.catalog.importguide import import_guide
from shelfcheck.catalog.models import Resource
from shelfcheck.catalog.states import ResourceState
from shelfcheck.catalog.sync import sync_catalog
from shelfcheck.exports.base import get_exporter
from shelfcheck.exports.catalog_json import catalog_file_from_document
from tests.exports_data import (
    BROKEN_URL,
    CATALOG,
    GUIDE,
    NOW,
    REDIRECT_TARGET,
    REDIRECTED_URL,
    add_hostile,
    populate,
    sync,
)

# A copy of shared/reference/sites/guide/education.html, the guide page the catalog comes from.
REFERENCE_PAGE = Path(__file__).parents[1] / "fixtures" / "guide" / "education.html"


@pytest.fixture
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path,
                 pg_factory: Any) -> Iterator[Engine]:
    """A second empty database of the same kind as `engine`."""
    if request.node.callspec.params["db_url"] == "sqlite":
        path = tmp_path / "fresh.db"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        url = pg_factory.new()
    eng = open_database(url)
    yield eng
    eng.dispose()


def export_json(engine: Engine) -> dict[str, Any]:
    with transaction(engine) as session:
        data = get_exporter("json")(now=NOW).render(session)["catalog.json"]
    doc: dict[str, Any] = json.loads(data)
    return doc


def catalog_part(doc: dict[str, Any]) -> dict[str, Any]:
    """What a catalog file declares: the guide, providers, sections and their resources."""
    return {
        "guide": doc["guide"],
        "providers": [(p["slug"], p["name"], p["home"]) for p in doc["providers"]],
        "sections": [(s["name"], [(r["title"], r["url"], r["provider"], r["description"],
                                   r["check"]) for r in s["resources"]])
                     for s in doc["sections"]],
    }


def checks(engine: Engine) -> dict[str, bool]:
    """Each active resource's `check`, by title."""
    with transaction(engine) as session:
        rows = session.execute(select(Resource.title, Resource.check)
                               .where(Resource.state == ResourceState.ACTIVE))
        return {title: check for title, check in rows}


def test_json_export_syncs_into_a_fresh_database_and_exports_the_same(
        engine: Engine, fresh_engine: Engine) -> None:
    with transaction(engine) as session:
        populate(session)
        add_hostile(session)
    first = export_json(engine)
    spec = parse_catalog(catalog_file_from_document(first), "catalog.json")
    with transaction(fresh_engine) as session:
        result = sync_catalog(session, spec)
    assert len(result.added) == sum(len(s["resources"]) for s in first["sections"])
    second = export_json(fresh_engine)
    assert catalog_part(second) == catalog_part(first)
    # Link health is not part of a catalog file: the fresh database has not checked anything.
    states = {r["link_state"] for s in second["sections"] for r in s["resources"]}
    assert states == {"unknown", "no_url"}


def test_a_resource_not_checked_loads_back_not_checked(engine: Engine,
                                                       fresh_engine: Engine) -> None:
    """`check: false` in the catalog file is exported as "check": false and read back as
    `check: false`, so the fresh database does not start checking that link."""
    catalog = copy.deepcopy(CATALOG)
    unchecked = catalog["sections"][0]["resources"][4]
    unchecked["check"] = False
    with transaction(engine) as session:
        populate(session)
        sync(session, catalog)
    first = export_json(engine)
    exported = {r["title"]: r.get("check") for s in first["sections"] for r in s["resources"]}
    assert [title for title, check in exported.items() if check is not True] == [
        unchecked["title"]]
    spec = parse_catalog(catalog_file_from_document(first), "catalog.json")
    with transaction(fresh_engine) as session:
        sync_catalog(session, spec)
    assert checks(fresh_engine) == checks(engine) == exported
    assert catalog_part(export_json(fresh_engine)) == catalog_part(first)


def test_public_guide_page_imports_back_as_the_readers_guide(engine: Engine,
                                                             tmp_path: Path) -> None:
    with transaction(engine) as session:
        populate(session)
    with transaction(engine) as session:
        page = tmp_path / "guide.html"
        get_exporter("html")(public=True, now=NOW).write(session, page)
        doc = export_json(engine)
    imported = import_guide(str(page))
    assert imported["guide"] == GUIDE
    expected = []
    for section in doc["sections"]:
        resources = []
        for r in section["resources"]:
            if r["url"] == BROKEN_URL:
                continue
            url = REDIRECT_TARGET if r["url"] == REDIRECTED_URL else r["url"]
            resources.append({"title": r["title"], "url": url, "description": r["description"]})
        expected.append({"name": section["name"], "resources": resources})
    assert imported["sections"] == expected


def test_regenerated_guide_page_has_the_outline_of_the_real_guide(engine: Engine,
                                                                  tmp_path: Path) -> None:
    """The packaged guide catalog, exported as a page, reads back like the LibGuides page
    it was taken from: same title, address, sections, resources and links, in order."""
    with transaction(engine) as session:
        sync_catalog(session, load_catalog(None))
    page = tmp_path / "guide.html"
    with transaction(engine) as session:
        get_exporter("html")(public=True, now=NOW).write(session, page)
    regenerated, original = import_guide(str(page)), import_guide(str(REFERENCE_PAGE))

    def outline(doc: dict[str, Any]) -> list[tuple[str, list[tuple[str, str | None]]]]:
        return [(s["name"], [(r["title"], r["url"]) for r in s["resources"]])
                for s in doc["sections"]]

    assert regenerated["guide"] == original["guide"]
    assert outline(regenerated) == outline(original)
    assert len(outline(original)) == 5
