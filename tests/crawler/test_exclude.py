"""Links that are never checked, end to end on SQLite and PostgreSQL: `check: false` in the catalog
file and `link_exclude` patterns. A real link check (child process) against a loopback server
whose request log shows that those URLs receive no request at all, while the others are checked;
then the listings and the report show them as not checked, and never as a problem.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from sqlalchemy import func, select

from shelfcheck.catalog.catalogfile import load_catalog
from shelfcheck.catalog.db import open_database, transaction
from shelfcheck.catalog.models import ChangeEvent, LinkCheck
from shelfcheck.catalog.sync import sync_catalog
from tests.cli.test_dismiss import Site
from tests.crawler.test_linkcheck import check_links, last_run, links_by_url
from tests.loopback import served

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "reports/schema/report.schema.json").read_text(encoding="utf-8"))
# in ./shelfcheck.toml, read by the CLI and the check's child process alike: the first pattern
# matches the URL as written only, the second the normalized URL only
CONFIG = """link_exclude = ['utm_source=guide', '/~member$']\nconfirm_after = 1\n"""


PAGES = {"/open": 200, "/gone": 404, "/members": 200, "/shared": 200, "/tracked": 200,
         "/x/~member": 200, "/x/%7Emember": 200}


@pytest.fixture
def site() -> Iterator[Site]:
    with served(Site()) as server:
        yield server


def pages(site: Site) -> set[str]:
    """The links requested: not robots.txt, nor the host's home and soft-404 probes."""
    return {path for path in site.requests if path not in ("/robots.txt", "/")
            and not path.startswith("/shelfcheck-probe-")}


def sync(db_url: str, folder: Path, sections: dict[str, list[dict[str, Any]]]) -> None:
    data = {"schema": "shelfcheck.catalogfile/1",
            "sections": [{"name": name, "resources": items} for name, items in sections.items()]}
    (folder / "shelfcheck.toml").write_text(CONFIG, encoding="utf-8")
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    engine = open_database(db_url)
    try:
        with transaction(engine) as session:
            sync_catalog(session, load_catalog(path))
    finally:
        engine.dispose()


def catalog(site: Site, *, gone_checked: bool = True) -> dict[str, list[dict[str, Any]]]:
    return {"Links": [
        {"title": "Open", "url": site.url("/open")},
        {"title": "Gone", "url": site.url("/gone"), "check": gone_checked},
        {"title": "Members only", "url": site.url("/members"), "check": False},
        {"title": "Shared, unchecked", "url": site.url("/shared"), "check": False},
        {"title": "Tracked", "url": site.url("/a/../tracked?utm_source=guide")},
        {"title": "Member page", "url": site.url("/x/%7Emember")},
    ], "More": [
        {"title": "Shared, checked", "url": site.url("/shared")},
    ]}


def report(cli: Any, db_url: str, out: str) -> dict[str, Any]:
    result = cli("--database-url", db_url, "report", "--days", "1", "--format", "json,md,csv",
                 "--out", out)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads((Path(out) / "latest.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(doc)
    return doc


def test_unchecked_links_get_no_request_and_leave_the_problems(
        cli: Any, db_url: str, tmp_path: Path, site: Site) -> None:
    site.statuses.update(PAGES)
    sync(db_url, tmp_path, catalog(site))
    done = check_links(db_url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert pages(site) == {"/open", "/gone", "/shared"}
    assert "checked 3 links" in done.stdout
    assert "3 links not checked (check: false or link_exclude)" in done.stdout
    assert "checked 3/3 links" in done.stderr  # the progress counts only the checked ones

    engine = open_database(db_url)
    run = last_run(engine)
    assert (run.stats["links"], run.stats["not_checked"]) == (3, 3)
    links = links_by_url(engine)
    states = {url.rsplit("/", 1)[-1]: link.state for url, link in links.items()}
    assert states == {"open": "ok", "gone": "broken", "members": "unknown", "shared": "ok",
                      "tracked": "unknown", "~member": "unknown"}

    listed = cli("--database-url", db_url, "links", "--wide")
    assert listed.exit_code == 0, listed.output
    for url, why in [(site.url("/members"), "not checked (check: false)"),
                     (site.url("/tracked"), "not checked (excluded by link_exclude)")]:
        (line,) = [line for line in listed.output.splitlines() if f"{url} " in line]
        assert line.startswith(why), listed.output
    shown = cli("--database-url", db_url, "links", "--state", "not_checked", "--format", "json")
    assert {(link["url"].rsplit("/", 1)[-1], link["not_checked"])
            for link in json.loads(shown.output)} == {
        ("members", "check: false"), ("tracked", "excluded by link_exclude"),
        ("~member", "excluded by link_exclude")}
    resources = cli("--database-url", db_url, "catalog", "list", "--format", "json")
    by_title = {r["title"]: r for r in json.loads(resources.output)}
    assert (by_title["Members only"]["check"], by_title["Members only"]["not_checked"]) == (
        False, "check: false")
    # used by a resource that wants it checked: checked, though the other one says no
    assert (by_title["Shared, unchecked"]["not_checked"],
            by_title["Shared, unchecked"]["link_state"]) == (None, "ok")
    assert by_title["Open"]["check"] is True and by_title["Open"]["not_checked"] is None
    table = cli("--database-url", db_url, "catalog", "list", "--wide")
    (line,) = [line for line in table.output.splitlines() if "Members only" in line]
    assert line.rstrip().endswith("not checked (check: false)")

    doc = report(cli, db_url, "r1")
    assert [link["url"] for link in doc["links"]] == [site.url("/gone")]
    assert (doc["summary"]["broken"], doc["summary"]["not_checked"]) == (1, 3)
    assert doc["summary"]["unchecked"] == 0  # the never-checked ones are not "not yet"
    assert [o["url"] for o in doc["open"]] == [site.url("/gone")]

    # the broken link becomes `check: false`: out of Action needed and Still open
    sync(db_url, tmp_path, catalog(site, gone_checked=False))
    site.requests.clear()
    with transaction(engine) as session:
        events_before = session.scalar(select(func.count(ChangeEvent.id)))
    done = check_links(db_url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert pages(site) == {"/open", "/shared"}
    gone = links_by_url(engine)[site.url("/gone")]
    assert gone.state == "broken"  # its state does not move
    with transaction(engine) as session:
        assert session.scalar(select(func.count(ChangeEvent.id))) == events_before
        assert session.scalar(select(func.count(LinkCheck.id)).where(
            LinkCheck.link_id == gone.id)) == 1
    engine.dispose()

    doc = report(cli, db_url, "r2")
    assert doc["links"] == [] and doc["open"] == []
    assert (doc["summary"]["broken"], doc["summary"]["actions"],
            doc["summary"]["not_checked"]) == (0, 0, 4)
    row = next(n for n in doc["not_checked"] if n["url"] == site.url("/gone"))
    assert (row["reason"], row["state"], row["resources"]) == ("check: false", "broken", ["Gone"])
    md = (Path("r2") / "latest.md").read_text(encoding="utf-8")
    assert "### Broken links" not in md and "## Not checked (4)" in md
    assert "Nothing needs action" in md
    csv_rows = (Path("r2") / "latest.csv").read_text(encoding="utf-8").splitlines()
    assert sum(1 for line in csv_rows if ",not_checked," in line) == 4
    assert not any(",open," in line for line in csv_rows)


def test_a_named_url_that_is_not_checked_is_refused(db_url: str, tmp_path: Path,
                                                    site: Site) -> None:
    sync(db_url, tmp_path, catalog(site))
    for path, why in [("/members", "check: false"), ("/tracked", "excluded by link_exclude")]:
        refused = check_links(db_url, tmp_path, "--url", site.url(path))
        assert refused.returncode == 2
        assert f"is not checked ({why})" in refused.stderr
    assert pages(site) == set()
