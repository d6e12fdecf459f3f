"""`link_exclude`: each pattern is checked when the settings load, and compiled once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shelfcheck.catalog.notchecked import LinkExclude, link_exclude
from shelfcheck.config import load_settings
from shelfcheck.errors import ConfigError


def test_patterns_from_the_file_and_the_environment(tmp_path: Path) -> None:
    (tmp_path / "shelfcheck.toml").write_text(
        "link_exclude = ['^https?://(www\\.)?linkedin\\.com/', 'a{1,3}b']\n")
    settings = load_settings(environ={}, cwd=tmp_path)
    assert settings.link_exclude == ["^https?://(www\\.)?linkedin\\.com/", "a{1,3}b"]
    assert link_exclude(settings) is link_exclude(settings)  # compiled once
    env = load_settings(environ={"SHELFCHECK_LINK_EXCLUDE": "/private/, \\.pdf$"}, cwd=tmp_path)
    assert env.link_exclude == ["/private/", "\\.pdf$"]
    assert load_settings(environ={}).link_exclude == []


def test_a_pattern_is_searched_in_each_url() -> None:
    exclude = LinkExclude(["^https://www\\.linkedin\\.com/", "/private/"])
    assert exclude.matches(["https://www.linkedin.com/in/someone"])
    assert exclude.matches([None, "https://example.org/x/private/y"])
    assert not exclude.matches(["https://example.org/linkedin.com/", None])
    assert not LinkExclude() and not LinkExclude().matches(["https://example.org/"])


@pytest.mark.parametrize("origin", ["file", "env"])
def test_a_bad_pattern_names_the_key_the_pattern_and_the_origin(tmp_path: Path,
                                                                origin: str) -> None:
    path = tmp_path / "bad.toml"
    if origin == "file":
        path.write_text("link_exclude = ['ok', '(unclosed']\n")
        where, environ = str(path), {}
    else:
        path.write_text("")
        where, environ = "environment SHELFCHECK_LINK_EXCLUDE", {
            "SHELFCHECK_LINK_EXCLUDE": "ok,(unclosed"}
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ=environ)
    message = str(info.value)
    assert message.startswith(f"{where}: key 'link_exclude': pattern '(unclosed' is not a valid "
                              "regular expression: missing ), unterminated subpattern")


def test_the_cli_refuses_a_bad_pattern(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "shelfcheck.toml").write_text("link_exclude = ['[a-']\n")
    result = cli("config", "show")
    assert result.exit_code == 2
    assert "key 'link_exclude': pattern '[a-' is not a valid regular expression" in result.output
