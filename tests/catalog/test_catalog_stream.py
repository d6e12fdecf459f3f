"""The catalog file read a section at a time: the same spec and errors as a whole-file parse,
and the sync that writes each section as it is read in one transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, func, select

from shelfcheck.catalog.catalogfile import CatalogReader, load_catalog, parse_catalog
from shelfcheck.catalog.db import open_database, transaction
from shelfcheck.catalog.models import Link, Resource, Section
from shelfcheck.catalog.sync import SAMPLE_LINES, sync_catalog, sync_catalog_file
from shelfcheck.catalog.yamllines import LineLoader
from shelfcheck.errors import CatalogFileError
from tests.catalog.test_catalog_sync import SMALL, write


def whole(path: Path) -> object:
    """The spec of the file parsed at once (the reference)."""
    data = yaml.load(path.read_text(), Loader=LineLoader)  # a safe loader
    return parse_catalog(data, str(path), load_catalog(path).sha256)


@pytest.mark.parametrize("order", [
    ["schema", "providers", "sections"],
    ["sections", "providers", "schema"],  # sections before the providers they name
    ["providers", "sections", "schema"],
])
def test_any_key_order_gives_the_same_spec(tmp_path: Path, order: list[str]) -> None:
    data = {key: SMALL[key] for key in order}
    data["guide"] = {"title": "Guide", "url": "https://guide.example.org/"}
    path = write(tmp_path / "c.yaml", data)
    spec = load_catalog(path)
    assert spec == whole(path)
    assert [s.name for s in spec.sections] == ["One", "Two"]
    assert spec.guide == {"title": "Guide", "url": "https://guide.example.org/"}
    assert spec.resource_count == 4


def test_problems_after_the_sections_are_found_and_listed_in_file_order(tmp_path: Path) -> None:
    text = (
        "schema: shelfcheck.catalogfile/1\n"
        "providers:\n  - {slug: ala, name: ALA}\n"
        "sections:\n"
        "  - name: One\n    resources:\n      - {title: A, provider: nope}\n"
        "  - name: One\n    resources: []\n"
        "colour: blue\n"
    )
    path = write(tmp_path / "bad.yaml", text)
    with pytest.raises(CatalogFileError) as err:
        load_catalog(path)
    lines = str(err.value).splitlines()
    assert lines == [
        f"{path}:10: catalog: unknown key 'colour' (allowed: guide, providers, schema, sections)",
        f"{path}:7: section 'One' resource 'A': unknown provider 'nope'",
        f"{path}:8: section 'One': duplicate section name",
    ]


def test_duplicate_top_level_key_and_bad_yaml_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "dup.yaml", "sections: []\nproviders: []\nsections: []\n")
    with pytest.raises(CatalogFileError, match=r"dup.yaml:3: duplicate key 'sections'"):
        load_catalog(path)
    path = write(tmp_path / "broken.yaml", "sections:\n  - name: One\n    resources: [\n")
    with pytest.raises(CatalogFileError, match=r"broken.yaml:\d+: malformed YAML"):
        load_catalog(path)
    path = write(tmp_path / "list.yaml", "- a\n- b\n")
    with pytest.raises(CatalogFileError, match="must be a mapping with 'sections'"):
        load_catalog(path)
    empty = write(tmp_path / "empty.yaml", "")
    with pytest.raises(CatalogFileError, match="must be a mapping"):
        load_catalog(empty)


# -- the streamed sync: written as read, one transaction, bounded output ----------------------

def many(n: int, *, section_size: int = 40, provider: str | None = "ala") -> dict[str, Any]:
    """A catalog of `n` resources in sections of `section_size`."""
    sections = []
    for start in range(0, n, section_size):
        sections.append({"name": f"Section {start // section_size}", "resources": [
            {"title": f"R{i}", "url": f"https://host{i % 7}.example.org/{i}",
             "provider": provider if i % 3 == 0 else None, "description": f"d{i}"}
            for i in range(start, min(start + section_size, n))]})
    return {"schema": "shelfcheck.catalogfile/1",
            "providers": [{"slug": "ala", "name": "ALA", "home": "https://www.ala.org/"}],
            "sections": sections}


def state(engine: Engine) -> list[tuple[Any, ...]]:
    """Every resource and link, as the sync leaves them."""
    with transaction(engine) as s:
        return [tuple(r) for r in s.execute(
            select(Section.name, Section.position, Section.active, Resource.title, Resource.url,
                   Resource.description, Resource.position, Resource.state, Link.url)
            .join(Resource, Resource.section_id == Section.id)
            .outerjoin(Link, Resource.link_id == Link.id)
            .order_by(Section.name, Resource.title))]


@pytest.mark.parametrize("where", ["last section", "yaml"])
def test_a_problem_in_the_last_section_writes_nothing(tmp_path: Path, cli: Any, db_url: str,
                                                      engine: Engine, where: str) -> None:
    good = write(tmp_path / "good.yaml", many(200))
    assert cli("--database-url", db_url, "catalog", "sync", str(good)).exit_code == 0
    before = state(engine)
    changed = many(200)
    changed["sections"][0]["resources"][0]["description"] = "changed"  # synced first...
    changed["sections"][0]["resources"].append({"title": "New", "url": "https://new.org/"})
    changed["sections"][-1]["resources"][-1]["provider"] = "nobody"  # ...then this is read
    text = yaml.safe_dump(changed, sort_keys=False)
    if where == "yaml":
        text = text.replace("  provider: nobody\n", "  provider: [nobody\n")
    bad = write(tmp_path / "bad.yaml", text)
    line = text[:text.index("nobody")].count("\n") + 1
    result = cli("--database-url", db_url, "catalog", "sync", str(bad))
    assert result.exit_code == 2, result.output
    if where == "yaml":
        assert f"{bad}:" in result.output and "malformed YAML" in result.output
    else:
        assert (f"{bad}:{line}: section 'Section 4' resource 'R199': unknown provider "
                f"'nobody'") in result.output
    assert state(engine) == before
    with transaction(engine) as s:
        assert s.scalar(select(func.count()).select_from(Link)) == 200  # no link from "New"


def test_the_output_lists_a_sample_and_counts_the_rest(tmp_path: Path, cli: Any,
                                                       db_url: str) -> None:
    path = write(tmp_path / "c.yaml", many(SAMPLE_LINES + 25))
    result = cli("--database-url", db_url, "catalog", "sync", str(path))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith(f": {SAMPLE_LINES + 25} added, 0 updated, 0 retired, 0 restored, "
                             "0 unchanged, 1 provider changed")
    added = [line for line in lines if line.startswith("  added: ")]
    assert added[0] == "  added: Section 0 / R0" and len(added) == SAMPLE_LINES + 1
    assert added[-1] == "  added: ... and 25 more"
    assert "  provider: provider ala: added" in lines
    fewer = many(SAMPLE_LINES + 25)
    fewer["sections"] = fewer["sections"][:1]  # 40 kept, the rest retired
    result = cli("--database-url", db_url, "catalog", "sync", str(write(tmp_path / "d.yaml",
                                                                        fewer)))
    assert f"0 added, 0 updated, {SAMPLE_LINES - 15} retired" in result.output
    assert "  retired: Section 1 / R40" in result.output
    assert "  retired: ..." not in result.output


def test_streamed_and_whole_syncs_agree(tmp_path: Path, engine: Engine, db_url: str) -> None:
    first = write(tmp_path / "a.yaml", many(300, section_size=70))
    second = many(300, section_size=70)
    second["sections"].reverse()
    second["sections"][1]["resources"] = second["sections"][1]["resources"][5:]
    second["sections"][2]["resources"][3]["url"] = "https://moved.example.org/"
    del second["sections"][3]
    other = open_database(f"sqlite:///{tmp_path / 'whole.db'}")
    for path in (first, write(tmp_path / "b.yaml", second)):
        with transaction(engine) as s:
            streamed = sync_catalog_file(s, CatalogReader(path))
        with transaction(other) as s:
            whole = sync_catalog(s, load_catalog(path))
        assert streamed == whole
        assert state(engine) == state(other)
    assert streamed.retired.count == 75 and streamed.updated.count > 0
    other.dispose()


def redirected(engine: Engine, url: str, target: str) -> None:
    """Leave the link of `url` as a links run does when it answers a permanent redirect."""
    with transaction(engine) as s:
        link = s.scalars(select(Link).where(Link.url == url)).one()
        link.state, link.redirect_target, link.last_verdict = "redirected", target, "redirected"


FIXED = ("schema: shelfcheck.catalogfile/1\nsections:\n"
         "  - name: S\n    resources:\n"
         "      - {title: One, url: 'https://a.example.org/x/y', description: ''}\n"
         "  - name: T\n    resources:\n"
         "      - {title: Two, url: 'https://b.example.org/other', description: ''}\n")


@pytest.mark.parametrize("later", ["old URL", "target"])
def test_a_fixed_redirect_is_decided_on_the_whole_file(tmp_path: Path, engine: Engine,
                                                       later: str) -> None:
    """The fixed resource comes first: what a later section lists still counts."""
    with transaction(engine) as s:
        sync_catalog_file(s, CatalogReader(write(tmp_path / "c.yaml", FIXED)))
    redirected(engine, "https://a.example.org/x/y", "https://a.example.org/z/y")
    fixed = FIXED.replace("a.example.org/x/y", "a.example.org/z/y")
    # a later resource keeps the old URL (the link must stay) or names the target too
    fixed = fixed.replace("https://b.example.org/other", "https://a.example.org/x/y"
                          if later == "old URL" else "https://a.example.org/z/y")
    with transaction(engine) as s:
        result = sync_catalog_file(s, CatalogReader(write(tmp_path / "d.yaml", fixed)))
    assert result.updated.lines == ["S / One: url", "T / Two: url"]
    with transaction(engine) as s:
        links = dict(s.execute(select(Link.url, Link.state)).all())
        users = dict(s.execute(select(Resource.title, Link.url).join(Link)).all())
    if later == "old URL":
        assert links["https://a.example.org/x/y"] == "redirected"
        assert links["https://a.example.org/z/y"] == "unknown"
        assert users == {"One": "https://a.example.org/z/y", "Two": "https://a.example.org/x/y"}
    else:
        assert "https://a.example.org/x/y" not in links
        assert links["https://a.example.org/z/y"] == "ok"  # the moved row, one for both
        assert users == {"One": "https://a.example.org/z/y", "Two": "https://a.example.org/z/y"}
