"""Bounds on values read from the web: an absurd fee or date is not believed.

A fee that is negative, not a number, malformed ("$1,00.0") or above `MAX_FEE`, and a time
outside the years `MIN_YEAR` to `MAX_YEARS_AHEAD` years from now (year 1, year 9999), is dropped
as a candidate with a warning. Another source may still give the field; when none does, the
offering keeps the raw text (``fee_raw``, ``start_raw``) and an unknown value, never a guess,
and an offering already in the catalog keeps its previous value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from shelfcheck.crawler.extract.fees import Fees
from shelfcheck.crawler.extract.model import Candidate

MAX_FEE = Decimal("100000")
MIN_YEAR = 1970
MAX_YEARS_AHEAD = 10
TIME_FIELDS = ("start", "end")


def fee_problem(fees: Fees) -> str | None:
    """Why a fee is not believed, or None."""
    if fees.problem:
        return fees.problem
    for tier in fees.tiers:
        shown = tier.raw or str(tier.amount)
        if not tier.amount.is_finite():
            return f"amount {shown!r} is not a number"
        if tier.amount < 0:
            return f"negative amount {shown!r}"
        if tier.amount > MAX_FEE:
            return f"amount {shown!r} is above {MAX_FEE}"
    return None


def time_problem(value: datetime, now: datetime | None = None) -> str | None:
    """Why a time is not believed (its year is implausible), or None."""
    latest = (now or datetime.now(UTC)).year + MAX_YEARS_AHEAD
    if not MIN_YEAR <= value.year <= latest:
        return f"the year {value.year} is outside {MIN_YEAR}-{latest}"
    return None


@dataclass(frozen=True)
class Rejected:
    """A candidate that was not believed, and why."""

    candidate: Candidate
    problem: str

    @property
    def raw(self) -> str:
        """The text it came from."""
        value = self.candidate.value
        if isinstance(value, Fees):
            return value.raw or self.candidate.raw or ""
        return self.candidate.raw or str(value)

    @property
    def warning(self) -> str:
        """The offering's warning: field, raw text, source and problem."""
        source = self.candidate.source + (f" ({self.candidate.detail})"
                                          if self.candidate.detail else "")
        return (f"fields.{self.candidate.field}: {self.raw!r} from {source}: {self.problem}; "
                "kept as raw text")


def screen(candidates: list[Candidate]) -> tuple[list[Candidate], list[Rejected]]:
    """Split candidates into the believable ones and the rejected absurd fees and times."""
    kept: list[Candidate] = []
    rejected: list[Rejected] = []
    for cand in candidates:
        problem = None
        if cand.field == "fee" and isinstance(cand.value, Fees):
            problem = fee_problem(cand.value)
        elif cand.field in TIME_FIELDS and isinstance(cand.value, datetime):
            problem = time_problem(cand.value)
        if problem:
            rejected.append(Rejected(cand, problem))
        else:
            kept.append(cand)
    return kept, rejected
