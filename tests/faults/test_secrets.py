"""No secret in logs, output, reports or exports: the SMTP password and the database password.

Every command runs with ``--log-level DEBUG --log-file``, against a catalog on PostgreSQL whose
URL carries a password (PostgreSQL here trusts local connections, so any password works), and
with an SMTP server that takes the login once and refuses it once. Then stdout, stderr, the log
file, every report and export file and the database's own text are searched for each secret,
also base64-encoded (SMTP AUTH) and percent-encoded (URLs).
"""

from __future__ import annotations

import base64
import socket
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.faults.world import (
    FAST,
    HostileServer,
    clean_env,
    measure,
    provider_recipe,
    query,
    shelfcheck_cmd,
    write_catalog,
)

SMTP_PASSWORD = "Smtp-Secret-7x"
DB_PASSWORD = "Db-Secret-9q"
URL_PASSWORD = "Url-Secret-3k"  # in a catalog URL's userinfo


def encodings(secret: str, user: str) -> set[str]:
    """The forms a secret could leak in."""
    forms = {secret, urllib.parse.quote(secret, safe=""),
             base64.b64encode(secret.encode()).decode(),
             base64.b64encode(f"\0{user}\0{secret}".encode()).decode()}
    return forms


class Inbox:
    def __init__(self) -> None:
        self.messages = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        return "250 OK"


class Authenticator:
    def __init__(self, accept: bool) -> None:
        self.accept = accept

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str,
                 auth_data: Any) -> AuthResult:
        ok = (self.accept and isinstance(auth_data, LoginPassword)
              and auth_data.password.decode() == SMTP_PASSWORD)
        return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int, int]]:
    """An SMTP server that takes the password, and one that refuses every login."""
    inbox = Inbox()
    ports, controllers = [], []
    for accept in (True, False):
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port,
                                authenticator=Authenticator(accept), auth_required=True,
                                auth_require_tls=False)
        controller.start()
        controllers.append(controller)
        ports.append(port)
    yield inbox, ports[0], ports[1]
    for controller in controllers:
        controller.stop()


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_no_secret_in_logs_reports_or_exports(db_url: str, tmp_path: Path,
                                              smtp: tuple[Inbox, int, int]) -> None:
    inbox, good_port, refusing_port = smtp
    url = db_url.replace("postgres@", f"postgres:{DB_PASSWORD}@", 1)
    assert DB_PASSWORD in url
    with HostileServer(tmp_path / "world") as server:
        catalog = write_catalog(
            tmp_path / "catalog.yaml",
            [("a page", server.url("healthy", "/ok")), ("a broken one", server.url("reset", "/x")),
             ("with credentials", server.url("healthy", "/page/1").replace(
                 "://", f"://guide:{URL_PASSWORD}@", 1))],
            {"p-healthy": provider_recipe(server.url("healthy", "/listing"))})
        (tmp_path / "shelfcheck.toml").write_text(
            f'database_url = "{url}"\ncatalog_file = "{catalog}"\n'
            f'reports_dir = "{tmp_path / "out-reports"}"\nexports = ["json", "atom", "html"]\n'
            f'exports_dir = "{tmp_path / "out-exports"}"\n'
            "[email]\nenabled = true\nsmtp_host = '127.0.0.1'\n"
            f"smtp_port = {good_port}\nusername = 'reports'\npassword = '{SMTP_PASSWORD}'\n"
            "from = 'shelfcheck@example.org'\nto = ['maintainers@example.org']\n",
            encoding="utf-8")
        env = clean_env(**FAST)
        log = tmp_path / "debug.log"
        base = ["--log-level", "DEBUG", "--log-file", str(log)]
        refusing = {**env, "SHELFCHECK_EMAIL_SMTP_PORT": str(refusing_port)}
        commands: list[tuple[list[str], dict[str, str], set[int]]] = [
            (["catalog", "sync"], env, {0}),
            # sync, links, listings, the report (e-mailed) and the exports, with their children
            (["refresh", "--report"], env, {0}),
            (["report", "--days", "2"], refusing, {1}),
            (["check-links", "--url", server.url("healthy", "/ok")], env, {0}),
            (["export", "--format", "json", "--out", str(tmp_path / "catalog.json")], env, {0}),
            (["config", "show"], env, {0}),
            (["links"], env, {0}),
            (["catalog", "list"], env, {0}),
            (["schedule", "--list"], env, {0}),
            (["--database-url", url.replace(":5432/", ":1/"), "catalog", "list"], env, {4}),
        ]
        outputs: list[tuple[str, str]] = []
        for args, command_env, codes in commands:
            done = subprocess.run(shelfcheck_cmd(*base, *args), cwd=tmp_path, env=command_env,
                                  capture_output=True, text=True, timeout=120, check=False)
            assert done.returncode in codes, f"{args}: {done.returncode} {done.stderr[-1500:]}"
            outputs.append((f"{' '.join(args)} (output)", done.stdout + done.stderr))
    assert inbox.messages >= 1, "no report was e-mailed: the login was not exercised"
    assert "login as 'reports' refused" in outputs[2][1], outputs[2][1]
    assert log.stat().st_size > 10_000, "the DEBUG log is nearly empty: nothing was tested"
    outputs.append(("the DEBUG log", log.read_text(encoding="utf-8", errors="replace")))
    for folder in (tmp_path / "out-reports", tmp_path / "out-exports"):
        files = [p for p in folder.iterdir() if p.is_file()]
        assert files, f"{folder} is empty: nothing was tested"
        outputs += [(str(p), p.read_text(encoding="utf-8", errors="replace")) for p in files]
    outputs.append(("catalog.json", (tmp_path / "catalog.json").read_text(encoding="utf-8")))
    database_text = " ".join(str(row) for table in ("crawl_run", "change_event", "link_check",
                                                    "meta", "report_record", "link",
                                                    "resource")
                             for row in query(db_url, f"SELECT * FROM {table}"))
    outputs.append(("the database", database_text))
    secrets = (encodings(SMTP_PASSWORD, "reports") | encodings(DB_PASSWORD, "postgres")
               | encodings(URL_PASSWORD, "guide"))
    # The link with userinfo was checked without credentials in the host name.
    (verdict,) = query(db_url, "SELECT c.verdict FROM link_check c JOIN link l ON l.id = c.link_id "
                               "WHERE l.url LIKE '%guide@%' ORDER BY c.id DESC LIMIT 1")[0]
    assert verdict == "ok", verdict
    leaks = [(where, secret) for where, content in outputs for secret in secrets
             if secret in content]
    assert not leaks, f"secrets leaked: {leaks}"
    measure("secrets", commands=len(commands), places_searched=len(outputs),
            log_bytes=log.stat().st_size, leaks=len(leaks))
