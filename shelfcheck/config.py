"""Settings: defaults < TOML file < SHELFCHECK_* environment < command line.

Every key is declared once in `shelfcheck.configkeys.KEYS`; this module reads them from their
sources and checks them.
TOML tables flatten with an underscore: ``[email] enabled = true`` is the key ``email_enabled``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shelfcheck.configkeys import KEYS, KEYS_BY_NAME, Key, coerce, toml_value
from shelfcheck.errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG_FILE", "ENV_PREFIX", "KEYS", "KEYS_BY_NAME", "Key", "Settings", "did_you_mean",
    "load_settings", "redact_notify_url", "redact_url", "toml_value", "unknown_environment",
    "user_agent",
]

ENV_PREFIX = "SHELFCHECK_"
DEFAULT_CONFIG_FILE = "shelfcheck.toml"
OTHER_ENV = ("SHELFCHECK_CONFIG",)
"""Environment variables that are not settings keys but are read: the configuration file."""
DEVELOPER_ENV_PREFIXES = ("SHELFCHECK_TEST_", "SHELFCHECK_REGEN_", "SHELFCHECK_REQUIRE_",
                          "SHELFCHECK_FAULT_")
"""Variables of the test suite (tests/conftest.py, golden files, fault tests): not warned about."""


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
            values[name] = coerce(KEYS_BY_NAME[name], value, "override")
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
            values[name] = coerce(KEYS_BY_NAME[name], value, str(path))
            sources[name] = str(path)

    for key in KEYS:
        env_name = ENV_PREFIX + key.name.upper()
        if env_name in environ:
            values[key.name] = coerce(key, environ[env_name], f"environment {env_name}")
            sources[key.name] = f"env {env_name}"

    for name, value in (overrides or {}).items():
        if value is None:
            continue
        if name not in KEYS_BY_NAME:
            raise ConfigError(f"unknown configuration key '{name}'{did_you_mean(name)}")
        values[name] = coerce(KEYS_BY_NAME[name], value, "command line")
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
