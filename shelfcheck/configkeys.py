"""The settings keys: each declared once, with its type, default and a line of documentation.

The README table and `shelfcheck config show --doc` are generated from these declarations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shelfcheck.errors import ConfigError


@dataclass(frozen=True)
class Key:
    """One configuration key."""

    name: str
    type: str  # str, int, float, bool, list, optstr
    default: Any
    doc: str
    minimum: float | None = None
    choices: tuple[str, ...] = ()
    secret: bool = False
    regex: bool = False  # a list of Python regular expressions, each checked when loaded


KEYS: tuple[Key, ...] = (
    Key("database_url", "str", "sqlite:///shelfcheck.db", "SQLAlchemy URL of the catalog database.",
        secret=True),
    Key("catalog_file", "optstr", None,
        "Catalog file that `refresh` syncs; empty means the packaged guide catalog."),
    Key("reports_dir", "str", "shelfcheck-reports", "Where `report` writes its files."),
    Key("report_formats", "list", ["md", "html", "json", "csv"], "Formats `report` writes."),
    Key("report_every", "str", "weekly",
        "How often `refresh` writes a report: daily, weekly, or a number of days."),
    Key("exports", "list", [], "Export formats `refresh` rewrites after every run."),
    Key("exports_dir", "str", "shelfcheck-exports", "Where `refresh` writes its exports."),
    Key("contact_url", "optstr", None,
        "URL or e-mail put in the User-Agent instead of the project URL."),
    Key("download_timeout", "float", 20.0, "Seconds before one request times out.", minimum=0.1),
    Key("max_in_flight_per_host", "int", 2, "Requests in flight per host at most.", minimum=1),
    Key("max_in_flight", "int", 128, "Requests in flight over all hosts at most.", minimum=1),
    Key("link_workers", "int", 0,
        "Processes a link check is sharded over, each owning whole hosts; 0: one per core. "
        "Fewer are used for a small catalog (one per 500 links and per host at most).",
        minimum=0),
    Key("recheck_every", "float", 0.0,
        "Days before a link that was ok is checked again; 0 checks every link every run. "
        "Failing, unknown and new links are checked every run.", minimum=0),
    Key("max_download_size", "int", 10 * 1024 * 1024,
        "Bytes read of one response at most (listing pages).", minimum=1024),
    Key("body_prefix_size", "int", 256 * 1024,
        "Bytes of a page a link check reads for soft-404 analysis.", minimum=1024),
    Key("max_redirects", "int", 10, "Redirects followed before `redirect_loop`.", minimum=0),
    Key("retry_times", "int", 2, "Retries of timeouts, connection errors and 5xx.", minimum=0),
    Key("retry_after_cap", "float", 60.0, "Longest Retry-After honoured, in seconds.", minimum=0),
    Key("link_deadline", "float", 0.0,
        "Seconds one link check may take over all its hops, retries and waits (then `tarpit`); "
        "0: 3 × download_timeout + retry_after_cap.", minimum=0),
    Key("max_header_size", "int", 64 * 1024,
        "Bytes of one response's header section at most (then `bad_response`).", minimum=1024),
    Key("max_header_lines", "int", 200,
        "Header lines of one response at most, folded lines counted (then `bad_response`).",
        minimum=10),
    Key("max_robots_size", "int", 500 * 1024,
        "Bytes of robots.txt read at most (RFC 9309 allows stopping at 500 KiB).",
        minimum=1024),
    Key("run_time_limit", "float", 3600.0, "Seconds one crawl may take in all.", minimum=1),
    Key("obey_robots", "bool", True, "Obey robots.txt and Crawl-delay."),
    Key("allow_private_addresses", "bool", False,
        "Allow fetching loopback, private and link-local addresses."),
    Key("confirm_after", "int", 2, "Failing checks in a row before a link is broken.", minimum=1),
    Key(
        "outage_threshold", "float", 0.8,
        "Share of hosts failing with DNS or connection errors that makes a run inconclusive.",
        minimum=0.0),
    Key("canary_url", "optstr", None, "A URL that must answer, or the run is inconclusive."),
    Key("link_exclude", "list", [],
        "Regular expressions (Python `re`, searched in a link's URL as written and normalized); "
        "a matching link is never checked and is listed as not checked. Not applied to "
        "providers' listing pages. In the environment, separated by commas.", regex=True),
    Key("retry_backoff", "float", 1.0,
        "Seconds before the first retry of a link check; doubled for each further retry.",
        minimum=0),
    Key("max_crawl_delay", "float", 30.0,
        "Longest robots.txt Crawl-delay honoured, in seconds (longer ones are capped).",
        minimum=0),
    Key("link_method", "str", "auto",
        "Link checks: auto (GET with a bounded body prefix for pages, which soft-404 analysis "
        "needs; HEAD first for files), head (HEAD first always), or get.",
        choices=("auto", "head", "get")),
    Key("drift_ratio", "float", 0.5,
        "A crawl yielding fewer than this share of the last good count is extractor drift.",
        minimum=0.0),
    Key("timezone", "str", "UTC", "Time zone for schedules and dates without one."),
    Key("host_map", "list", [],
        "URL prefixes fetched elsewhere, REAL=LOCAL (tests and offline demos): e.g. "
        "https://infopeople.org=http://127.0.0.1:8765/A/infopeople. Empty in production."),
    Key("schedule_links", "str", "0 2 * * *", "Cron expression of the link check job."),
    Key("schedule_listings", "str", "0 3 * * *", "Cron expression of the listings job."),
    Key("schedule_report", "str", "0 7 * * mon", "Cron expression of the report job."),
    Key("schedule_misfire_grace_time", "int", 3600,
        "Seconds a missed job may still run late.", minimum=1),
    Key("schedule_jitter", "int", 60, "Seconds of random delay added to each job.", minimum=0),
    Key("job_time_limit", "float", 3 * 3600.0,
        "Seconds the child process of one step (refresh or scheduled job) may run.", minimum=1),
    Key("lock_stale_after", "float", 6 * 3600.0,
        "Seconds after which a run lock of a crashed holder is taken over.", minimum=1),
    Key("stop_timeout", "float", 30.0,
        "Seconds a step's process gets to stop cleanly (SIGTERM, time limit) before it is killed.",
        minimum=0.1),
    Key("sqlite_busy_timeout", "float", 30.0, "Seconds SQLite waits on a locked database.",
        minimum=0),
    Key("log_level", "str", "WARNING", "Python logging level.",
        choices=("DEBUG", "INFO", "WARNING", "ERROR")),
    Key("email_enabled", "bool", False, "Send the report by e-mail."),
    Key("email_smtp_host", "str", "localhost", "SMTP server host."),
    Key("email_smtp_port", "int", 25, "SMTP server port.", minimum=1),
    Key("email_starttls", "bool", False, "Use STARTTLS."),
    Key("email_username", "optstr", None, "SMTP login user; empty means no login."),
    Key("email_password", "optstr", None, "SMTP login password.", secret=True),
    Key("email_from", "str", "shelfcheck@localhost", "Sender address."),
    Key("email_to", "list", [], "Recipient addresses."),
    Key("email_timeout", "float", 30.0, "Seconds the SMTP server may take to answer.",
        minimum=0.1),
    Key("email_ca_file", "optstr", None,
        "CA certificates (PEM) that verify the SMTP server for STARTTLS; empty: the system's."),
    Key("notify_urls", "list", [],
        "Apprise URLs (Slack, Teams, Matrix, ntfy, json://...) that get a short summary with the "
        "headline counts and the report's path.", secret=True),
    Key("notify_on", "list", ["report"],
        "When to notify: report (each report), link_broken (a link became broken), "
        "provider_problem (a provider became unreachable or drifted).",
        choices=("report", "link_broken", "provider_problem")),
)
KEYS_BY_NAME = {k.name: k for k in KEYS}


def coerce(key: Key, value: Any, origin: str) -> Any:
    """Convert `value` to the key's type, or raise ConfigError naming the key and origin."""

    def bad(why: str) -> ConfigError:
        return ConfigError(f"{origin}: key '{key.name}': {why} (got {value!r})")

    if key.type == "optstr":
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise bad("expected a string")
        return value
    if key.type == "str":
        if not isinstance(value, str) or not value:
            raise bad("expected a non-empty string")
        if key.choices:
            value = value.upper() if key.choices[0].isupper() else value
            if value not in key.choices:
                raise bad(f"expected one of {', '.join(key.choices)}")
        return value
    if key.type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if isinstance(value, str) and value.strip().lower() in ("0", "false", "no", "off"):
            return False
        raise bad("expected true or false")
    if key.type in ("int", "float"):
        if isinstance(value, bool):
            raise bad(f"expected a number ({key.type})")
        try:
            num: float = int(value) if key.type == "int" else float(value)
        except (TypeError, ValueError):
            raise bad(f"expected a number ({key.type})") from None
        if key.minimum is not None and num < key.minimum:
            raise bad(f"must be at least {key.minimum:g}")
        return num
    if key.type == "list":
        if isinstance(value, str):
            items = [part.strip() for part in value.split(",") if part.strip()]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            items = list(value)
        else:
            raise bad("expected a list of strings")
        for item in items:
            if key.choices and item not in key.choices:
                raise bad(f"{item!r} is not one of {', '.join(key.choices)}")
            if key.regex:
                try:
                    re.compile(item)
                except re.error as exc:
                    raise bad(f"pattern {item!r} is not a valid regular expression: {exc}"
                              ) from None
        return items
    raise AssertionError(key.type)


def toml_value(value: Any) -> str:
    """A value as TOML writes it: ``true``, ``20.0``, ``"text"``, ``["md", "html"]``, and
    ``""`` for an unset (empty) optional value."""
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
