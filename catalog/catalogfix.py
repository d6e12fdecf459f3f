"""`catalog fix`: take permanent redirects back into the catalog file, leaving the rest as it was.

The file is composed (not constructed) by PyYAML's LibYAML parser, which gives each URL value's
exact position and quoting style. Each replaced URL is spliced into the original text there, in
the quoting it had, so comments, key order, quoting, flow style, blank lines and `null`s stay
byte for byte. The result is parsed again and compared with the intended data before it is
written.

Why not ruamel.yaml's round trip: its dumper rewrites `url: null` as `url:`, and its pure-Python
loader alone takes 7-11 s per 10,000 resources, against 1.4 s for this whole plan
(benchmarks/README.md, "The command line").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from shelfcheck.catalog.links import link_key
from shelfcheck.catalog.models import Link
from shelfcheck.catalog.states import LinkState
from shelfcheck.errors import CatalogFileError

if TYPE_CHECKING:
    _Loader = yaml.SafeLoader
else:  # LibYAML's loader when PyYAML has it
    _Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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
    column: int = 0  # where the value starts on its line (0-based characters) ...
    end_line: int = 0  # ... and where it ends (1-based line, 0-based column)
    end_column: int = 0
    style: str = ""  # '"', "'" or "" (plain)


def redirects(session: Session) -> dict[str, Redirect]:
    """Every link in state `redirected` with a target, by stored URL."""
    rows = session.execute(
        select(Link.url, Link.redirect_target)
        .where(Link.state == LinkState.REDIRECTED, Link.redirect_target.is_not(None))
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


def _scalar(node: yaml.Node | None) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":str") \
        else None


def _mapping(node: yaml.Node | None) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): v for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _url_nodes(text: str, source: str) -> Iterator[tuple[str, yaml.ScalarNode]]:
    """(title, URL node) of every resource with a string `url`, in file order."""
    root = _parse(lambda: yaml.compose(text, Loader=_Loader), source)
    sections = _mapping(root).get("sections")
    for section in sections.value if isinstance(sections, yaml.SequenceNode) else []:
        resources = _mapping(section).get("resources")
        for resource in resources.value if isinstance(resources, yaml.SequenceNode) else []:
            fields = _mapping(resource)
            url = fields.get("url")
            if isinstance(url, yaml.ScalarNode) and _scalar(url) is not None:
                yield _scalar(fields.get("title")) or "", url


def plan_fixes(text: str, source: str, known: dict[str, Redirect]) -> list[Replacement]:
    """The replacements for the redirected URLs of the catalog file `text`."""
    shared = Counter(link_key(r.target)[0] for r in known.values())
    plan: list[Replacement] = []
    for title, node in _url_nodes(text, source):
        redirect = known.get(link_key(node.value)[0])
        if redirect is None:
            continue
        why = unsafe_target(redirect.url, redirect.target,
                            shared[link_key(redirect.target)[0]])
        plan.append(Replacement(
            node.start_mark.line + 1, title, node.value, redirect.target, why,
            node.start_mark.column, node.end_mark.line + 1, node.end_mark.column,
            node.style or ""))
    return plan


def apply_fixes(text: str, source: str, plan: list[Replacement]) -> str:
    """`text` with each applied replacement spliced in; raises if the result reads differently."""
    chosen = [r for r in plan if r.skipped is None]
    if not chosen:
        return text
    lines = text.splitlines(keepends=True)
    for fix in sorted(chosen, key=lambda r: (r.line, -r.column)):  # right to left on a line
        if fix.end_line != fix.line or fix.style not in ("", "'", '"'):
            raise CatalogFileError(f"{source}:{fix.line}: the URL of '{fix.title}' spans lines "
                                   "or uses a block style; fix it by hand")
        line = lines[fix.line - 1]
        lines[fix.line - 1] = (line[:fix.column] + _quoted(fix.new, fix.style)
                               + line[fix.end_column:])
    result = "".join(lines)
    mapping = {r.old: r.new for r in chosen}
    expected = _parse(lambda: yaml.load(text, Loader=_Loader), source)
    for resource in _resource_dicts(expected):
        if isinstance(resource.get("url"), str) and resource["url"] in mapping:
            resource["url"] = mapping[resource["url"]]
    if _parse(lambda: yaml.load(result, Loader=_Loader), source) != expected:
        raise CatalogFileError(f"{source}: the fixed file would not read back as intended; "
                               "it was left unchanged")
    return result


def _resource_dicts(data: Any) -> Iterator[dict[str, Any]]:
    for section in (data.get("sections") or []) if isinstance(data, dict) else []:
        for resource in (section.get("resources") or []) if isinstance(section, dict) else []:
            if isinstance(resource, dict):
                yield resource


def _quoted(value: str, quote: str) -> str:
    if quote == "'":
        return "'" + value.replace("'", "''") + "'"
    if quote == '"' or re.search(r":\s|\s#|^[\[\]{}&*!|>'\"%@`,?-]|[,\[\]{}]", value):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


def _parse(read: Any, source: str) -> Any:
    try:
        return read()
    except yaml.YAMLError as exc:
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
