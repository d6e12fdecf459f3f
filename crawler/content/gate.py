"""A literal gate in front of a phrase regex: skip the regex when no text it could match is there.

A long alternation of phrases, each starting at a word boundary, costs Python's `re` a try of
every branch at every word of a page (about 0.2 ms for a short page). Most pages contain none of
the words any branch needs, and a substring test says so in microseconds. The gate is derived
from the compiled pattern itself, so it cannot drift from the phrase lists: for each branch, a
set of literals one of which every match of that branch contains (a literal run of its
top-level sequence, or one literal per alternative of a required group). Where a branch has no
such literal, there is no gate and the regex always runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

MIN_LITERAL = 3  # shorter literals are in nearly every text: no gate


def _best(candidates: list[frozenset[str]]) -> frozenset[str] | None:
    def shortest(c: frozenset[str]) -> int:  # " is " is as common as "is"
        return min(len(literal.strip()) for literal in c)

    usable = [c for c in candidates if c and shortest(c) >= MIN_LITERAL]
    if not usable:
        return None
    return max(usable, key=lambda c: (shortest(c), -len(c)))


def _required(items: Any) -> frozenset[str] | None:
    """Literals one of which every match of the parsed sequence `items` contains, or None."""
    candidates: list[frozenset[str]] = []
    run: list[str] = []

    def close_run() -> None:
        if run:
            candidates.append(frozenset(["".join(run)]))
            run.clear()

    for op, av in items:
        if op is sre.LITERAL:
            run.append(chr(av))
            continue
        close_run()
        if op is sre.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if not add_flags and not del_flags:
                found = _required(sub)
                if found is not None:
                    candidates.append(found)
        elif op is sre.BRANCH:
            branches = [_required(b) for b in av[1]]
            if branches and all(b is not None for b in branches):
                candidates.append(frozenset().union(*branches))  # type: ignore[arg-type]
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and av[0] >= 1:
            found = _required(av[2])
            if found is not None:
                candidates.append(found)
    close_run()
    return _best(candidates)


def required_literals(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """The gate of a compiled pattern: literals one of which every match contains, or None
    (case-insensitive and verbose patterns get none)."""
    if pattern.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    return _required(sre_parse.parse(pattern.pattern, pattern.flags))


class Phrases:
    """A compiled phrase regex behind its literal gate; `search` and `finditer` answer as the
    regex does."""

    def __init__(self, regex: re.Pattern[str]) -> None:
        self.regex = regex
        self.pattern = regex.pattern
        self.gate = required_literals(regex)

    def _open(self, text: str) -> bool:
        return self.gate is None or any(literal in text for literal in self.gate)

    def search(self, text: str) -> re.Match[str] | None:
        return self.regex.search(text) if self._open(text) else None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.regex.finditer(text) if self._open(text) else iter(())
