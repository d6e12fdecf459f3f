"""Importing a LibGuides page into a catalog file, and the packaged catalog file of the guide."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from shelfcheck.catalog.catalogfile import parse_catalog
from shelfcheck.catalog.importguide import ImportGuideError, dump_catalog, import_guide

FIXTURES = Path(__file__).parents[1] / "fixtures" / "guide"
REFERENCE_PAGE = FIXTURES / "education.html"  # copy of shared/reference/sites/guide/education.html
RESOURCES_YAML = FIXTURES / "resources.yaml"  # copy of shared/reference/resources.yaml
MESSY_PAGE = FIXTURES / "messy.html"
PACKAGED = Path(__file__).parents[2] / "catalog" / "data" / "guide.yaml"


def _norm(text: str | None) -> str | None:
    return None if text is None else " ".join(text.split())


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(RESOURCES_YAML.read_text(encoding="utf-8"))
    return data


def _outline(sections: list[dict[str, Any]]) -> list[tuple[str, list[tuple[str | None, ...]]]]:
    return [
        (s["name"], [(_norm(r["title"]), r["url"]) for r in s["resources"]]) for s in sections
    ]


# -- the reference page --------------------------------------------------------------------------


def test_reference_page_gives_the_guide(reference: dict[str, Any]) -> None:
    data = import_guide(str(REFERENCE_PAGE))
    assert data["schema"] == "shelfcheck.catalogfile/1"
    assert data["guide"] == {"title": reference["guide"]["title"], "url": reference["guide"]["url"]}
    assert data["providers"] == []
    assert len(data["sections"]) == 5
    assert sum(len(s["resources"]) for s in data["sections"]) == 21
    assert _outline(data["sections"]) == _outline(reference["sections"])


def test_reference_page_resources_have_descriptions() -> None:
    data = import_guide(str(REFERENCE_PAGE))
    resources = [r for s in data["sections"] for r in s["resources"]]
    assert all(r["description"] for r in resources)
    lssc = resources[0]
    assert lssc["description"].startswith("offers webinars and conference presentations")
    # no description swallows the next paragraph or the onclick/tracking markup
    assert all("springSpace" not in r["description"] for r in resources)
    assert all(len(r["description"]) < 200 for r in resources)


def test_reference_page_a_to_z_has_no_address() -> None:
    data = import_guide(str(REFERENCE_PAGE))
    training = data["sections"][0]["resources"]
    a_to_z = training[5]
    assert a_to_z["title"] == "The A to Z: Diverse and In-Depth Training for Library Support Staff"
    assert a_to_z["url"] is None
    assert a_to_z["description"].startswith("is a webinar series")


def test_reference_page_import_is_a_valid_catalog() -> None:
    spec = parse_catalog(import_guide(str(REFERENCE_PAGE)), "import")
    assert spec.resource_count == 21


def test_reference_page_over_http() -> None:
    with _serve(FIXTURES) as base:
        data = import_guide(f"{base}/education.html", timeout=5)
        assert len(data["sections"]) == 5
        with pytest.raises(ImportGuideError, match=r"/missing\.html"):
            import_guide(f"{base}/missing.html", timeout=5)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _serve(directory: Path) -> Iterator[str]:
    """Serve `directory` on a free local port; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# -- messy markup --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def messy() -> dict[str, Any]:
    return import_guide(str(MESSY_PAGE))


def test_messy_page_title_and_sections(messy: dict[str, Any]) -> None:
    assert messy["guide"] == {
        "title": "Messy Training Guide",
        "url": "https://guides.example.edu/messy/training",
    }
    # the profile box and the text-only box hold no resources
    assert [s["name"] for s in messy["sections"]] == ["Webinars & Courses", "Link list"]


def test_messy_page_resources(messy: dict[str, Any]) -> None:
    rich, links = (
        {r["title"]: (r["url"], r["description"]) for r in s["resources"]}
        for s in messy["sections"]
    )
    assert list(rich) == [
        "One Training Hub", "Two Academy", "Three Without Description",
        "Named Series Without Link", "Four", "Five Library", "Six", "Seven", "Eleven Portal",
        "Twelve FAQ",
    ]
    assert rich["One Training Hub"] == (
        "https://example.org/one", "free webinars for frontline staff."
    )
    assert rich["Two Academy"] == (
        "https://guides.example.edu/relative/two", "paid online courses, four weeks each."
    )
    assert rich["Three Without Description"] == ("https://example.org/three", None)
    assert rich["Named Series Without Link"] == (
        None, "a webinar series you register for by phone."
    )
    assert rich["Four"] == ("https://example.org/four", "offered in a div, not a paragraph")
    assert rich["Five Library"] == (
        "https://example.org/five", "Staff at Five Library write a blog about cataloging."
    )
    assert rich["Six"] == ("https://example.org/six", "the sixth thing")
    assert rich["Seven"] == ("https://example.org/seven", "the seventh thing")
    # several links in one paragraph: each gets its own sentence
    assert rich["Eleven Portal"] == (
        "https://example.org/eleven", "Read the basics at the Eleven Portal."
    )
    assert rich["Twelve FAQ"] == ("https://example.org/twelve", "answers common questions.")
    assert links == {
        "Eight": ("https://example.net/eight/", "A directory of eight things."),
        "Nine, no description": ("https://example.net/nine", None),
        "Ten": ("https://example.net/ten", "the tenth resource"),
    }


def test_messy_page_skips_chrome(messy: dict[str, Any]) -> None:
    text = dump_catalog(messy)
    for chrome in (
        "Hours", "Ask a Librarian", "LibGuides", "Skip to", "Print", "Login", "mailto:", "#",
        "javascript", "Previous", "More info", "Note", "Sub-heading", "Ann Librarian",
        "tracker", "\xa0",
    ):
        assert chrome not in text, chrome


def test_other_box_markup_and_plain_headings(tmp_path: Path) -> None:
    panels = tmp_path / "panels.html"
    panels.write_text(
        "<html><body><div class='panel'><div class='panel-heading'>Gamma</div>"
        "<div class='panel-body'><p><a href='https://g.example/'>G</a> - gee</p></div></div>"
        "<section><h3>Delta</h3><ul><li><a href='https://d.example/'>D</a></li></ul></section>"
        "</body></html>",
        encoding="utf-8",
    )
    assert _outline(import_guide(str(panels))["sections"]) == [
        ("Gamma", [("G", "https://g.example/")]),
        ("Delta", [("D", "https://d.example/")]),
    ]
    headings = tmp_path / "headings.html"
    headings.write_text(
        "<html><body><main><h1>Guide</h1><h2>Alpha</h2><p><a href='https://a.example/'>A</a>"
        " &ndash; first</p><div class='wrap'><h2>Beta</h2><ul><li>"
        "<a href='https://b.example/'>B</a></li></ul></div></main></body></html>",
        encoding="utf-8",
    )
    data = import_guide(str(headings))
    assert data["guide"]["title"] == "Guide"
    assert _outline(data["sections"]) == [
        ("Alpha", [("A", "https://a.example/")]),
        ("Beta", [("B", "https://b.example/")]),
    ]


def test_boxes_with_the_same_title_make_one_section(tmp_path: Path) -> None:
    box = (
        "<div class='s-lib-box'><h2 class='s-lib-box-title'>Books</h2>"
        "<p><a href='https://{0}.example/'>{0}</a> about {0}</p>"
        "<p><a href='https://shared.example/'>Shared</a> in both columns</p></div>"
    )
    page = tmp_path / "columns.html"
    page.write_text(
        f"<html><body>{box.format('left')}{box.format('right')}</body></html>", encoding="utf-8"
    )
    data = import_guide(str(page))
    assert _outline(data["sections"]) == [
        (
            "Books",
            [
                ("left", "https://left.example/"),
                ("Shared", "https://shared.example/"),
                ("right", "https://right.example/"),
            ],
        )
    ]
    parse_catalog(data, str(page))


# -- errors --------------------------------------------------------------------------------------


def test_missing_file_raises_naming_the_source(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.html"
    with pytest.raises(ImportGuideError, match=r"nowhere\.html") as caught:
        import_guide(str(missing))
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "html",
    [
        "",
        "<html><body><p>No boxes and no headings, just <a href='https://x.example/'>x</a>.</p>"
        "</body></html>",
        "<html><body><div class='s-lib-box'><h2 class='s-lib-box-title'>Empty</h2>"
        "<p>Nothing linked.</p></div><nav><h2>Menu</h2><a href='https://y.example/'>y</a></nav>"
        "</body></html>",
    ],
)
def test_page_without_sections_raises(tmp_path: Path, html: str) -> None:
    page = tmp_path / "empty-guide.html"
    page.write_text(html, encoding="utf-8")
    with pytest.raises(ImportGuideError, match=r"empty-guide\.html"):
        import_guide(str(page))


# -- dump_catalog --------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [REFERENCE_PAGE, MESSY_PAGE])
def test_dump_catalog_round_trips(page: Path) -> None:
    data = import_guide(str(page))
    text = dump_catalog(data)
    assert yaml.safe_load(text) == data
    assert text.startswith("schema: shelfcheck.catalogfile/1\nguide:\n")


# -- the packaged catalog file -------------------------------------------------------------------


@pytest.fixture(scope="module")
def packaged() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(PACKAGED.read_text(encoding="utf-8"))
    return data


def test_packaged_catalog_guide_and_providers(
    packaged: dict[str, Any], reference: dict[str, Any]
) -> None:
    assert packaged["schema"] == "shelfcheck.catalogfile/1"
    assert packaged["guide"] == {
        "title": reference["guide"]["title"], "url": reference["guide"]["url"]
    }
    assert [(p["slug"], p["name"], p["home"]) for p in packaged["providers"]] == [
        (p["slug"], p["name"], p["home"]) for p in reference["providers"]
    ]


def test_packaged_catalog_sections_and_resources(
    packaged: dict[str, Any], reference: dict[str, Any]
) -> None:
    def rows(data: dict[str, Any]) -> list[tuple[str, str, str | None, str | None]]:
        return [
            (s["name"], r["title"], r.get("provider"), r["url"])
            for s in data["sections"]
            for r in s["resources"]
        ]

    assert rows(packaged) == rows(reference)
    assert len(rows(packaged)) == 21
    assert [s["name"] for s in packaged["sections"]] == [s["name"] for s in reference["sections"]]


def test_packaged_catalog_descriptions(packaged: dict[str, Any]) -> None:
    for section in packaged["sections"]:
        for resource in section["resources"]:
            description = resource["description"]
            assert isinstance(description, str), resource["title"]
            assert description.strip(), resource["title"]
            assert "\n" not in description.strip(), resource["title"]
            assert len(description) <= 200, resource["title"]


def test_packaged_catalog_is_valid() -> None:
    spec = parse_catalog(
        yaml.safe_load(PACKAGED.read_text(encoding="utf-8")), str(PACKAGED)
    )
    assert spec.resource_count == 21
    assert len(spec.providers) == 12
