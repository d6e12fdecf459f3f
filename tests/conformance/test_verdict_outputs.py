"""Every verdict issue #12 added reaches the report (md, html, json, csv), the exports and
`links`, with its message from the registry."""

from __future__ import annotations

import json
from html import unescape
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.verdicts import VERDICTS
from shelfcheck.exports import write_exports
from tests.report_state import load_state
from tests.reports.test_report import render_all

NEW = {"redirect_to_home": "broken", "parked": "broken", "content_changed": "broken",
       "client_error": "broken", "login_required": "unverifiable",
       "maintenance": "unverifiable"}
SINCE = "2027-01-02T02:00:00+00:00"  # inside render_all's week


def state() -> dict[str, Any]:
    urls = {key: f"https://site-{i}.example.org/page" for i, key in enumerate(NEW)}
    return {
        "providers": [{"slug": "p", "name": "Provider"}],
        "sections": [{"name": "Training", "resources": [
            {"title": f"Resource {key}", "url": url, "provider": "p"}
            for key, url in urls.items()]}],
        "links": [{"url": url, "state": NEW[key], "verdict": key, "since": SINCE,
                   "first_failed": SINCE, "last_checked": SINCE,
                   "detail": f"seen on {url}"} for key, url in urls.items()],
        "runs": [{"kind": "links", "started": SINCE, "finished": SINCE, "outcome": "ok",
                  "checks": list(urls.values())}],
        "events": [{"kind": "link_broken" if NEW[key] == "broken" else "link_unverifiable",
                    "link": url, "run": 1, "at": SINCE, "verdict": key,
                    "detail": f"seen on {url}"} for key, url in urls.items()],
    }


def test_new_verdicts_in_every_output(engine: Engine, tmp_path: Path, cli: Any,
                                      db_url: str) -> None:
    load_state(engine, state())
    out = render_all(engine)
    markdown = out["md"].replace("\\", "")  # Markdown escapes _ and `
    urls = {key: f"https://site-{i}.example.org/page" for i, key in enumerate(NEW)}
    doc = json.loads(out["json"])
    text = json.dumps(doc)
    for key, url in urls.items():
        message = VERDICTS[key].message
        assert message in markdown, key
        assert message in unescape(out["html"]), key
        assert message in text, key
        assert f",{key}," in out["csv"] and f"seen on {url}" in out["csv"], key  # no message
        assert f"seen on {url}" in markdown, key
    with transaction(engine) as session:
        written = write_exports(session, ["html", "json"], tmp_path / "exports")
    exported = {p.name: p.read_text(encoding="utf-8") for p in written}
    guide = unescape(next(v for k, v in exported.items() if k.endswith(".html")))
    catalog = next(v for k, v in exported.items() if k.endswith(".json"))
    for key in NEW:
        assert VERDICTS[key].message in guide, key
        assert f'"{key}"' in catalog, key
    listed = cli("--database-url", db_url, "links")
    assert listed.exit_code == 0, listed.output
    for key in NEW:
        assert f"  {key}: {VERDICTS[key].message}" in listed.output, key
