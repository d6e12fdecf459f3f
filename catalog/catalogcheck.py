"""Checking a catalog file's data: every problem named by file, line and key, all of them listed
at once; the top level and the providers first, then section by section as they are read."""

from __future__ import annotations

from typing import Any

from shelfcheck.catalog.catalogspec import (
    SCHEMA,
    SLUG,
    CatalogSpec,
    ProviderSpec,
    RecipeValidator,
    ResourceSpec,
    SectionSpec,
)
from shelfcheck.catalog.urlnorm import MAX_URL_LENGTH, redact_userinfo, url_key, url_problem
from shelfcheck.catalog.yamllines import LineMap, line_of, plain
from shelfcheck.errors import CatalogFileError


class _Checker:
    """Collects problems as `source:line: where: problem` lines."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def fail(self, line: int, where: str, problem: str) -> None:
        self.problems.append(f"{self.source}:{line}: {where}: {problem}")

    def text(self, node: LineMap, key: str, where: str, *, required: bool) -> str | None:
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

    def flag(self, node: LineMap, key: str, where: str) -> bool:
        value = node.get(key, True)
        if not isinstance(value, bool):
            self.fail(node.key_lines.get(key, node.line), where,
                      f"'{key}' must be true or false, not {value!r}")
            return True
        return value

    def keys(self, node: LineMap, allowed: set[str], where: str) -> None:
        for key in node:
            if key not in allowed:
                self.fail(node.key_lines.get(key, node.line), where,
                          f"unknown key '{key}' (allowed: {', '.join(sorted(allowed))})")

    def seq(self, node: LineMap, key: str, where: str) -> list[Any]:
        value = node.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(node.key_lines.get(key, node.line), where, f"'{key}' must be a list")
            return []
        return value


class CatalogCheck:
    """Checks a catalog: the top level and the providers at once, then section by section."""

    def __init__(self, data: LineMap, source: str, sha256: str,
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
        self.spec.guide = plain(guide)
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
            if not isinstance(node, LineMap):
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
                    line = line_of(recipe, key_path, node.key_lines.get("recipe", node.line))
                    check.fail(line, f"{where} recipe {key_path}", problem)
            if slug and name:
                self.spec.providers.append(
                    ProviderSpec(slug, name, home, plain(recipe) if recipe else None, node.line)
                )

    def section(self, i: int, node: Any) -> SectionSpec | None:
        """Check one entry of `sections`; its spec (the caller keeps it, or writes it), or None
        when it has no name."""
        check, data = self.check, self.data
        where = f"sections[{i}]"
        if not isinstance(node, LineMap):
            check.fail(data.key_lines.get("sections", 1), where, "must be a mapping")
            return None
        check.keys(node, {"name", "resources"}, where)
        name = check.text(node, "name", where, required=True)
        if name is None:
            return None
        where = f"section '{name}'"
        if name in self.names:
            check.fail(node.line, where, "duplicate section name")
        self.names.add(name)
        section = SectionSpec(name, [], node.line)
        titles: set[str] = set()
        urls: dict[str, str] = {}
        for j, rnode in enumerate(check.seq(node, "resources", where)):
            rwhere = f"{where} resources[{j}]"
            if not isinstance(rnode, LineMap):
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
                key = url_key(url)
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
        return section

    @property
    def clean(self) -> bool:
        """True while no problem has been found."""
        return not self.check.problems

    def finish(self) -> CatalogSpec:
        """The spec (its sections are the caller's), or CatalogFileError listing every problem
        found."""
        found = self.check.problems
        problems = [*self._top(), *found[:self.sections_from], *self._sections_key(),
                    *found[self.sections_from:]]
        if problems:
            raise CatalogFileError("\n".join(problems))
        return self.spec
