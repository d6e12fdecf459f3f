"""Read and validate a catalog file (YAML), with errors that name the file and the line."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources as importlib_resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from shelfcheck.catalog.urlnorm import MAX_URL_LENGTH, redact_userinfo, url_problem
from shelfcheck.errors import CatalogFileError

SCHEMA = "shelfcheck.catalogfile/1"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")

RecipeValidator = Callable[[str, dict[str, Any]], list[tuple[str, str]]]
"""Checks a provider's recipe; returns (key path, problem) pairs."""


def packaged_catalog_path() -> Path:
    """The guide's catalog file shipped in the package."""
    return Path(str(importlib_resources.files("shelfcheck.catalog") / "data" / "guide.yaml"))


class _Map(dict[str, Any]):
    """A mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict[str, int]


if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:  # LibYAML's loader when PyYAML has it: ~10x faster on a 100,000-resource file
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
        mapping = _Map(super().construct_mapping(node, deep=True))  # type: ignore[arg-type]
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {
            str(k.value): k.start_mark.line + 1 for k, _v in node.value if hasattr(k, "value")
        }
        seen: set[str] = set()
        for key_node, _ in node.value:
            if key_node.value in seen:
                raise CatalogFileError(
                    f"{key_node.start_mark.line + 1}: duplicate key '{key_node.value}'"
                )
            seen.add(key_node.value)
        return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping
)


class _PieceLoader(_LineLoader):
    """Composes one node at a time from the parser's events (PyYAML's own composer, over
    LibYAML's events), so a large file is built and checked a section at a time."""

    compose_node = yaml.composer.Composer.compose_node
    compose_scalar_node = yaml.composer.Composer.compose_scalar_node
    compose_sequence_node = yaml.composer.Composer.compose_sequence_node
    compose_mapping_node = yaml.composer.Composer.compose_mapping_node

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.anchors: dict[str, yaml.Node] = {}

    def piece(self) -> Any:
        """Compose and construct the next node."""
        return self.construct_document(self.compose_node(None, None))  # type: ignore[arg-type]


@dataclass(slots=True)
class ProviderSpec:
    """A provider as the catalog file declares it."""

    slug: str
    name: str
    home: str | None
    recipe: dict[str, Any] | None
    line: int


@dataclass(slots=True)
class ResourceSpec:
    """A resource as the catalog file declares it."""

    title: str
    url: str | None
    provider: str | None
    description: str
    line: int
    check: bool = True  # `check: false`: never checked, listed as not checked


@dataclass(slots=True)
class SectionSpec:
    """A section and its resources, in file order."""

    name: str
    resources: list[ResourceSpec]
    line: int


@dataclass
class CatalogSpec:
    """A validated catalog file."""

    source: str
    sha256: str
    guide: dict[str, Any]
    providers: list[ProviderSpec] = field(default_factory=list)
    sections: list[SectionSpec] = field(default_factory=list)

    @property
    def resource_count(self) -> int:
        """How many resources the file lists."""
        return sum(len(s.resources) for s in self.sections)


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def fail(self, line: int, where: str, problem: str) -> None:
        self.problems.append(f"{self.source}:{line}: {where}: {problem}")

    def text(self, node: _Map, key: str, where: str, *, required: bool) -> str | None:
        value = node.get(key)
        line = node.key_lines.get(key, node.line)
        if value is None:
            if required:
                self.fail(node.line, where, f"missing required key '{key}'")
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            self.fail(line, where, f"'{key}' must be text, not {type(value).__name__}")
            return None
        text = " ".join(str(value).split())
        if required and not text:
            self.fail(line, where, f"'{key}' must not be empty")
            return None
        return text

    def flag(self, node: _Map, key: str, where: str) -> bool:
        value = node.get(key, True)
        if not isinstance(value, bool):
            self.fail(node.key_lines.get(key, node.line), where,
                      f"'{key}' must be true or false, not {value!r}")
            return True
        return value

    def keys(self, node: _Map, allowed: set[str], where: str) -> None:
        for key in node:
            if key not in allowed:
                self.fail(node.key_lines.get(key, node.line), where,
                          f"unknown key '{key}' (allowed: {', '.join(sorted(allowed))})")

    def seq(self, node: _Map, key: str, where: str) -> list[Any]:
        value = node.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(node.key_lines.get(key, node.line), where, f"'{key}' must be a list")
            return []
        return value


def load_catalog(
    path: str | Path | None = None, *, recipe_validator: RecipeValidator | None = None
) -> CatalogSpec:
    """Read and validate a catalog file; raise CatalogFileError listing every problem.

    The file is parsed a section at a time (`_PieceLoader`): only the checked specs are kept,
    never the whole YAML tree, so a 100,000-resource file fits in little memory.
    """
    file = Path(path) if path else packaged_catalog_path()
    source = str(file)
    try:
        digest = hashlib.sha256()
        with file.open("rb") as raw:
            for block in iter(lambda: raw.read(1 << 20), b""):
                digest.update(block)
        stream = file.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise CatalogFileError(f"{source}: cannot read catalog file: {exc.strerror}") from None
    try:
        with stream:
            return _read(stream, source, digest.hexdigest(), recipe_validator)
    except UnicodeDecodeError as exc:
        raise CatalogFileError(f"{source}: not UTF-8 text: {exc}") from None
    except CatalogFileError as exc:
        if str(exc).startswith(source):
            raise
        raise CatalogFileError(f"{source}:{exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{mark.line + 1}" if mark is not None else "?"
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogFileError(f"{source}:{line}: malformed YAML: {problem}") from None


def _read(stream: Any, source: str, sha256: str,
          recipe_validator: RecipeValidator | None) -> CatalogSpec:
    """Walk the top-level mapping; check each section as soon as it is composed."""
    loader = _PieceLoader(stream)
    try:
        loader.get_event()  # StreamStart
        if loader.check_event(yaml.StreamEndEvent):
            return parse_catalog(None, source, sha256, recipe_validator)
        loader.get_event()  # DocumentStart
        if not loader.check_event(yaml.MappingStartEvent):
            return parse_catalog(loader.piece(), source, sha256, recipe_validator)
        start = loader.get_event()
        top = _Map()
        top.line, top.key_lines = start.start_mark.line + 1, {}
        pending: list[tuple[int, _Map]] = []  # sections met before the providers
        reader: _Parse | None = None
        while not loader.check_event(yaml.MappingEndEvent):
            key_event = loader.peek_event()
            key = loader.piece()
            line = key_event.start_mark.line + 1
            if str(key) in top.key_lines:
                raise CatalogFileError(f"{line}: duplicate key '{key}'")
            top.key_lines[str(key)] = line
            if key == "sections" and loader.check_event(yaml.SequenceStartEvent):
                top["sections"] = []
                loader.get_event()
                index = 0
                while not loader.check_event(yaml.SequenceEndEvent):
                    node = loader.piece()
                    if reader is None and "providers" not in top:
                        pending.append((index, node))  # checked once the providers are known
                    else:
                        reader = reader or _Parse(top, source, sha256, recipe_validator)
                        reader.section(index, node)
                    index += 1
                loader.get_event()
                continue
            top[key] = loader.piece()
        reader = reader or _Parse(top, source, sha256, recipe_validator)
        for index, node in pending:
            reader.section(index, node)
        return reader.finish()
    finally:
        loader.dispose()


def parse_catalog(
    data: Any,
    source: str,
    sha256: str = "",
    recipe_validator: RecipeValidator | None = None,
) -> CatalogSpec:
    """Validate parsed catalog data (mappings carrying line numbers, or plain dicts)."""
    data = _with_lines(data)
    if not isinstance(data, _Map):
        raise CatalogFileError(f"{source}:1: a catalog file must be a mapping with 'sections'")
    sections = data.get("sections")
    reader = _Parse(data, source, sha256, recipe_validator)
    if isinstance(sections, list):
        for i, node in enumerate(sections):
            reader.section(i, node)
    return reader.finish()


class _Parse:
    """Checks a catalog: the top level and the providers at once, then section by section."""

    def __init__(self, data: _Map, source: str, sha256: str,
                 recipe_validator: RecipeValidator | None) -> None:
        self.data = data
        self.check = _Checker(source)
        self.spec = CatalogSpec(source=source, sha256=sha256, guide={})
        self.slugs: set[str] = set()
        self.names: set[str] = set()
        self._providers(recipe_validator)
        self.sections_from = len(self.check.problems)

    def _top(self) -> list[str]:
        """The top level's problems: checked last, since a streamed file's keys after
        'sections' are read last, and listed first."""
        check, data = _Checker(self.check.source), self.data
        check.keys(data, {"schema", "guide", "providers", "sections"}, "catalog")
        schema = data.get("schema", SCHEMA)
        if schema != SCHEMA:
            check.fail(data.key_lines.get("schema", 1), "catalog",
                       f"unsupported schema {schema!r} (expected {SCHEMA!r})")
        guide = data.get("guide") or {}
        if not isinstance(guide, dict):
            check.fail(data.key_lines.get("guide", 1), "guide", "must be a mapping")
            guide = {}
        self.spec.guide = _plain(guide)
        return check.problems

    def _sections_key(self) -> list[str]:
        check, data = _Checker(self.check.source), self.data
        check.seq(data, "sections", "catalog")
        if "sections" not in data:
            check.fail(data.line, "catalog", "missing required key 'sections'")
        return check.problems

    def _providers(self, recipe_validator: RecipeValidator | None) -> None:
        check, data = self.check, self.data
        for i, node in enumerate(check.seq(data, "providers", "catalog")):
            where = f"providers[{i}]"
            if not isinstance(node, _Map):
                check.fail(data.key_lines.get("providers", 1), where, "must be a mapping")
                continue
            check.keys(node, {"slug", "name", "home", "recipe"}, where)
            slug = check.text(node, "slug", where, required=True)
            name = check.text(node, "name", where, required=True)
            home = check.text(node, "home", where, required=False)
            recipe = node.get("recipe")
            if slug is not None:
                where = f"provider '{slug}'"
                if not SLUG.match(slug):
                    check.fail(node.key_lines.get("slug", node.line), where,
                               "slug must be lower-case letters, digits and '-'")
                if slug in self.slugs:
                    check.fail(node.line, where, "duplicate provider slug")
                self.slugs.add(slug)
            if recipe is not None and not isinstance(recipe, dict):
                check.fail(node.key_lines.get("recipe", node.line), where,
                           "recipe must be a mapping")
                recipe = None
            if recipe is not None and recipe_validator is not None and slug:
                for key_path, problem in recipe_validator(slug, recipe):
                    line = _line_of(recipe, key_path, node.key_lines.get("recipe", node.line))
                    check.fail(line, f"{where} recipe {key_path}", problem)
            if slug and name:
                self.spec.providers.append(
                    ProviderSpec(slug, name, home, _plain(recipe) if recipe else None, node.line)
                )

    def section(self, i: int, node: Any) -> None:
        """Check one entry of `sections` and keep its spec."""
        check, data = self.check, self.data
        where = f"sections[{i}]"
        if not isinstance(node, _Map):
            check.fail(data.key_lines.get("sections", 1), where, "must be a mapping")
            return
        check.keys(node, {"name", "resources"}, where)
        name = check.text(node, "name", where, required=True)
        if name is None:
            return
        where = f"section '{name}'"
        if name in self.names:
            check.fail(node.line, where, "duplicate section name")
        self.names.add(name)
        section = SectionSpec(name, [], node.line)
        titles: set[str] = set()
        urls: dict[str, str] = {}
        for j, rnode in enumerate(check.seq(node, "resources", where)):
            rwhere = f"{where} resources[{j}]"
            if not isinstance(rnode, _Map):
                check.fail(node.key_lines.get("resources", node.line), rwhere,
                           "must be a mapping")
                continue
            check.keys(rnode, {"title", "url", "provider", "description", "check"}, rwhere)
            title = check.text(rnode, "title", rwhere, required=True)
            url = check.text(rnode, "url", rwhere, required=False) or None
            url = redact_userinfo(url) if url else None  # a password is never stored
            provider = check.text(rnode, "provider", rwhere, required=False) or None
            description = check.text(rnode, "description", rwhere, required=False) or ""
            if title is None:
                continue
            rwhere = f"{where} resource '{title}'"
            checked = check.flag(rnode, "check", rwhere)
            if title in titles:
                check.fail(rnode.line, rwhere, "duplicate title within the section")
            titles.add(title)
            if provider and provider not in self.slugs:
                check.fail(rnode.key_lines.get("provider", rnode.line), rwhere,
                           f"unknown provider '{provider}'")
            if url and (url_error := url_problem(url)):
                check.fail(rnode.key_lines.get("url", rnode.line), rwhere, url_error)
            elif url:
                key = _url_key(url)
                if max(len(key), len(url)) > MAX_URL_LENGTH:
                    check.fail(rnode.key_lines.get("url", rnode.line), rwhere,
                               f"URL is {max(len(key), len(url))} characters long; at most "
                               f"{MAX_URL_LENGTH} are accepted")
                if key in urls:
                    check.fail(rnode.key_lines.get("url", rnode.line), rwhere,
                               f"duplicate URL within the section (also '{urls[key]}')")
                urls[key] = title
            section.resources.append(ResourceSpec(title, url, provider, description,
                                                  rnode.line, checked))
        self.spec.sections.append(section)

    def finish(self) -> CatalogSpec:
        """The spec, or CatalogFileError listing every problem found."""
        found = self.check.problems
        problems = [*self._top(), *found[:self.sections_from], *self._sections_key(),
                    *found[self.sections_from:]]
        if problems:
            raise CatalogFileError("\n".join(problems))
        return self.spec


def _url_key(url: str) -> str:
    from shelfcheck.catalog.urlnorm import InvalidURL, normalize_url

    try:
        return normalize_url(url)
    except InvalidURL:
        return url.strip()


def _line_of(recipe: Any, key_path: str, default: int) -> int:
    node = recipe
    line = default
    for part in key_path.replace("]", "").replace("[", ".").split("."):
        if isinstance(node, _Map) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            line = getattr(node, "line", line)
        else:
            break
    return line


def _with_lines(value: Any) -> Any:
    """Wrap plain dicts (from an import, not a file) so the checker can treat them alike."""
    if isinstance(value, _Map):
        return value
    if isinstance(value, dict):
        wrapped = _Map({k: _with_lines(v) for k, v in value.items()})
        wrapped.line = 0
        wrapped.key_lines = {}
        return wrapped
    if isinstance(value, list):
        return [_with_lines(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
