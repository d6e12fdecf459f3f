"""The catalog file read a section at a time: the same spec and errors as a whole-file parse."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shelfcheck.catalog.catalogfile import LineLoader, load_catalog, parse_catalog
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
