"""Whatever `import-guide` writes, `catalog sync` accepts; `catalog sync` refuses a resource URL
that is not http(s) or does not parse, naming file:line, and writes nothing (#17, #12)."""

from __future__ import annotations

import html
import random
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from shelfcheck.catalog.catalogfile import CatalogFileError, load_catalog
from shelfcheck.catalog.importguide import dump_catalog, import_guide
from shelfcheck.catalog.models import Resource
from shelfcheck.catalog.urlnorm import MAX_URL_LENGTH
from tests.conftest import run_shelfcheck

HOSTILE_HREFS = [
    "javascript:alert(1)", "JavaScript:void(0)", " mailto:x@example.org", "tel:+1555",
    "data:text/html,<b>x</b>", "about:blank", "sms:123", "ftp://ftp.example.org/f",
    "file:///etc/passwd", "htp://typo.example.org/", "http://[::1/x", "http://[zz::1]/",
    "http://host.example.org:99999/", "http://exa mple.org/", "http://", "https:///path",
    "//cdn.example.org/x", "/relative/path", "relative.html", "?q=1", "#top", "",
    "http://example.org/" + "a" * (MAX_URL_LENGTH + 10), "http://例え.テスト/ページ",
    "http://example.org/My File.pdf", "http://example.org/\x00nul", "http://example.org/tab\t/x",
    "https://example.org/%zz%", "http://user:pa ss@example.org/", "http:example.org",
    "https://example.org/ok",
]


def hostile_page(count: int, seed: int = 17) -> str:
    """A LibGuides-like page of `count` links: hostile hrefs, and the same texts repeated."""
    rng = random.Random(seed)
    items = []
    for n in range(count):
        href = rng.choice(HOSTILE_HREFS)
        if rng.random() < 0.4:
            href = f"https://host{n % 7}.example.org/page/{n}"
        text = rng.choice(["Click here", "Webinar", "Course", f"Course {n % 50}"])
        items.append(f'<li><a href="{html.escape(href, quote=True)}">{text}</a> — a '
                     f"resource for staff.</li>")
    boxes = []
    for b in range(0, count, 500):
        boxes.append(f'<div class="s-lib-box"><h2 class="s-lib-box-title">Box {b % 1000}</h2>'
                     f"<ul>{''.join(items[b:b + 500])}</ul></div>")
    return (f"<html><head><title>Hostile - Guide - LibGuides</title></head><body>"
            f"<main>{''.join(boxes)}</main></body></html>")


def test_5000_hostile_hrefs_import_into_a_file_that_sync_accepts(tmp_path: Path,
                                                                 db_url: str) -> None:
    page = tmp_path / "hostile.html"
    page.write_text(hostile_page(5000), encoding="utf-8")
    warnings: list[str] = []
    data = import_guide(str(page), warnings=warnings)
    catalog = tmp_path / "imported.yaml"
    catalog.write_text(dump_catalog(data), encoding="utf-8")
    spec = load_catalog(catalog)  # raises CatalogFileError on any problem
    resources = [r for section in spec.sections for r in section.resources]
    assert len(resources) > 1000
    assert warnings and any("javascript" not in w and "http://[::1/x" in w for w in warnings)
    assert any("characters long" in w for w in warnings)
    names = [s.name for s in spec.sections]
    assert len(names) == len(set(names))  # "Box 0" appears twice on the page
    for section in spec.sections:
        titles = [r.title for r in section.resources]
        assert len(titles) == len(set(titles))
    assert any(r.url == "http://example.org/My%20File.pdf" for r in resources)

    synced = run_shelfcheck("--database-url", db_url, "catalog", "sync", str(catalog),
                            cwd=tmp_path)
    assert synced.returncode == 0, synced.stderr
    written = run_shelfcheck("catalog", "import-guide", str(page), "-o",
                             str(tmp_path / "cli.yaml"), cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    assert "warning:" in written.stderr and "skipped the link" in written.stderr


BAD_URLS = ["javascript:alert(1)", "data:text/html,x", "htp://example.org/",
            "http://exa mple.org/", "http://example.org/a b", "http://[::1/x", "mailto:a@b.org"]


def bad_catalog(path: Path, bad: str) -> Path:
    path.write_text(
        "schema: shelfcheck.catalogfile/1\n"
        "guide: {title: Guide, url: 'https://guide.example.org/'}\n"
        "providers: []\n"
        "sections:\n"
        "  - name: One\n"
        "    resources:\n"
        "      - title: Good\n"
        "        url: https://example.org/good\n"
        "      - title: Bad\n"
        f"        url: {bad!r}\n".replace("'", '"'), encoding="utf-8")
    return path


@pytest.mark.parametrize("bad", BAD_URLS)
def test_a_bad_resource_url_is_refused_with_file_and_line(tmp_path: Path, bad: str) -> None:
    catalog = bad_catalog(tmp_path / "catalog.yaml", bad)
    with pytest.raises(CatalogFileError) as caught:
        load_catalog(catalog)
    assert f"{catalog}:10: section 'One' resource 'Bad': " in str(caught.value)


def test_sync_refuses_a_bad_url_with_exit_2_and_writes_nothing(tmp_path: Path,
                                                               db_url: str) -> None:
    catalog = bad_catalog(tmp_path / "catalog.yaml", "javascript:alert(1)")
    synced = run_shelfcheck("--database-url", db_url, "catalog", "sync", str(catalog),
                            cwd=tmp_path)
    assert synced.returncode == 2, synced.stdout + synced.stderr
    assert f"{catalog}:10:" in synced.stderr and "http(s)" in synced.stderr
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            assert conn.scalar(select(func.count(Resource.id))) == 0  # not even "Good"
    finally:
        engine.dispose()


def test_a_password_in_a_url_is_never_kept(tmp_path: Path) -> None:
    from shelfcheck.catalog.urlnorm import normalize_url, strip_userinfo, url_problem

    assert normalize_url("https://alice:S3cret@Example.org/a") == "https://alice@example.org/a"
    assert strip_userinfo("https://alice@example.org:8443/a?b=1") == "https://example.org:8443/a?b=1"
    problem = url_problem("https://alice:S3cret@exa mple.org/")
    assert problem and "S3cret" not in problem and "alice:***@" in problem
    catalog = bad_catalog(tmp_path / "catalog.yaml", "https://alice:S3cret@example.org/x")
    spec = load_catalog(catalog)
    assert [r.url for r in spec.sections[0].resources] == [
        "https://example.org/good", "https://alice:***@example.org/x"]
