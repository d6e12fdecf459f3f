"""Settings: sources, precedence, validation, and `config show`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shelfcheck.config import KEYS, load_settings
from shelfcheck.errors import ConfigError


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings(environ={}, cwd=tmp_path)
    assert settings.database_url == "sqlite:///shelfcheck.db"
    assert settings.download_timeout == 20.0
    assert settings.max_in_flight_per_host == 2
    assert settings.confirm_after == 2
    assert all(settings.sources[k.name] == "default" for k in KEYS)


def test_file_then_env_then_command_line(tmp_path: Path) -> None:
    config = tmp_path / "shelfcheck.toml"
    config.write_text(
        'download_timeout = 5\nexports = ["json"]\n[email]\nenabled = true\nto = ["a@b.org"]\n'
    )
    settings = load_settings(environ={}, cwd=tmp_path)  # ./shelfcheck.toml is found
    assert settings.download_timeout == 5.0 and settings.email_enabled is True
    assert settings.email_to == ["a@b.org"] and settings.exports == ["json"]
    assert settings.sources["download_timeout"] == str(config)

    env = {"SHELFCHECK_DOWNLOAD_TIMEOUT": "7.5", "SHELFCHECK_EXPORTS": "json, ics"}
    settings = load_settings(environ=env, cwd=tmp_path)
    assert settings.download_timeout == 7.5 and settings.exports == ["json", "ics"]
    assert settings.sources["download_timeout"] == "env SHELFCHECK_DOWNLOAD_TIMEOUT"

    settings = load_settings(overrides={"download_timeout": 9}, environ=env, cwd=tmp_path)
    assert settings.download_timeout == 9.0
    assert settings.sources["download_timeout"] == "command line"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("download_timeout = 'soon'", "key 'download_timeout': expected a number"),
        ("max_in_flight_per_host = 0", "key 'max_in_flight_per_host': must be at least 1"),
        ("obey_robots = 'perhaps'", "key 'obey_robots': expected true or false"),
        ("exports = [1, 2]", "key 'exports': expected a list of strings"),
        ("no_such_key = 1", "unknown key 'no_such_key'"),
        ("log_level = 'LOUD'", "key 'log_level': expected one of"),
        ("download_timeout = ", "invalid TOML"),
    ],
)
def test_bad_file_names_key(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml + "\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_bad_env_names_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"SHELFCHECK_CONFIRM_AFTER.*key 'confirm_after'"):
        load_settings(environ={"SHELFCHECK_CONFIRM_AFTER": "two"}, cwd=tmp_path)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_config_show_redacts_secrets(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "shelfcheck.toml").write_text(
        'database_url = "postgresql://shelf:hunter2@db.example/shelf"\n'
        '[email]\npassword = "s3cret"\n'
    )
    result = cli("config", "show")
    assert result.exit_code == 0
    assert "hunter2" not in result.output and "s3cret" not in result.output
    assert "postgresql://shelf:***@db.example/shelf" in result.output
    assert "email_password" in result.output and "***" in result.output


def test_cli_bad_config_exits_2(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text("confirm_after = 'x'\n")
    result = cli("--config", "x.toml", "config", "show")
    assert result.exit_code == 2
    assert "confirm_after" in result.output


def test_version_and_help(cli: Any) -> None:
    from shelfcheck import __version__

    result = cli("--version")
    assert result.exit_code == 0 and __version__ in result.output
    for args in (["--help"], ["catalog", "--help"], ["catalog", "sync", "--help"],
                 ["export", "--help"], ["config", "show", "--help"], ["db", "upgrade", "--help"]):
        assert cli(*args).exit_code == 0, args
