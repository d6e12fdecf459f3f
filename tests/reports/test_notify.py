"""Notifications through Apprise, against a real webhook receiver on loopback (`json://`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from shelfcheck.catalog.db import open_database, transaction
from shelfcheck.catalog.events import record_event
from shelfcheck.catalog.models import CrawlRun, Link
from shelfcheck.config import load_settings
from shelfcheck.errors import ConfigError
from shelfcheck.reports.notify import notify_new_problems
from shelfcheck.reports.write import write_report
from tests.report_state import at, load_state, read_state

GOLDEN = Path(__file__).parents[1] / "golden" / "report"
WEEK = read_state(GOLDEN / "week.yaml")
NOW = at(WEEK["now"])


class Receiver(ThreadingHTTPServer):
    """A webhook that keeps each JSON body it is sent, answering `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        super().__init__(("127.0.0.1", 0), _Hook)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Hook(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.server.paths.append(self.path)
        self.server.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Any]:
    servers: list[Receiver] = []

    def start(status: int = 200) -> Receiver:
        server = Receiver(status)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_each_report_sends_its_headline_counts_and_path(engine: Engine, tmp_path: Path,
                                                        receiver: Any) -> None:
    load_state(engine, WEEK)
    hook = receiver()
    settings = load_settings(environ={}, cwd=tmp_path, overrides={
        "notify_urls": [f"json://127.0.0.1:{hook.port}/hook"]})
    outcome = write_report(engine, settings, now=NOW, out_dir=tmp_path / "out")
    assert outcome.notify_error is None and outcome.delivery_error is None
    (body,) = hook.bodies
    assert hook.paths == ["/hook"]
    assert body["title"] == "shelfcheck report 2026-12-28 to 2027-01-04"
    summary = json.loads((tmp_path / "out" / "latest.json").read_text())["summary"]
    assert f"{summary['broken']} broken links" in body["message"]
    assert f"{summary['warnings']} warnings" in body["message"]
    assert f"{summary['open']} problems still open" in body["message"]
    assert f"Report: {(tmp_path / 'out' / 'latest.html').resolve()}" in body["message"]


def test_a_failed_notification_is_exit_1_and_the_files_are_written(
        cli: Any, tmp_path: Path, receiver: Any, caplog: pytest.LogCaptureFixture) -> None:
    db_url = f"sqlite:///{tmp_path}/c.db"
    engine = open_database(db_url)
    load_state(engine, WEEK)
    engine.dispose()
    hook = receiver(status=500)
    secret_url = f"json://bot:hunter2-secret@127.0.0.1:{hook.port}/hook"
    (tmp_path / "shelfcheck.toml").write_text(f'notify_urls = ["{secret_url}"]\n')
    result = cli("--database-url", db_url, "report", "--until", "2027-01-04T07:00:00+00:00",
                 "--out", "out")
    assert result.exit_code == 1
    assert len(hook.bodies) == 1  # it was tried
    assert "the report was written but notification failed" in result.output
    assert "hunter2-secret" not in result.output and "hunter2-secret" not in caplog.text
    assert f"json://bot:****@127.0.0.1:{hook.port}/hook" in result.output
    assert (tmp_path / "out" / "latest.html").is_file()
    shown = cli("--database-url", db_url, "config", "show")
    assert shown.exit_code == 0
    assert "hunter2-secret" not in shown.output
    assert f"json://bot:****@127.0.0.1:{hook.port}/hook" in shown.output


def test_a_new_broken_link_notifies_when_notify_on_asks(engine: Engine, tmp_path: Path,
                                                        receiver: Any) -> None:
    load_state(engine, WEEK)
    hook = receiver()
    urls = [f"json://127.0.0.1:{hook.port}/problems"]
    with transaction(engine) as session:
        run = CrawlRun(kind="links", outcome="ok")
        session.add(run)
        link = session.query(Link).filter(Link.url.like("https://www.ala.org/%")).first()
        assert link is not None
        record_event(session, "link_broken", run=run, link=link)
        session.flush()
        run_id = run.id
    quiet = load_settings(environ={}, cwd=tmp_path, overrides={"notify_urls": urls})
    with transaction(engine) as session:
        assert notify_new_problems(quiet, session, run_id) is None  # notify_on = report only
    assert hook.bodies == []
    asked = quiet.replace(notify_on=["report", "link_broken"])
    with transaction(engine) as session:
        assert notify_new_problems(asked, session, run_id) is None
    (body,) = hook.bodies
    assert body["title"] == "shelfcheck: 1 new problem"
    assert "broken link: https://www.ala.org/" in body["message"]


def test_notify_on_takes_only_its_values(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'sometimes' is not one of report, link_broken"):
        load_settings(environ={"SHELFCHECK_NOTIFY_ON": "report,sometimes"}, cwd=tmp_path)
