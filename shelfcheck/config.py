"""Settings: defaults < TOML file < SHELFCHECK_* environment < command line.

Every key is declared once in `KEYS` with its type, default and a line of documentation; the README
table is generated from the same declarations (`shelfcheck config show --doc`).
TOML tables flatten with an underscore: ``[email] enabled = true`` is the key ``email_enabled``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shelfcheck.errors import ConfigError

ENV_PREFIX = "SHELFCHECK_"
DEFAULT_CONFIG_FILE = "shelfcheck.toml"
OTHER_ENV = ("SHELFCHECK_CONFIG",)
"""Environment variables that are not settings keys but are read: the configuration file."""
DEVELOPER_ENV_PREFIXES = ("SHELFCHECK_TEST_", "SHELFCHECK_REGEN_", "SHELFCHECK_REQUIRE_",
                          "SHELFCHECK_FAULT_")
"""Variables of the test suite (tests/conftest.py, golden files, fault tests): not warned about."""


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
    Key("max_in_flight", "int", 64, "Requests in flight over all hosts at most.", minimum=1),
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


def _coerce(key: Key, value: Any, origin: str) -> Any:
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
        return items
    raise AssertionError(key.type)


@dataclass(frozen=True)
class Settings:
    """The settings in effect; read a key as an attribute: ``settings.database_url``."""

    values: Mapping[str, Any]
    sources: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def replace(self, **changes: Any) -> Settings:
        """A copy with some keys changed (validated), marked as set by the caller."""
        values = dict(self.values)
        sources = dict(self.sources)
        for name, value in changes.items():
            if name not in KEYS_BY_NAME:
                raise ConfigError(f"unknown configuration key '{name}'")
            values[name] = _coerce(KEYS_BY_NAME[name], value, "override")
            sources[name] = "override"
        return Settings(values, sources)

    def redacted(self, name: str) -> str:
        """The value of `name` as it may be shown in logs and output."""
        value = self.values[name]
        if name == "database_url":
            return redact_url(str(value))
        if name == "notify_urls":
            return ", ".join(redact_notify_url(url) for url in value) if value else "[]"
        if KEYS_BY_NAME[name].secret and value:
            return "***"
        return toml_value(value) if not isinstance(value, str) else value

    def redacted_value(self, name: str) -> Any:
        """The value of `name` for JSON output: itself, or its redacted text when it is secret."""
        value = self.values[name]
        shown = self.redacted(name)
        plain = toml_value(value) if not isinstance(value, str) else value
        return value if shown == plain else shown


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


def redact_url(url: str) -> str:
    """Hide the password of a URL such as ``postgresql://user:secret@host/db``."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def redact_notify_url(url: str) -> str:
    """An Apprise URL with its tokens and passwords hidden (Apprise's privacy form)."""
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    try:
        import apprise

        plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
        shown = plugin.url(privacy=True) if plugin else None
    except Exception:
        shown = None
    if not isinstance(shown, str):
        return f"{scheme}://***"
    return shown.split("?", 1)[0]


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in data.items():
        full = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{full}_"))
        else:
            flat[full] = value
    return flat


def load_settings(
    config_path: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Load the settings: defaults, then the TOML file, then the environment, then `overrides`."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {k.name: k.default for k in KEYS}
    sources: dict[str, str] = {k.name: "default" for k in KEYS}

    path: Path | None = Path(config_path) if config_path else None
    if path is None and "SHELFCHECK_CONFIG" in environ:
        path = Path(environ["SHELFCHECK_CONFIG"])
    if path is None:
        candidate = (cwd or Path.cwd()) / DEFAULT_CONFIG_FILE
        path = candidate if candidate.is_file() else None
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: configuration file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read configuration file: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
        for name, value in _flatten(data).items():
            if name not in KEYS_BY_NAME:
                raise ConfigError(f"{path}: unknown key '{name}'{did_you_mean(name)}")
            values[name] = _coerce(KEYS_BY_NAME[name], value, str(path))
            sources[name] = str(path)

    for key in KEYS:
        env_name = ENV_PREFIX + key.name.upper()
        if env_name in environ:
            values[key.name] = _coerce(key, environ[env_name], f"environment {env_name}")
            sources[key.name] = f"env {env_name}"

    for name, value in (overrides or {}).items():
        if value is None:
            continue
        if name not in KEYS_BY_NAME:
            raise ConfigError(f"unknown configuration key '{name}'{did_you_mean(name)}")
        values[name] = _coerce(KEYS_BY_NAME[name], value, "command line")
        sources[name] = "command line"
    return Settings(values, sources, tuple(unknown_environment(environ)))


def did_you_mean(name: str) -> str:
    """"; did you mean 'email_smtp_host'?" for the key nearest to `name`, or ""."""
    import difflib

    near = difflib.get_close_matches(name.lower(), list(KEYS_BY_NAME), n=1, cutoff=0.6)
    return f"; did you mean '{near[0]}'?" if near else ""


def unknown_environment(environ: Mapping[str, str]) -> list[str]:
    """A warning for each SHELFCHECK_* variable that is no setting (a typo is ignored, silently,
    otherwise)."""
    import difflib

    known = {ENV_PREFIX + k.name.upper() for k in KEYS} | set(OTHER_ENV)
    warnings = []
    for name in sorted(environ):
        if (name.startswith(ENV_PREFIX) and name not in known
                and not name.startswith(DEVELOPER_ENV_PREFIXES)):
            near = difflib.get_close_matches(name.removeprefix(ENV_PREFIX).lower(),
                                             list(KEYS_BY_NAME), n=1, cutoff=0.6)
            hint = f"; did you mean {ENV_PREFIX}{near[0].upper()}?" if near else ""
            warnings.append(f"environment variable {name} is not a setting and is ignored{hint}")
    return warnings


def user_agent(settings: Settings) -> str:
    """The honest User-Agent: ``shelfcheck/<version> (+<project or contact URL>)``."""
    from shelfcheck import PROJECT_URL, __version__

    return f"shelfcheck/{__version__} (+{settings.contact_url or PROJECT_URL})"
