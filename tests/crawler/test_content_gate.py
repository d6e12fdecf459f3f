"""The literal gate before the phrase regexes (crawler.content.gate) never changes an answer."""

from __future__ import annotations

import re

import pytest

from shelfcheck.crawler.content import wording
from shelfcheck.crawler.content.gate import Phrases, required_literals
from shelfcheck.crawler.content.page import parse_page
from tests.corpus.verdicts.generate import build

PHRASES = {name: value for name, value in vars(wording).items() if isinstance(value, Phrases)}


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """Folded titles, headings and texts of every corpus page, and a few phrases of each list."""
    out = []
    for case in build():
        page = parse_page(case.body, case.content_type)
        out += [page.fold(t) for t in (page.title, page.heading, page.main_text, page.text)]
    out += ["the page you requested cannot be found", "error 404", "we'll be back soon",
            "down for maintenance", "sign in", "this domain is for sale", "nothing here", ""]
    return out


def test_every_phrase_list_has_a_gate() -> None:
    assert set(PHRASES) >= {"NOT_FOUND_HEADING", "NOT_FOUND_TEXT", "MAINTENANCE", "LOGIN",
                            "MAINTENANCE_NOUN", "AWAY_FOR_NOW", "PARKED_TEXT"}
    for name, phrases in PHRASES.items():
        assert phrases.gate, name


@pytest.mark.parametrize("name", sorted(PHRASES))
def test_the_gate_gives_the_regex_answer(name: str, texts: list[str]) -> None:
    phrases = PHRASES[name]
    closed = 0
    for text in texts:
        plain = phrases.regex.search(text)
        gated = phrases.search(text)
        assert (gated and gated.span()) == (plain and plain.span()), (name, text[:200])
        assert [m.span() for m in phrases.finditer(text)] == \
            [m.span() for m in phrases.regex.finditer(text)]
        closed += not phrases._open(text)
    assert closed, f"{name}: the gate never skipped the regex on the corpus"


@pytest.mark.parametrize(("pattern", "gate"), [
    (r"\bnot found\b", {"not found"}),
    (r"\b(page|file) (is )?gone\b", {"gone"}),            # a required run after a group
    (r"\b(the )?(document|record)s? missing", {" missing"}),
    (r"\b(document|record)s?\b", {"document", "record"}),  # one literal per alternative
    (r"\b(ab|record)\b", None),                           # "ab": too short to gate on
    (r"(?:\bfoo bar\b)|(?:\b\w+ed\b)", None),             # a branch without a literal
    (r"\b(?:xyz)?abc", {"abc"}),                          # an optional group gives nothing
    (r"(?:wxyz)+", {"wxyz"}),
])
def test_gates_are_derived_from_what_every_match_contains(pattern: str,
                                                         gate: set[str] | None) -> None:
    found = required_literals(re.compile(pattern))
    assert (set(found) if found is not None else None) == gate


def test_case_insensitive_patterns_get_no_gate() -> None:
    assert required_literals(re.compile(r"\bnot found\b", re.I)) is None
    phrases = Phrases(re.compile(r"\bnot found\b", re.I))
    assert phrases.search("Page NOT FOUND") is not None
