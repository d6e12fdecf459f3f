"""`catalog fix`: redirects go back into the catalog file, layout kept; sync keeps the history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from shelfcheck.catalog.catalogfix import Redirect, apply_fixes, plan_fixes, unsafe_target
from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.models import ChangeEvent, CrawlRun, Link, LinkCheck, Resource, utcnow
from tests.conftest import run_shelfcheck
from tests.mockserver import MockServer

CATALOG = """\
# Our guide: comments, quoting, flow style and nulls must survive `catalog fix`.
schema: shelfcheck.catalogfile/1
guide: {title: Test guide, url: "https://guide.example.org/"}
providers:
  - slug: ex
    name: Example
    home: null

sections:
  - name: Courses   # the first box
    resources:
      - title: Moved course
        url: "https://old.example.org/courses/cataloging"   # moved in 2026
        provider: ex
        description: A course.
      - title: Moved again
        url: 'https://old.example.org/webinars/list'
        description: Webinars.
      - title: Plain moved
        url: https://old.example.org/plain/page
        description: Plain scalar.
      - title: Sent home
        url: https://old.example.org/deep/gone/page
        description: Redirects to the home page.
      - title: No address
        url: null
        description: none yet
  - name: Sinks
    resources:
      - {title: Sink one, url: "https://sink.example.org/a/1", description: a}
      - {title: Sink two, url: "https://sink.example.org/a/2", description: b}
      - {title: Sink three, url: "https://sink.example.org/a/3", description: c}
"""

REDIRECTS = {
    "https://old.example.org/courses/cataloging": "https://new.example.org/learn/cataloging",
    "https://old.example.org/webinars/list": "https://new.example.org/events/webinars?type=all",
    "https://old.example.org/plain/page": "https://new.example.org/plain/page/",
    "https://old.example.org/deep/gone/page": "https://old.example.org/",
    "https://sink.example.org/a/1": "https://sink.example.org/catalog/search",
    "https://sink.example.org/a/2": "https://sink.example.org/catalog/search",
    "https://sink.example.org/a/3": "https://sink.example.org/catalog/search",
}


def set_redirects(engine: Engine, redirects: dict[str, str]) -> None:
    """Put links in state `redirected` with one check each, as a links run would leave them."""
    with transaction(engine) as session:
        run = CrawlRun(kind="links", outcome="ok", stats={}, finished_at=utcnow())
        session.add(run)
        session.flush()
        for url, target in redirects.items():
            link = session.scalars(select(Link).where(Link.url == url)).one()
            link.state, link.state_since, link.redirect_target = "redirected", utcnow(), target
            link.last_verdict, link.last_http_status = "redirected", 200
            session.add(LinkCheck(link_id=link.id, run_id=run.id, verdict="redirected",
                                  http_status=200, final_url=target))


@pytest.fixture
def catalog(tmp_path: Path, cli: Any, db_url: str) -> Path:
    path = tmp_path / "guide.yaml"
    path.write_text(CATALOG, encoding="utf-8")
    (tmp_path / "shelfcheck.toml").write_text(
        f'database_url = "{db_url}"\ncatalog_file = "{path}"\n')
    result = cli("catalog", "sync")
    assert result.exit_code == 0, result.output
    return path


def test_dry_run_shows_the_diff_and_changes_nothing(catalog: Path, cli: Any,
                                                    engine: Engine) -> None:
    set_redirects(engine, REDIRECTS)
    result = cli("catalog", "fix", "--dry-run")
    assert result.exit_code == 0, result.output
    assert catalog.read_text(encoding="utf-8") == CATALOG
    out = result.output
    assert '-        url: "https://old.example.org/courses/cataloging"   # moved in 2026' in out
    assert '+        url: "https://new.example.org/learn/cataloging"   # moved in 2026' in out
    assert "+        url: 'https://new.example.org/events/webinars?type=all'" in out
    assert "+        url: https://new.example.org/plain/page/" in out
    assert "guide.yaml:23: not applied: https://old.example.org/deep/gone/page" in out
    assert "the target is a home page" in out
    assert out.count("3 different links redirect to this target") == 3
    assert "dry run: 3 URLs would be replaced" in out


def test_fix_rewrites_only_the_urls_and_sync_keeps_history(catalog: Path, cli: Any,
                                                          engine: Engine) -> None:
    set_redirects(engine, REDIRECTS)
    with transaction(engine) as session:
        before = {url: session.scalar(select(Link.id).where(Link.url == url))
                  for url in REDIRECTS}
    result = cli("catalog", "fix")
    assert result.exit_code == 0, result.output
    assert "replaced 3 URLs in" in result.output
    expected = (CATALOG
                .replace("https://old.example.org/courses/cataloging",
                         "https://new.example.org/learn/cataloging")
                .replace("https://old.example.org/webinars/list",
                         "https://new.example.org/events/webinars?type=all")
                .replace("https://old.example.org/plain/page",
                         "https://new.example.org/plain/page/"))
    assert catalog.read_text(encoding="utf-8") == expected

    with transaction(engine) as session:
        events_before = session.scalar(select(func.count()).select_from(ChangeEvent))
    result = cli("catalog", "sync")
    assert result.exit_code == 0, result.output
    assert "0 added, 3 updated, 0 retired, 0 restored" in result.output
    with transaction(engine) as session:
        moved = session.get_one(Link, before["https://old.example.org/courses/cataloging"])
        assert moved.url == "https://new.example.org/learn/cataloging"
        assert moved.state == "ok" and moved.redirect_target is None
        assert "moved here from https://old.example.org/courses/cataloging" in (
            moved.last_detail or "")
        assert [c.verdict for c in moved.checks] == ["redirected"]  # the history moved along
        resource = session.scalars(select(Resource).where(Resource.title == "Moved course")).one()
        assert resource.link_id == moved.id
        # the ones not applied are untouched
        home = session.get_one(Link, before["https://old.example.org/deep/gone/page"])
        assert home.state == "redirected" and home.url == "https://old.example.org/deep/gone/page"
        assert session.scalar(select(func.count()).select_from(ChangeEvent)) == events_before
    again = cli("catalog", "fix")
    assert "nothing to fix" in again.output
    assert catalog.read_text(encoding="utf-8") == expected


def test_old_url_still_listed_elsewhere_keeps_its_row(tmp_path: Path, cli: Any,
                                                     db_url: str, engine: Engine) -> None:
    text = ("schema: shelfcheck.catalogfile/1\nsections:\n"
            "  - name: S\n    resources:\n"
            "      - {title: One, url: 'https://a.example.org/x/y', description: ''}\n"
            "  - name: T\n    resources:\n"
            "      - {title: Two, url: 'https://a.example.org/x/y', description: ''}\n")
    path = tmp_path / "c.yaml"
    path.write_text(text)
    (tmp_path / "shelfcheck.toml").write_text(f'database_url = "{db_url}"\n')
    assert cli("catalog", "sync", str(path)).exit_code == 0
    set_redirects(engine, {"https://a.example.org/x/y": "https://a.example.org/z/y"})
    # the maintainer fixes only one of the two by hand
    path.write_text(text.replace("title: Two, url: 'https://a.example.org/x/y'",
                                 "title: Two, url: 'https://a.example.org/z/y'"))
    result = cli("catalog", "sync", str(path))
    assert "0 added, 1 updated, 0 retired" in result.output
    with transaction(engine) as session:
        urls = dict(session.execute(select(Link.url, Link.state)).all())
    assert urls == {"https://a.example.org/x/y": "redirected",
                    "https://a.example.org/z/y": "unknown"}


def test_packaged_guide_is_not_rewritten(cli: Any, tmp_path: Path, db_url: str) -> None:
    (tmp_path / "shelfcheck.toml").write_text(f'database_url = "{db_url}"\n')
    result = cli("catalog", "fix")
    assert result.exit_code == 2
    assert "give FILE or set catalog_file" in result.output


@pytest.mark.parametrize(("old", "target", "shared", "why"), [
    ("https://a.org/x/y", "https://a.org/", 1, "home page"),
    ("https://a.org/x/y", "https://a.org", 1, "home page"),
    ("https://a.org/x/y", "https://a.org/en/", 1, "landing page"),
    ("https://a.org/x/y", "https://a.org/index.php", 1, "landing page"),
    ("https://a.org/x/y", "https://a.org/user/login?next=/x/y", 1, "login page"),
    ("https://a.org/x/y", "https://sso.a.org/cas/login", 1, "login page"),
    ("https://a.org/x/y", "https://a.org/search", 3, "catch-all"),
    ("https://a.org/x/y", "https://a.org/x/z", 1, None),
    ("https://a.org/x/y", "https://b.org/", 1, "home page"),
    ("https://a.org/events", "https://a.org/events/", 1, None),
    ("https://a.org/x/y", "https://a.org/?page_id=12", 1, None),
    ("https://a.org/x/y", "https://a.org/authors/smith", 1, None),
])
def test_unsafe_targets(old: str, target: str, shared: int, why: str | None) -> None:
    reason = unsafe_target(old, target, shared)
    assert (reason is None) if why is None else (why in (reason or ""))


def test_apply_refuses_a_file_that_would_read_differently() -> None:
    text = "sections:\n  - name: S\n    resources:\n      - title: T\n        url: >-\n          https://a.org/x\n"
    known = {"https://a.org/x": Redirect("https://a.org/x", "https://a.org/y/z")}
    plan = plan_fixes(text, "f.yaml", known)
    assert len(plan) == 1
    from shelfcheck.errors import CatalogFileError
    with pytest.raises(CatalogFileError, match=r"f\.yaml"):
        apply_fixes(text, "f.yaml", plan)


def test_flow_style_several_on_a_line_and_non_ascii() -> None:
    text = ("sections:\n  - name: Süd\n    resources: [{title: Café, url: 'https://a.org/x/1'},"
            " {title: Thé, url: https://a.org/x/2}]  # both\n")
    known = {"https://a.org/x/1": Redirect("https://a.org/x/1", "https://a.org/y/1?a=1,b"),
             "https://a.org/x/2": Redirect("https://a.org/x/2", "https://a.org/y/2,c")}
    plan = plan_fixes(text, "f.yaml", known)
    assert [(r.title, r.skipped) for r in plan] == [("Café", None), ("Thé", None)]
    fixed = apply_fixes(text, "f.yaml", plan)
    assert fixed == text.replace("'https://a.org/x/1'", "'https://a.org/y/1?a=1,b'").replace(
        "https://a.org/x/2}", '"https://a.org/y/2,c"}')  # a comma in flow style needs quotes


def test_the_loop_end_to_end_with_a_real_check(tmp_path: Path, db_url: str,
                                               engine: Engine) -> None:
    """A real 301 found by `check-links`, fixed, synced, checked again: ok, one history."""
    with MockServer(tmp_path / "world") as world:
        old, target = world.url("main", "/moved"), world.url("main", "/ok")
        path = tmp_path / "guide.yaml"
        path.write_text("schema: shelfcheck.catalogfile/1\nsections:\n  - name: S\n"
                        "    resources:\n      # keep me\n"
                        f"      - title: Moved\n        url: '{old}'\n        description: x\n")
        env = {"SHELFCHECK_DATABASE_URL": db_url, "SHELFCHECK_CATALOG_FILE": str(path),
               "SHELFCHECK_ALLOW_PRIVATE_ADDRESSES": "true",
               "SHELFCHECK_DOWNLOAD_TIMEOUT": "2"}
        assert run_shelfcheck("catalog", "sync", cwd=tmp_path, env=env).returncode == 0
        first = run_shelfcheck("check-links", cwd=tmp_path, env=env)
        assert first.returncode == 0, first.stderr
        fixed = run_shelfcheck("catalog", "fix", cwd=tmp_path, env=env)
        assert fixed.returncode == 0, fixed.stderr
        assert f"+        url: '{target}'" in fixed.stdout
        assert path.read_text().count("# keep me") == 1
        synced = run_shelfcheck("catalog", "sync", cwd=tmp_path, env=env)
        assert "0 added, 1 updated, 0 retired" in synced.stdout
        second = run_shelfcheck("check-links", cwd=tmp_path, env=env)
        assert second.returncode == 0, second.stderr
    with transaction(engine) as session:
        links = session.scalars(select(Link)).all()
        assert [(link.url, link.state) for link in links] == [(target, "ok")]
        assert [c.verdict for c in sorted(links[0].checks, key=lambda c: c.id)] == [
            "redirected", "ok"]
        kinds = list(session.scalars(select(ChangeEvent.kind)))
        assert "resource_added" not in kinds and "resource_removed" not in kinds
