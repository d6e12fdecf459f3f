"""The first screen of the report: the counts that need action, and what to fix first.

Both are derived from the report's lists, so the headline always equals the JSON summary.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass

from shelfcheck.catalog.states import LinkState
from shelfcheck.reports.model import Report
from shelfcheck.reports.templating import money, plural


@dataclass(frozen=True, slots=True)
class Count:
    """One headline count: its summary key, number, words and the section it links to."""

    key: str
    count: int
    text: str
    anchor: str


# summary key, singular, plural, section anchor; in the order a maintainer acts on them
HEADLINE = (
    ("broken", "broken link", "broken links", "broken"),
    ("redirected", "redirect to update", "redirects to update", "redirects"),
    ("no_url", "resource without a URL", "resources without a URL", "no-url"),
    ("fees_changed", "fee change to copy", "fee changes to copy", "training"),
    ("warnings", "warning", "warnings", "warnings"),
    ("unverifiable", "unverifiable link", "unverifiable links", "unverifiable"),
)


def headline(report: Report) -> list[Count]:
    """The non-zero counts that need action or attention, each with its section."""
    counts = []
    for key, one, many, anchor in HEADLINE:
        value = int(getattr(report.summary, key))
        if value:
            counts.append(Count(key, value, plural(value, one, many).split(" ", 1)[1], anchor))
    return counts


@dataclass(frozen=True, slots=True)
class Fix:
    """One line of "Fix these first"."""

    rank: int  # severity: lower first
    users: int  # resources that use the link
    what: str
    url: str | None
    hint: str
    anchor: str
    hint_url: str | None = None  # a replacement, or where to look for one


def fix_first(report: Report, limit: int = 10) -> tuple[list[Fix], int]:
    """The most urgent fixes, by severity and then by how many resources use the link;
    and how many more there are. Only the first `limit` are ever held."""
    counted = [0]

    def count(fixes: Iterator[Fix]) -> Iterator[Fix]:
        for fix in fixes:
            counted[0] += 1
            yield fix

    first = heapq.nsmallest(limit, count(_fixes(report)), key=lambda f: (f.rank, -f.users))
    return first, max(0, counted[0] - limit)


def _fixes(report: Report) -> Iterator[Fix]:
    for link in report.links_in(LinkState.BROKEN):
        hint = "replace or remove it" + ("; look for an archived copy at" if link.suggestion
                                          else "")
        yield Fix(0, len(link.resources), _used_by(link.resources, "broken"), link.url,
                  hint, "broken", link.suggestion)
    for res in report.no_url:
        yield Fix(1, 1, f"{res.title} has no URL", None, "add its URL", "no-url")
    for link in report.links_in(LinkState.REDIRECTED):
        hint = "change it to" if link.redirect_target else "update it"
        yield Fix(2, len(link.resources), _used_by(link.resources, "moved"), link.url,
                  hint, "redirects", link.redirect_target)
    for group in report.training:
        for change in group.fee_changed:
            tier = f" ({change.tier})" if change.tier else ""
            yield Fix(3, 1, f"{group.name}: fee of {change.title or '(untitled)'}{tier}",
                      change.url, f"{money(change.old, change.currency)} → "
                      f"{money(change.new, change.currency)}", "training")
    for row in report.open_providers:
        what = "cannot be reached" if row.kind == "provider_unreachable" else "recipe drift"
        yield Fix(4, 1, f"{row.provider_name or row.provider}: {what}", row.url,
                  "check the listing and its recipe", "still-open")


def _used_by(resources: tuple[str, ...], what: str) -> str:
    if not resources:
        return f"a link is {what}"
    first = resources[0]
    more = f" and {plural(len(resources) - 1, 'other')}" if len(resources) > 1 else ""
    return f"{first}{more}: link {what}"
