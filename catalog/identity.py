"""Which stored offering a crawled record is: identity beyond the URL.

The rungs, in order (docs/listings.md, "Identity"):

1. **platform id**: the platform's own id of the item (`woocommerce:123`, `sku:ABC`, `node:55`),
   when the record and the stored offering both carry one. A crawl in which two records claim
   the same id uses neither (an id that is not unique is not an identity).
2. **key**: the canonical URL (or provider + normalized title + start when there is no URL),
   unless both sides carry different platform ids (a URL reused for another product).
3. **redirect**: the stored offering's URL now redirects to the record's URL.
4. **similarity**: for what is left, a normalized title similarity of at least
   `TITLE_SIMILARITY`, the same start (or the same "unscheduled" / "self-paced"), the same fees,
   no distinguishing number or series word ("Part 1" / "Part 2", "Level II"), and no word
   replaced by another ("… for Adults" / "… for Teens"; a respelling is not a replacement). A
   pair is used only when neither side has another candidate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelfcheck.catalog.listing import OfferingData, normalize_title
from shelfcheck.catalog.models import Offering, Provider
from shelfcheck.catalog.states import OfferingState

TITLE_SIMILARITY = 0.8
"""The least `difflib` ratio of two normalized titles for rung 4."""

RUNGS = ("platform id", "key", "redirect", "similar title")
"""How a record was matched to its offering, in the order the rungs are tried."""

_ROMAN = re.compile(r"^(?:i{1,3}|iv|v|vi{1,3}|ix|x)$")
_DISTINCT_WORDS = frozenset({
    "part", "level", "module", "unit", "session", "week", "day", "beginner", "beginners",
    "intermediate", "advanced", "basic", "basics", "one", "two", "three", "four", "five",
    "six", "first", "second", "third", "fourth", "spring", "summer", "fall", "autumn", "winter",
})
_STOPWORDS = frozenset({"a", "an", "the", "of", "for", "and", "to", "in", "on", "with", "at",
                        "by", "from", "your", "our"})
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Match:
    """A record matched to a stored offering, and the rung that matched it."""

    offering: Offering
    rung: str


def tier_key(label: str) -> str:
    """A fee tier's label reduced for comparison: case, hyphens, spaces and plurals dropped
    ("Non-members" and "nonmember" are one tier)."""
    words = _WORD.findall(label.casefold().replace("-", ""))
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words)


def title_similarity(a: str, b: str) -> float:
    """The difflib ratio of two normalized titles (1.0: the same)."""
    return SequenceMatcher(None, normalize_title(a), normalize_title(b), autojunk=False).ratio()


def _near(a: str, b: str) -> bool:
    """Two spellings of one word: a typo, a variant spelling, an abbreviation."""
    if min(len(a), len(b)) >= 3 and (a.startswith(b) or b.startswith(a)):
        return True
    return SequenceMatcher(None, a, b).ratio() >= 0.75


def distinguished(a: str, b: str) -> bool:
    """True when two titles name different things: the words they do not share include a
    number, a roman numeral or a word that tells courses of a series apart ("Part 1" /
    "Part 2", "Basic" / "Advanced"), or a word was replaced by another word (not a respelling
    of it): "Readers' Advisory for Adults" / "… for Teens"."""
    old = set(_WORD.findall(normalize_title(a))) - _STOPWORDS
    new = set(_WORD.findall(normalize_title(b))) - _STOPWORDS
    only_old, only_new = old - new, new - old
    if any(w.isdigit() or _ROMAN.match(w) or w in _DISTINCT_WORDS for w in only_old | only_new):
        return True
    for word in sorted(only_old):
        twin = next((w for w in sorted(only_new) if _near(word, w)), None)
        if twin is not None:
            only_old.discard(word)
            only_new.discard(twin)
    return bool(only_old) and bool(only_new)


def conflicting(a: str | None, b: str | None) -> bool:
    """Two platform ids of the same kind that differ (`wp:1` / `wp:2`); ids of different kinds
    (`sku:X` from structured data, `wp:N` from markup when a detail page failed) say nothing."""
    if not a or not b or a == b:
        return False
    return a.split(":", 1)[0] == b.split(":", 1)[0]


def _fee_signature(known: bool, tiers: Sequence[tuple[str, Decimal]]) -> frozenset[
        tuple[str, Decimal]] | None:
    return frozenset((tier_key(label), amount) for label, amount in tiers) if known else None


def _same_when(offering: Offering, data: OfferingData) -> bool:
    if offering.schedule != data.schedule:
        return False
    return offering.schedule != "scheduled" or offering.start_at == data.start


def similar(offering: Offering, data: OfferingData) -> bool:
    """Rung 4: similar titles, the same start (or schedule) and the same fees."""
    if conflicting(offering.platform_id, data.platform_id):
        return False
    if not _same_when(offering, data):
        return False
    old_fees = _fee_signature(offering.fee_known, [(t.tier, t.amount) for t in offering.fees])
    new_fees = _fee_signature(data.fee_known, [(f.tier, f.amount) for f in data.fees])
    if old_fees != new_fees:
        return False
    if distinguished(offering.title, data.title):
        return False
    return title_similarity(offering.title, data.title) >= TITLE_SIMILARITY


def unique_platform_ids(records: Sequence[tuple[str, OfferingData]]) -> set[str]:
    """The platform ids that exactly one record of a crawl carries."""
    counts: dict[str, int] = {}
    for _key, data in records:
        if data.platform_id:
            counts[data.platform_id] = counts.get(data.platform_id, 0) + 1
    return {pid for pid, n in counts.items() if n == 1}


def match_records(records: Sequence[tuple[str, OfferingData]],
                  existing: Mapping[str, Offering],
                  redirects: Mapping[str, str]) -> dict[int, Match]:
    """Record index -> the stored offering it is, by the rungs in the module docstring.

    `existing` maps keys to the provider's stored offerings; `redirects` maps an old canonical
    URL to the canonical URL it redirects to now.
    """
    matches: dict[int, Match] = {}
    used: set[int] = set()

    def take(index: int, offering: Offering, rung: str) -> None:
        matches[index] = Match(offering, rung)
        used.add(id(offering))

    unique = unique_platform_ids(records)
    by_pid = {o.platform_id: o for o in existing.values() if o.platform_id}
    for i, (_key, data) in enumerate(records):
        pid = data.platform_id if data.platform_id in unique else None
        if pid and (o := by_pid.get(pid)) is not None and id(o) not in used:
            take(i, o, RUNGS[0])
    for i, (key, data) in enumerate(records):
        o = existing.get(key)
        if i in matches or o is None or id(o) in used:
            continue
        pid = data.platform_id if data.platform_id in unique else None
        if conflicting(o.platform_id, pid):
            continue
        take(i, o, RUNGS[1])
    redirected_to: dict[str, list[str]] = {}
    for old, new in redirects.items():
        redirected_to.setdefault(new, []).append(old)
    for i, (key, _data) in enumerate(records):
        if i in matches:
            continue
        olds = [existing[k] for k in redirected_to.get(key, []) if k in existing]
        free = [o for o in olds if id(o) not in used]
        if len(free) == 1:
            take(i, free[0], RUNGS[2])
    buckets: dict[tuple[str, object], list[Offering]] = {}
    for o in existing.values():
        if id(o) not in used and o.state == OfferingState.ACTIVE:
            when = o.start_at if o.schedule == "scheduled" else None
            buckets.setdefault((o.schedule, when), []).append(o)
    pairs = [(i, o) for i, (_key, data) in enumerate(records) if i not in matches
             for o in buckets.get((data.schedule, data.start if data.schedule == "scheduled"
                                   else None), []) if similar(o, data)]
    for i, o in pairs:
        if sum(1 for j, p in pairs if j == i or p is o) == 1:
            take(i, o, RUNGS[3])
    return matches


def listed_urls(session: Session, slugs: Sequence[str]) -> dict[str, frozenset[str]]:
    """The URLs of each provider's active offerings (what the walk checks for redirects)."""
    rows = session.execute(
        select(Provider.slug, Offering.url).join(Offering.provider)
        .where(Provider.slug.in_(list(slugs)), Offering.state == OfferingState.ACTIVE,
               Offering.url.is_not(None)))
    out: dict[str, set[str]] = {}
    for slug, url in rows:
        if url:
            out.setdefault(slug, set()).add(url)
    return {slug: frozenset(urls) for slug, urls in out.items()}
