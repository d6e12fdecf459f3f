"""A page's content fingerprint (title + main text shingles) and content drift against it.

The fingerprint is the title and a bottom-k sketch of the main text's word 3-shingles, after
noise is folded away: digits, dates (month and weekday names) and case. Two sketches are
compared by their overlap coefficient (|A ∩ B| / min(|A|, |B|)) on a shared hash range, so a page
that grew or lost a section still resembles itself, and one that shows something else does not.
"""

from __future__ import annotations

import base64
import re
import struct
import zlib
from dataclasses import dataclass

from shelfcheck.crawler.content.page import Page
from shelfcheck.crawler.content.wording import fold

SKETCH = 64             # hashes kept per page
MAX_CHARS = 50000       # of main text read: the page's own content starts well before
DRIFT_BELOW = 0.30      # text overlap under which a page has drifted
TITLE_ALIKE = 0.5       # title word overlap at or above which the title is the same
_WORD = re.compile(r"[^\W\d_]{2,}")
_NOISE_WORDS = frozenset((
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "today",
    "yesterday", "am", "pm"))


@dataclass(frozen=True)
class Fingerprint:
    """A page's title and text sketch."""

    title: str
    sketch: tuple[int, ...]

    def dump(self) -> str:
        """The sketch as text for the database (the title is stored beside it)."""
        return "v1:" + base64.b64encode(struct.pack(f">{len(self.sketch)}I",
                                                    *self.sketch)).decode()

    @classmethod
    def load(cls, title: str | None, text: str | None) -> Fingerprint | None:
        if not text or not text.startswith("v1:"):
            return None
        raw = base64.b64decode(text[3:])
        return cls(title or "", struct.unpack(f">{len(raw) // 4}I", raw))


def _tokens(text: str, folded: str | None = None) -> list[str]:
    return [w for w in _WORD.findall(fold(text) if folded is None else folded)
            if w not in _NOISE_WORDS]


def fingerprint(page: Page) -> Fingerprint:
    """The fingerprint of a page."""
    text = (page.main_text or page.text)[:MAX_CHARS]
    words = _tokens(text, page.fold(text))
    if len(words) < 3:
        words = _tokens(page.title) + words
    hashes = {zlib.crc32(" ".join(words[i:i + 3]).encode())
              for i in range(max(1, len(words) - 2))} if words else set()
    return Fingerprint(page.title.strip()[:300], tuple(sorted(hashes)[:SKETCH]))


def text_overlap(a: Fingerprint, b: Fingerprint) -> float:
    """Overlap coefficient of two sketches, estimated on their shared hash range."""
    if not a.sketch or not b.sketch:
        return 1.0 if a.sketch == b.sketch else 0.0
    limit = min(a.sketch[-1] if len(a.sketch) >= SKETCH else 2**32,
                b.sketch[-1] if len(b.sketch) >= SKETCH else 2**32)
    sa = {h for h in a.sketch if h <= limit}
    sb = {h for h in b.sketch if h <= limit}
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / min(len(sa), len(sb))


_TITLE_PARTS = re.compile(r"\s*\|\s*|\s+[\u2013\u2014\u00b7:»-]+\s+|:\s+")


def title_overlap(a: str, b: str) -> float:
    """How alike two titles are: the share of the shorter one's words the other has, after the
    parts both share (the site's name: "Course | Site") are set aside."""
    parts_a = [p for p in (fold(x) for x in _TITLE_PARTS.split(a)) if p]
    parts_b = [p for p in (fold(x) for x in _TITLE_PARTS.split(b)) if p]
    common = set(parts_a) & set(parts_b)
    rest_a = [p for p in parts_a if p not in common]
    rest_b = [p for p in parts_b if p not in common]
    if common and (not rest_a or not rest_b):
        return 1.0  # one title is the other with a part more
    wa, wb = set(_tokens(" ".join(rest_a))), set(_tokens(" ".join(rest_b)))
    if not wa or not wb:
        return 1.0 if wa == wb else 0.0
    return len(wa & wb) / min(len(wa), len(wb))


def drift(baseline: Fingerprint, now: Fingerprint, catalog_title: str | None = None) -> str | None:
    """Why the page now shows something else than its baseline, or None."""
    overlap = text_overlap(baseline, now)
    if overlap >= DRIFT_BELOW:
        return None
    # Title and text must both have changed: a listing page keeps its title while every
    # item on it turns over, and that is the page working.
    if title_overlap(baseline.title, now.title) >= TITLE_ALIKE:
        return None
    if catalog_title and title_overlap(catalog_title, now.title) >= 0.8 \
            and len(_tokens(catalog_title)) >= 2:
        return None
    return (f"the page now shows something else: was {baseline.title!r}, now {now.title!r} "
            f"({overlap:.0%} of its text alike)")
