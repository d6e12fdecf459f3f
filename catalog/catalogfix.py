"""`catalog fix`: take permanent redirects back into the catalog file, leaving the rest as it was.

The file is read with ruamel.yaml's round-trip loader, which records where each value starts.
Each replaced URL is spliced into the original text at that position, in the quoting style it
had, so comments, key order, quoting, blank lines and `null`s stay byte for byte (ruamel's
dumper would rewrite `url: null` as `url:`). The result is parsed again and compared with the
intended data before it is written.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelfcheck.catalog.links import link_key
from shelfcheck.catalog.models import Link
from shelfcheck.errors import CatalogFileError

SINK_LINKS = 3
"""A redirect target shared by this many different links is a sink (a catch-all page)."""

_LANDING = re.compile(
    r"(?i)^(index|default|home|homepage|main|start|welcome|portal)(\.[a-z0-9]+)?$"
    r"|^[a-z]{2}([-_][a-z]{2})?$"
)
_LOGIN = re.compile(r"(?i)(^|[/._-])(log-?in|sign-?in|sso|auth|cas|account)([/._-]|$)")


@dataclass(frozen=True)
class Redirect:
    """A link the database knows as permanently redirected."""

    url: str  # the link's stored (normalized) URL
    target: str


@dataclass(frozen=True)
class Replacement:
    """One URL value of the catalog file and what becomes of it."""

    line: int  # 1-based line of the value
    title: str
    old: str  # as written in the file
    new: str  # the redirect target
    skipped: str | None = None  # why it is not applied; None: applied


def redirects(session: Session) -> dict[str, Redirect]:
    """Every link in state `redirected` with a target, by stored URL."""
    rows = session.execute(
        select(Link.url, Link.redirect_target)
        .where(Link.state == "redirected", Link.redirect_target.is_not(None))
    ).all()
    return {url: Redirect(url, target) for url, target in rows if target}


def unsafe_target(old: str, target: str, shared_by: int) -> str | None:
    """Why a redirect target must not replace `old` (a home page, a sink, a login), or None."""
    parts = urlsplit(target)
    segments = [s for s in parts.path.split("/") if s]
    old_segments = [s for s in urlsplit(old).path.split("/") if s]
    if not segments and not parts.query:
        return "the target is a home page"
    if len(segments) == 1 and _LANDING.match(segments[0]) and len(old_segments) > 1:
        return "the target is a site's landing page"
    if _LOGIN.search(parts.path):
        return "the target is a login page"
    if shared_by >= SINK_LINKS:
        return f"{shared_by} different links redirect to this target (a catch-all page)"
    return None


def _resources(data: Any) -> Iterator[tuple[Any, str]]:
    """(resource mapping, title) of every resource with a string `url` in the file's data."""
    if not isinstance(data, dict):
        return
    for section in data.get("sections") or []:
        if not isinstance(section, dict):
            continue
        for resource in section.get("resources") or []:
            if isinstance(resource, dict) and isinstance(resource.get("url"), str):
                yield resource, str(resource.get("title") or "")


def plan_fixes(text: str, source: str, known: dict[str, Redirect]) -> list[Replacement]:
    """The replacements for the redirected URLs of the catalog file `text`."""
    data = _load(text, source)
    shared = Counter(link_key(r.target)[0] for r in known.values())
    plan: list[Replacement] = []
    for resource, title in _resources(data):
        url = resource["url"]
        redirect = known.get(link_key(url)[0])
        if redirect is None:
            continue
        line = resource.lc.value("url")[0] + 1
        why = unsafe_target(redirect.url, redirect.target,
                            shared[link_key(redirect.target)[0]])
        plan.append(Replacement(line, title, url, redirect.target, why))
    return plan


def apply_fixes(text: str, source: str, plan: list[Replacement]) -> str:
    """`text` with each applied replacement spliced in; raises if the result reads differently."""
    chosen = [r for r in plan if r.skipped is None]
    if not chosen:
        return text
    data = _load(text, source)
    lines = text.splitlines(keepends=True)
    by_line = {r.line: r for r in chosen}
    for resource, _title in _resources(data):
        line, col = resource.lc.value("url")
        fix = by_line.get(line + 1)
        if fix is None or resource["url"] != fix.old:
            continue
        lines[line] = _splice(lines[line], col, fix, source)
        resource["url"] = fix.new
    result = "".join(lines)
    if _plain(_load(result, source)) != _plain(data):
        raise CatalogFileError(f"{source}: the fixed file would not read back as intended; "
                               "it was left unchanged")
    return result


def _splice(line: str, col: int, fix: Replacement, source: str) -> str:
    quote = line[col] if line[col] in "\"'" else ""
    if quote:
        end = _closing_quote(line, col, quote)
        if end < 0:
            raise CatalogFileError(f"{source}:{fix.line}: the URL spans lines; fix it by hand")
        stop = end + 1
    else:
        rest = line[col:].rstrip("\r\n")
        comment = re.search(r"\s+#", rest)
        stop = col + len(rest[:comment.start()] if comment else rest.rstrip())
    return line[:col] + _quoted(fix.new, quote) + line[stop:]


def _closing_quote(line: str, col: int, quote: str) -> int:
    i = col + 1
    while i < len(line):
        if quote == '"' and line[i] == "\\":
            i += 2
            continue
        if line[i] == quote:
            if quote == "'" and line[i + 1:i + 2] == "'":
                i += 2
                continue
            return i
        i += 1
    return -1


def _quoted(value: str, quote: str) -> str:
    if quote == "'":
        return "'" + value.replace("'", "''") + "'"
    if quote == '"' or re.search(r":\s|\s#|^[\[\]{}&*!|>'\"%@`,?-]", value):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return str(value) if isinstance(value, str) else value


def _load(text: str, source: str) -> Any:
    yaml = YAML(typ="rt")
    try:
        return yaml.load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise CatalogFileError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None


def read_catalog_text(path: Path) -> str:
    """The catalog file's text, or a CatalogFileError naming it."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogFileError(f"catalog file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogFileError(f"{path}: cannot read the catalog file: {exc}") from None
