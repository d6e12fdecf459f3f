"""`--format json` of every listing command: exactly the keys docs/cli.md documents.

The shapes are read from the tables of docs/cli.md (`<!-- shape: NAME -->`), so the page and
the commands cannot drift apart. The crawling commands run in child processes against the
loopback worlds; the others in-process on a described database (tests/golden/report/week.yaml).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine

from tests.conftest import ROOT, run_shelfcheck
from tests.mockserver import MockServer
from tests.report_state import load_state, read_state
from tests.sites import host_map

GOLDEN = ROOT / "tests" / "golden" / "report"


def shapes() -> dict[str, list[str]]:
    """{shape name: its keys in order} from docs/cli.md."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    found: dict[str, list[str]] = {}
    for match in re.finditer(r"<!-- shape: ([\w-]+) -->\n((?:\|.*\n)+)", text):
        rows = match.group(2).splitlines()[2:]
        found[match.group(1)] = [re.match(r"\| `(\w+)`", row).group(1)  # type: ignore[union-attr]
                                 for row in rows]
    return found


SHAPES = shapes()


def keys_of(name: str, item: dict[str, Any]) -> None:
    assert list(item) == SHAPES[name], f"{name}: {list(item)} != docs/cli.md {SHAPES[name]}"


def test_docs_declare_every_shape() -> None:
    assert set(SHAPES) == {"links", "check-links", "catalog-list", "crawl", "crawl-event",
                           "offerings", "runs", "recipes-test", "recipes-item", "config-show"}


@pytest.fixture
def week(cli: Any, tmp_path: Path, db_url: str, engine: Engine) -> Any:
    load_state(engine, read_state(GOLDEN / "week.yaml"))
    (tmp_path / "shelfcheck.toml").write_text(f'database_url = "{db_url}"\n')
    return cli


def load(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_links_json(week: Any) -> None:
    links = load(week("links", "--format", "json"))
    assert links, "no links: nothing was tested"
    for link in links:
        keys_of("links", link)
        assert link["dismissed"] is None or set(link["dismissed"]) == {"reason", "at", "until"}
        for resource in link["resources"]:
            assert set(resource) == {"title", "section", "provider"}
    states = {link["state"] for link in links}
    assert {"broken", "redirected"} <= states
    redirected = next(link for link in links if link["state"] == "redirected")
    assert redirected["redirect_target"] and redirected["suggestion"] == redirected[
        "redirect_target"]
    broken = load(week("links", "--state", "broken", "--format", "json"))
    assert broken and all(link["state"] == "broken" for link in broken)


def test_catalog_list_json(week: Any) -> None:
    rows = load(week("catalog", "list", "--format", "json"))
    assert rows
    for row in rows:
        keys_of("catalog-list", row)
    assert any(row["link_state"] == "no_url" and row["url"] is None for row in rows)


def test_offerings_json(week: Any) -> None:
    rows = load(week("offerings", "--format", "json"))
    assert rows
    for row in rows:
        keys_of("offerings", row)
        for fee in row["fees"]:
            assert isinstance(fee["amount"], str)


def test_runs_json_and_table(week: Any) -> None:
    runs = load(week("runs", "--format", "json"))
    assert runs and [r["id"] for r in runs] == sorted((r["id"] for r in runs), reverse=True)
    for run in runs:
        keys_of("runs", run)
        assert all(isinstance(v, int | dict) for v in run["counts"].values())
    inconclusive = [r for r in runs if r["outcome"] in ("failed", "inconclusive")]
    assert inconclusive and all(r["detail"] for r in inconclusive)
    limited = load(week("runs", "--limit", "1", "--format", "json"))
    assert [r["id"] for r in limited] == [runs[0]["id"]]
    table = week("runs")
    assert table.exit_code == 0
    for run in inconclusive:
        assert run["detail"] in table.output  # the detail of a failed or inconclusive run
    assert f"{len(runs)} runs (newest first)" in table.output


def test_config_show_json(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "shelfcheck.toml").write_text(
        'database_url = "postgresql://u:hunter2@db.example/x"\nexports = ["json"]\n'
        '[email]\npassword = "s3cret"\n')
    result = cli("config", "show", "--format", "json")
    rows = load(result)
    for row in rows:
        keys_of("config-show", row)
    values = {row["key"]: row["value"] for row in rows}
    assert values["exports"] == ["json"] and values["obey_robots"] is True
    assert values["catalog_file"] is None and values["download_timeout"] == 20.0
    assert values["email_password"] == "***"
    assert "hunter2" not in result.output and "s3cret" not in result.output


def test_check_links_json(tmp_path: Path, db_url: str) -> None:
    with MockServer(tmp_path / "world") as world:
        catalog = {"schema": "shelfcheck.catalogfile/1", "sections": [{"name": "S", "resources": [
            {"title": "Fine", "url": world.url("main", "/ok"), "description": ""},
            {"title": "Moved", "url": world.url("main", "/moved"), "description": ""},
            {"title": "Missing", "url": world.url("main", "/not-found"), "description": ""},
        ]}]}
        path = tmp_path / "c.yaml"
        path.write_text(yaml.safe_dump(catalog))
        env = {"SHELFCHECK_DATABASE_URL": db_url, "SHELFCHECK_CATALOG_FILE": str(path),
               "SHELFCHECK_ALLOW_PRIVATE_ADDRESSES": "true", "SHELFCHECK_DOWNLOAD_TIMEOUT": "2"}
        assert run_shelfcheck("catalog", "sync", cwd=tmp_path, env=env).returncode == 0
        done = run_shelfcheck("check-links", "--format", "json", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)  # progress lines went to standard error
    keys_of("check-links", doc)
    assert doc["outcome"] == "ok" and doc["stats"]["checked"] == 3
    by_url = {item["url"]: item for item in doc["not_ok"]}
    assert set(by_url) == {world.url("main", "/moved"), world.url("main", "/not-found")}
    for item in doc["not_ok"]:
        keys_of("links", {k: v for k, v in item.items() if k != "check"})
        assert set(item["check"]) == {"verdict", "http_status", "detail", "final_url"}
    assert by_url[world.url("main", "/moved")]["check"]["verdict"] == "redirected"
    assert "checked 3/3 links" in done.stderr


@pytest.fixture(scope="module")
def sites() -> Iterator[str]:
    from tests.crawler.test_listings_crawl import SitesProcess

    with SitesProcess("--port", "0", quiet=True) as server:
        yield server.base


def test_crawl_and_recipes_test_json(sites: str, tmp_path: Path) -> None:
    env = {"SHELFCHECK_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
           "SHELFCHECK_HOST_MAP": ",".join(host_map(sites, "A")),
           "SHELFCHECK_ALLOW_PRIVATE_ADDRESSES": "true"}
    assert run_shelfcheck("catalog", "sync", cwd=tmp_path, env=env).returncode == 0
    first = run_shelfcheck("crawl", "infopeople", cwd=tmp_path, env=env)  # the baseline
    assert first.returncode == 0, first.stderr
    week_b = {**env, "SHELFCHECK_HOST_MAP": ",".join(host_map(sites, "B"))}
    crawled = run_shelfcheck("crawl", "infopeople", "--format", "json", cwd=tmp_path,
                             env=week_b)
    assert crawled.returncode == 0, crawled.stderr
    doc = json.loads(crawled.stdout)
    keys_of("crawl", doc)
    assert doc["outcome"] == "ok" and doc["changes"], "week B changes infopeople's listing"
    for event in doc["changes"] + doc["warnings"]:
        keys_of("crawl-event", event)
    assert {"offering_added", "fee_changed"} <= {e["kind"] for e in doc["changes"]}
    fee = next(e for e in doc["changes"] if e["kind"] == "fee_changed")
    assert fee["old"] and fee["new"] and "→" in fee["line"]
    assert "infopeople" in crawled.stderr  # the per-provider line

    tested = run_shelfcheck("recipes", "test", "infopeople", "--items", "2", "--format", "json",
                            cwd=tmp_path, env=env)
    assert tested.returncode == 0, tested.stderr
    doc = json.loads(tested.stdout)
    keys_of("recipes-test", doc)
    assert len(doc["items"]) == 2
    for item in doc["items"]:
        keys_of("recipes-item", item)
        fields = {f["field"]: f for f in item["fields"]}
        assert fields["title"]["value"] and fields["title"]["source"]
