"""Send the report by SMTP: a multipart message, Markdown as the text part plus the HTML.

STARTTLS and login are optional. The password is never logged nor put in an error message.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from shelfcheck.config import Settings
from shelfcheck.errors import ExitCode, ShelfcheckError
from shelfcheck.reports.model import Report

log = logging.getLogger(__name__)


class EmailError(ShelfcheckError):
    """The report could not be sent (the files were written)."""

    exit_code = ExitCode.ERROR


def subject_for(report: Report) -> str:
    """``shelfcheck report 2026-12-28 to 2027-01-04: 3 actions``."""
    from shelfcheck.reports.templating import environment

    day = environment("md", report.timezone).filters["day"]
    actions = report.summary.actions
    return (f"shelfcheck report {day(report.period_start)} to {day(report.period_end)}: "
            f"{actions} action{'' if actions == 1 else 's'}")


def build_message(settings: Settings, subject: str, text: str, html: str) -> EmailMessage:
    """A multipart/alternative message: the plain text first, then the HTML."""
    if not settings.email_to:
        raise EmailError("cannot send the report: no recipients (set email_to)")
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.email_from
    message["To"] = ", ".join(settings.email_to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.email_from.rpartition("@")[2] or None)
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def send_message(settings: Settings, message: EmailMessage) -> None:
    """Deliver `message` over SMTP as the email_* keys say; raises EmailError on any failure."""
    host, port = settings.email_smtp_host, settings.email_smtp_port
    where = f"{host}:{port}"
    try:
        with smtplib.SMTP(host, port, timeout=settings.email_timeout) as smtp:
            smtp.ehlo()
            if settings.email_starttls:
                context = ssl.create_default_context(cafile=settings.email_ca_file)
                smtp.starttls(context=context)
                smtp.ehlo()
            if settings.email_username:
                smtp.login(settings.email_username, settings.email_password or "")
            refused = smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise EmailError(
            f"cannot send the report via {where}: login as {settings.email_username!r} "
            f"refused ({exc.smtp_code} {_text(exc.smtp_error)})"
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused_list = ", ".join(f"{rcpt} ({code} {_text(msg)})"
                                 for rcpt, (code, msg) in exc.recipients.items())
        raise EmailError(f"cannot send the report via {where}: recipients refused: "
                         f"{refused_list}") from None
    except smtplib.SMTPResponseException as exc:
        raise EmailError(f"cannot send the report via {where}: the server answered "
                         f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise EmailError(f"cannot send the report via {where}: {exc}") from None
    except ssl.SSLError as exc:
        raise EmailError(f"cannot send the report via {where}: TLS failed: "
                         f"{exc.reason or exc}") from None
    except (smtplib.SMTPException, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise EmailError(f"cannot send the report via {where}: {reason or type(exc).__name__}"
                         ) from None
    if refused:
        raise EmailError(f"the report was not delivered to: {', '.join(sorted(refused))}")
    log.info("sent the report to %s via %s", ", ".join(settings.email_to), where)


def send_report(settings: Settings, report: Report, text: str, html: str) -> None:
    """Send the rendered report; raises EmailError naming the server and the reason."""
    send_message(settings, build_message(settings, subject_for(report), text, html))


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
