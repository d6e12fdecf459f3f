"""What a validated catalog file declares: its guide, providers and sections of resources."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SCHEMA = "shelfcheck.catalogfile/1"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")

RecipeValidator = Callable[[str, dict[str, Any]], list[tuple[str, str]]]
"""Checks a provider's recipe; returns (key path, problem) pairs."""


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
