"""Messages and odds and ends: did-you-mean, unknown variables, TOML values, database hints and
exit codes, plurals, tables that fit, LICENSE and `make help`."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from shelfcheck.config import KEYS, load_settings, toml_value
from shelfcheck.errors import ConfigError
from shelfcheck.table import format_table
from shelfcheck.text import plural
from tests.conftest import ROOT


@pytest.mark.parametrize(("toml", "suggestion"), [
    ("databse_url = 'sqlite:///x.db'\n", "did you mean 'database_url'?"),
    ("[email]\nsmtp_hots = 'mail'\n",
     "unknown key 'email_smtp_hots'; did you mean 'email_smtp_host'?"),
    ("confirm_afer = 3\n", "did you mean 'confirm_after'?"),
])
def test_unknown_key_suggests_the_nearest(tmp_path: Path, toml: str, suggestion: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert suggestion in str(info.value) and str(path) in str(info.value)


def test_unknown_key_far_from_any_has_no_guess(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text("colour = 'red'\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert "unknown key 'colour'" in str(info.value) and "did you mean" not in str(info.value)


def test_unknown_environment_variable_is_warned_about(cli: Any, monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setenv("SHELFCHECK_DATABSE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("SHELFCHECK_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    result = cli("config", "show")
    assert result.exit_code == 0
    assert ("shelfcheck: warning: environment variable SHELFCHECK_DATABSE_URL is not a setting "
            "and is ignored; did you mean SHELFCHECK_DATABASE_URL?") in result.stderr
    assert "SHELFCHECK_CONFIG" not in result.stderr
    assert "warning" not in result.stdout


def test_key_table_shows_toml_values_that_read_back() -> None:
    for key in KEYS:
        text = toml_value(key.default)
        assert "None" not in text and "True" not in text and "False" not in text
        parsed = tomllib.loads(f"{key.name} = {text}\n")[key.name]
        path_free = load_settings(overrides=None, environ={}, cwd=ROOT / "docs")
        settings = path_free.replace(**{key.name: parsed}) if key.default is not None else None
        if settings is not None:
            assert settings.values[key.name] == key.default, key.name
        else:
            assert parsed == ""  # an unset optional key is written as empty
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "| `obey_robots` | `true` |" in readme and "| `catalog_file` | `\"\"` |" in readme
    assert '| `report_formats` | `["md", "html", "json", "csv"]` |' in readme


def test_postgres_scheme_gets_a_hint(cli: Any) -> None:
    result = cli("--database-url", "postgres://u:pw@127.0.0.1/db", "catalog", "list")
    assert result.exit_code == 2
    assert "write postgresql://" in result.output and "pw@" not in result.output


def test_database_that_cannot_be_opened_is_exit_4(cli: Any) -> None:
    result = cli("--database-url", "sqlite:////nonexistent-dir-7f3a/c.db", "links")
    assert result.exit_code == 4
    assert "cannot use the database" in result.output and "Traceback" not in result.output


def test_empty_catalog_says_how_to_load_it(cli: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = cli("--database-url", url, "links")
    assert result.exit_code == 0
    assert "the catalog is empty" in result.output and "shelfcheck catalog sync" in result.output
    assert cli("--database-url", url, "links", "--format", "json").output.strip() == "[]"
    assert "No runs yet" in cli("--database-url", url, "runs").output


def test_plurals() -> None:
    assert [plural(n, "link") for n in (0, 1, 2)] == ["0 links", "1 link", "2 links"]
    assert plural(1, "entry", "entries") == "1 entry"
    assert plural(3, "entry", "entries") == "3 entries"


def column(text: str, header: str, following: str | None) -> str:
    """The cells of one column joined again: the text under `header` up to the next header."""
    lines = text.splitlines()
    start = lines[0].index(header)
    stop = lines[0].index(following) if following else None
    return "".join(line[start:stop].strip() for line in lines[2:])


def test_tables_fit_the_width_and_cut_nothing() -> None:
    url = "https://www.example.org/continuing-education/webinars/2027/cataloging-basics?x=1&y=2"
    suggestion = "https://web.archive.org/web/*/" + url
    rows = [("broken", "not_found", url, "A-resource", suggestion)]
    headers = ["state", "verdict", "url", "resources", "suggestion"]
    for width in (60, 100, 140):
        text = format_table(headers, rows, width=width)
        lines = text.splitlines()
        assert all(len(line) <= width for line in lines), (width, text)
        assert column(text, "url", "resources") == url, text
        assert column(text, "suggestion", None) == suggestion, text
        assert "…" not in text
    assert len(format_table(headers, rows, width=60).splitlines()) > 4  # it did wrap
    wide = format_table(headers, rows, wide=True)
    assert len(wide.splitlines()) == 3 and url in wide and suggestion in wide


def test_license_is_mit() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Permission is hereby granted" in text
    assert re.search(r"^license = MIT$", (ROOT / "setup.cfg").read_text(), re.M)


def test_make_help_lists_every_target() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    phony = re.search(r"^\.PHONY: (.+)$", makefile, re.M).group(1).split()  # type: ignore[union-attr]
    done = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    listed = re.findall(r"^  make (\S+) +\S", done.stdout, re.M)
    assert sorted(listed) == sorted(phony)
