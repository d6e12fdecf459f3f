"""One copy of each repeated text of a report.

The same URL, resource title, section, provider or verdict comes from several queries (the
links, the changes, the checks since) as a new string each time; a report holds them once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import overload


class Shared:
    """Returns the first string equal to the one given, for the life of one report."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}

    @overload
    def __call__(self, value: str) -> str: ...

    @overload
    def __call__(self, value: None) -> None: ...

    @overload
    def __call__(self, value: str | None) -> str | None: ...

    def __call__(self, value: str | None) -> str | None:
        if value is None:
            return None
        return self._seen.setdefault(value, value)

    def all(self, values: Iterable[str]) -> tuple[str, ...]:
        """The values, each shared, in order and without repeats."""
        return tuple(dict.fromkeys(self(v) for v in values))
