"""Read and validate a catalog file (YAML), with errors that name the file and the line.

`CatalogReader` reads a file a section at a time (`catalog.yamllines`), checked as it is read
(`catalog.catalogcheck`): what `catalog sync` streams into the database. `load_catalog` keeps
every section in one `catalog.catalogspec.CatalogSpec`; `parse_catalog` checks parsed data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import yaml

from shelfcheck.catalog.catalogcheck import CatalogCheck
from shelfcheck.catalog.catalogspec import (
    SCHEMA,
    CatalogSpec,
    ProviderSpec,
    RecipeValidator,
    ResourceSpec,
    SectionSpec,
)
from shelfcheck.catalog.yamllines import NOT_A_MAPPING, LineMap, walk_sections, with_lines
from shelfcheck.errors import CatalogFileError

__all__ = [
    "SCHEMA", "CatalogFileError", "CatalogReader", "CatalogSpec", "ProviderSpec",
    "RecipeValidator", "ResourceSpec", "SectionSpec", "load_catalog", "packaged_catalog_path",
    "parse_catalog",
]


def packaged_catalog_path() -> Path:
    """The guide's catalog file shipped in the package."""
    return Path(str(importlib_resources.files("shelfcheck.catalog") / "data" / "guide.yaml"))


class CatalogReader:
    """A catalog file read and checked a section at a time; only the section being read is
    held, never the whole YAML tree or every section, so a 100,000-resource file fits in
    little memory.

    `sections()` yields each section's spec as it is checked; `providers` are known from the
    first section on (sections listed before the providers wait for them). When `sections()`
    ends, `spec` is the file's spec without its sections, or CatalogFileError has listed every
    problem. `clean` says whether a problem was found so far (a caller writing as it reads
    stops writing then, and rolls back when the error comes).
    """

    def __init__(self, path: str | Path | None = None, *,
                 recipe_validator: RecipeValidator | None = None) -> None:
        self.file = Path(path) if path else packaged_catalog_path()
        self.source = str(self.file)
        self.recipe_validator = recipe_validator
        try:
            digest = hashlib.sha256()
            with self.file.open("rb") as raw:
                for block in iter(lambda: raw.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:
            raise self._cannot_read(exc) from None
        self.sha256 = digest.hexdigest()
        self._check: CatalogCheck | None = None
        self._spec: CatalogSpec | None = None

    @property
    def providers(self) -> list[ProviderSpec]:
        """The providers' specs (once the first section has been yielded)."""
        return self._check.spec.providers if self._check else []

    @property
    def clean(self) -> bool:
        """True while no problem has been found."""
        return self._check is None or self._check.clean

    @property
    def spec(self) -> CatalogSpec:
        """The checked file's spec, without its sections (once `sections()` has ended)."""
        if self._spec is None:
            raise RuntimeError("read the sections first")
        return self._spec

    def sections(self) -> Iterator[SectionSpec]:
        """Each section's spec, in file order."""
        try:
            stream = self.file.open(encoding="utf-8", newline="")
        except OSError as exc:
            raise self._cannot_read(exc) from None
        try:
            with stream:
                yield from self._walk(stream)
        except UnicodeDecodeError as exc:
            raise CatalogFileError(f"{self.source}: not UTF-8 text: {exc}") from None
        except CatalogFileError as exc:
            if str(exc).startswith(self.source):
                raise
            raise CatalogFileError(f"{self.source}:{exc}") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f"{mark.line + 1}" if mark is not None else "?"
            problem = getattr(exc, "problem", None) or str(exc)
            raise CatalogFileError(f"{self.source}:{line}: malformed YAML: {problem}") from None

    def _walk(self, stream: Any) -> Iterator[SectionSpec]:
        top = LineMap()
        pending: list[tuple[int, Any]] = []  # sections met before the providers
        for index, node in walk_sections(stream, top):
            if self._check is None and "providers" not in top:
                pending.append((index, node))  # checked once the providers are known
                continue
            if (section := self._checker(top).section(index, node)) is not None:
                yield section
        check = self._checker(top)
        for index, node in pending:
            if (section := check.section(index, node)) is not None:
                yield section
        self._spec = check.finish()

    def _checker(self, top: LineMap) -> CatalogCheck:
        if self._check is None:
            self._check = CatalogCheck(top, self.source, self.sha256, self.recipe_validator)
        return self._check

    def _cannot_read(self, exc: OSError) -> CatalogFileError:
        return CatalogFileError(f"{self.source}: cannot read catalog file: {exc.strerror}")


def load_catalog(
    path: str | Path | None = None, *, recipe_validator: RecipeValidator | None = None
) -> CatalogSpec:
    """Read and validate a whole catalog file; raise CatalogFileError listing every problem."""
    reader = CatalogReader(path, recipe_validator=recipe_validator)
    sections = list(reader.sections())
    reader.spec.sections = sections
    return reader.spec


def parse_catalog(
    data: Any,
    source: str,
    sha256: str = "",
    recipe_validator: RecipeValidator | None = None,
) -> CatalogSpec:
    """Validate parsed catalog data (mappings carrying line numbers, or plain dicts)."""
    data = with_lines(data)
    if not isinstance(data, LineMap):
        raise CatalogFileError(f"{source}:{NOT_A_MAPPING}")
    sections = data.get("sections")
    check = CatalogCheck(data, source, sha256, recipe_validator)
    found = []
    if isinstance(sections, list):
        for i, node in enumerate(sections):
            if (section := check.section(i, node)) is not None:
                found.append(section)
    spec = check.finish()
    spec.sections = found
    return spec
