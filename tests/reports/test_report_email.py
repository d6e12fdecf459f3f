"""E-mail delivery of the report against real aiosmtpd servers on loopback started here."""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import Engine, select

from shelfcheck.catalog.db import open_database, transaction
from shelfcheck.catalog.models import ReportRecord
from shelfcheck.config import load_settings
from shelfcheck.reports.write import write_report
from tests.report_state import at, load_state, read_state

GOLDEN = Path(__file__).parents[1] / "golden" / "report"
WEEK = read_state(GOLDEN / "week.yaml")
NOW = at(WEEK["now"])
PASSWORD = "s3cret-Pa55word"


class Inbox:
    """An aiosmtpd handler that keeps what it receives, or refuses it with `refuse`."""

    def __init__(self, refuse: str | None = None) -> None:
        self.refuse = refuse
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return self.refuse
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.content, policy=policy.default)  # type: ignore[misc]
                for e in self.envelopes]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., tuple[Inbox, int]]]:
    """Start aiosmtpd servers on 127.0.0.1: ``start(inbox, **smtp_options) -> (inbox, port)``."""
    controllers: list[Controller] = []

    def start(inbox: Inbox, **options: Any) -> tuple[Inbox, int]:
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        return inbox, port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def week_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(f"sqlite:///{tmp_path}/catalog.db")
    load_state(engine, WEEK)
    yield engine
    engine.dispose()


def mail_settings(tmp_path: Path, port: int, **overrides: Any) -> Any:
    values = {"email_smtp_host": "127.0.0.1", "email_smtp_port": port,
              "email_to": ["staff@example.org", "lead@example.org"],
              "email_from": "shelfcheck@library.example.org", "email_timeout": 10}
    values.update(overrides)
    return load_settings(environ={}, cwd=tmp_path, overrides=values)


def record(engine: Engine, record_id: int) -> ReportRecord:
    with transaction(engine) as session:
        return session.scalars(select(ReportRecord).where(ReportRecord.id == record_id)).one()


def test_round_trip_multipart_text_and_html(smtp_server: Any, week_engine: Engine,
                                            tmp_path: Path) -> None:
    inbox, port = smtp_server(Inbox())
    out = tmp_path / "out"
    outcome = write_report(week_engine, mail_settings(tmp_path, port), now=NOW, out_dir=out,
                           formats=["json"], email=True)
    assert outcome.email_error is None and outcome.emailed
    assert record(week_engine, outcome.record_id).emailed
    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "shelfcheck@library.example.org"
    assert envelope.rcpt_tos == ["staff@example.org", "lead@example.org"]
    (message,) = inbox.messages()
    assert message["Subject"] == "shelfcheck report 2026-12-28 to 2027-01-04: 5 actions"
    assert message["To"] == "staff@example.org, lead@example.org"
    assert message.get_content_type() == "multipart/alternative"
    text, html = list(message.iter_parts())
    assert text.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    # SMTP carries CRLF line ends
    assert text.get_content().replace("\r\n", "\n") == (GOLDEN / "week.md").read_text()
    assert html.get_content().replace("\r\n", "\n") == (GOLDEN / "week.html").read_text()
    # the e-mail needs md and html, but only the chosen formats are written
    assert sorted(p.name for p in out.iterdir()) == ["latest.json",
                                                     "shelfcheck-report-2027-01-04.json"]


def test_email_enabled_in_the_configuration_sends(smtp_server: Any, week_engine: Engine,
                                                  tmp_path: Path) -> None:
    inbox, port = smtp_server(Inbox())
    conf = mail_settings(tmp_path, port, email_enabled=True)
    outcome = write_report(week_engine, conf, now=NOW, out_dir=tmp_path, formats=["md"])
    assert outcome.emailed and len(inbox.envelopes) == 1
    quiet = write_report(week_engine, conf, now=NOW, since=at("2027-01-01T00:00:00+00:00"),
                         out_dir=tmp_path, formats=["md"], email=False)
    assert not quiet.emailed and len(inbox.envelopes) == 1


def test_starttls_and_login(smtp_server: Any, week_engine: Engine, tmp_path: Path,
                            caplog: pytest.LogCaptureFixture) -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    logins: list[tuple[bytes, bytes]] = []

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                     data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        ok = data.login == b"reports" and data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)

    inbox, port = smtp_server(Inbox(), tls_context=server_context, require_starttls=True,
                              auth_required=True, authenticator=authenticate)
    caplog.set_level(logging.DEBUG)
    conf = mail_settings(tmp_path, port, email_starttls=True, email_username="reports",
                         email_password=PASSWORD, email_ca_file=str(ca_file))
    outcome = write_report(week_engine, conf, now=NOW, out_dir=tmp_path / "a", email=True)
    assert outcome.email_error is None, outcome.email_error
    assert len(inbox.envelopes) == 1 and logins == [(b"reports", PASSWORD.encode())]

    wrong = conf.replace(email_password="not-the-password")
    failed = write_report(week_engine, wrong, now=NOW, since=at("2027-01-01T00:00:00+00:00"),
                          out_dir=tmp_path / "b", email=True)
    assert failed.email_error is not None
    assert "login as 'reports' refused (535" in failed.email_error
    assert "not-the-password" not in failed.email_error
    assert (tmp_path / "b" / "latest.md").is_file()
    assert PASSWORD not in caplog.text and "not-the-password" not in caplog.text

    # without the CA the server's certificate is not trusted: a clear TLS error
    untrusted = write_report(week_engine, conf.replace(email_ca_file=None), now=NOW,
                             since=at("2027-01-01T00:00:00+00:00"), out_dir=tmp_path / "c",
                             email=True)
    assert untrusted.email_error is not None
    assert "TLS failed: CERTIFICATE_VERIFY_FAILED" in untrusted.email_error


def test_refused_message_is_reported_and_files_are_still_written(
        smtp_server: Any, week_engine: Engine, tmp_path: Path) -> None:
    _inbox, port = smtp_server(Inbox(refuse="554 5.7.1 Message rejected by policy"))
    out = tmp_path / "out"
    outcome = write_report(week_engine, mail_settings(tmp_path, port), now=NOW, out_dir=out,
                           email=True)
    assert outcome.email_error == (
        f"cannot send the report via 127.0.0.1:{port}: the server answered 554 5.7.1 "
        "Message rejected by policy")
    assert not outcome.emailed and not record(week_engine, outcome.record_id).emailed
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"shelfcheck-report-2027-01-04.{e}" for e in ("md", "html", "json", "csv")]
        + [f"latest.{e}" for e in ("md", "html", "json", "csv")])


def test_unreachable_server_and_no_recipients(week_engine: Engine, tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    outcome = write_report(week_engine, mail_settings(tmp_path, port), now=NOW,
                           out_dir=tmp_path, formats=["md"], email=True)
    assert outcome.email_error == f"cannot send the report via 127.0.0.1:{port}: Connection refused"
    assert (tmp_path / "latest.md").is_file()
    nobody = write_report(week_engine, mail_settings(tmp_path, port, email_to=[]), now=NOW,
                          since=at("2027-01-01T00:00:00+00:00"), out_dir=tmp_path,
                          formats=["md"], email=True)
    assert nobody.email_error == "cannot send the report: no recipients (set email_to)"


def test_report_command_email_failure_exits_1_after_writing(
        smtp_server: Any, cli: Any, tmp_path: Path) -> None:
    _inbox, port = smtp_server(Inbox(refuse="451 4.3.0 Try again later"))
    (tmp_path / "shelfcheck.toml").write_text(
        f'[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nto = ["staff@example.org"]\n'
        f'username = "reports"\npassword = "{PASSWORD}"\n')
    engine = open_database(f"sqlite:///{tmp_path}/c.db")
    load_state(engine, WEEK)
    engine.dispose()
    result = cli("--database-url", f"sqlite:///{tmp_path}/c.db", "report", "--email", "--days", "7",
                 "--format", "md,html", "--out", "out")
    assert result.exit_code == 1, result.output
    assert "wrote out/latest.md" in result.output and "wrote out/latest.html" in result.output
    assert ("shelfcheck: error: the report was written but not e-mailed: cannot send the "
            f"report via 127.0.0.1:{port}:") in result.output
    assert PASSWORD not in result.output
    assert (tmp_path / "out" / "latest.html").is_file()
