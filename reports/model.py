"""The report model: what one report says, built from the database by `reports.build`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shelfcheck.catalog.dismissals import Dismissal
from shelfcheck.catalog.events import kinds_in
from shelfcheck.catalog.states import LinkState, RunOutcome

SCHEMA = "shelfcheck.report/1"

LINK_STATES = (LinkState.BROKEN, LinkState.REDIRECTED, LinkState.UNVERIFIABLE)
"""The link states the report lists (`ok` and never-checked `unknown` links are only counted)."""

TRAINING_KINDS = kinds_in("training")
BAD_RUN_OUTCOMES = (RunOutcome.INCONCLUSIVE, RunOutcome.FAILED, RunOutcome.ABORTED)


@dataclass(frozen=True, slots=True)
class RunRow:
    """A links or listings run that overlaps the period."""

    id: int
    kind: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str  # ok | inconclusive | failed | aborted | running
    detail: str | None


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One change event of the period, with its provider resolved."""

    id: int
    kind: str
    severity: str
    message: str
    detected_at: datetime
    run_id: int | None
    url: str | None
    provider: str | None
    provider_name: str | None
    resources: tuple[str, ...]
    sections: tuple[str, ...]
    title: str | None
    old: str | None
    new: str | None
    tier: str | None
    verdict: str | None
    http_status: int | None
    detail: str | None
    start: datetime | None = None  # the offering's start, for offering events
    end: datetime | None = None
    recipe: dict[str, Any] | None = None  # the provider's recipe, for extractor_drift
    currency: str | None = None  # of the tier, for fee_changed
    count: int = 1  # the same event from several runs of the period, merged
    last_detected_at: datetime | None = None  # the last of them (None when count is 1)


@dataclass(frozen=True, slots=True)
class LinkRow:
    """The current state of a link that is not ok, and who uses it."""

    url: str
    state: str
    verdict: str | None
    verdict_message: str | None
    http_status: int | None
    detail: str | None
    since: datetime | None
    first_failed: datetime | None
    last_checked: datetime | None
    redirect_target: str | None
    suggestion: str | None
    resources: tuple[str, ...]
    sections: tuple[str, ...]
    providers: tuple[str, ...]
    new: bool  # went into this state during the period
    dismissed: Dismissal | None = None  # a dismissal that holds


@dataclass(frozen=True, slots=True)
class OpenRow:
    """An ongoing problem, once however many runs saw it: a provider's or a link's."""

    kind: str  # the event kind that marked its start
    severity: str
    provider: str | None
    provider_name: str | None
    url: str | None
    title: str | None
    since: datetime | None
    runs: int  # the runs (crawls or checks) that saw it
    last_seen: datetime | None
    detail: str | None
    resources: tuple[str, ...] = ()
    recipe: dict[str, Any] | None = None  # the provider's recipe, for extractor_drift
    new: bool = False  # started in the period

    @property
    def is_link(self) -> bool:
        """True for a link's problem, False for a provider's."""
        return self.kind.startswith("link_")


@dataclass(frozen=True, slots=True)
class NotCheckedRow:
    """A link in use that is not checked (`check: false`, or `link_exclude`), and why."""

    url: str
    reason: str  # one of catalog.notchecked.REASONS
    state: str  # the last stored state; it no longer moves
    last_checked: datetime | None
    resources: tuple[str, ...]
    sections: tuple[str, ...]
    providers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NoUrlRow:
    """An active resource that has no URL."""

    title: str
    section: str
    provider: str | None


@dataclass(frozen=True, slots=True)
class FeeRow:
    """One fee tier; the amount is a decimal string."""

    tier: str
    amount: str
    currency: str


@dataclass(frozen=True, slots=True)
class UpcomingRow:
    """An active offering that starts in the 30 days after the period."""

    provider: str
    provider_name: str
    title: str
    url: str | None
    format: str | None
    start: datetime
    end: datetime | None
    timezone: str | None
    fee_known: bool
    fees: tuple[FeeRow, ...]


@dataclass
class ProviderChanges:
    """The training changes of one provider; ended offerings are only counted."""

    slug: str | None
    name: str
    fee_changed: list[ChangeRow] = field(default_factory=list)
    added: list[ChangeRow] = field(default_factory=list)
    removed: list[ChangeRow] = field(default_factory=list)
    rescheduled: list[ChangeRow] = field(default_factory=list)
    updated: list[ChangeRow] = field(default_factory=list)
    ended: int = 0


@dataclass(frozen=True, slots=True)
class RunWarning:
    """A run that did not give a usable result: inconclusive, failed or aborted."""

    run_id: int | None
    kind: str | None
    outcome: str
    at: datetime
    detail: str | None


@dataclass
class Summary:
    """The counts at the top of the report; each one is the length of a list in the report."""

    links_checked: int = 0
    broken: int = 0
    redirected: int = 0
    unverifiable: int = 0
    unchecked: int = 0
    no_url: int = 0
    recovered: int = 0
    offerings_added: int = 0
    offerings_removed: int = 0
    offerings_rescheduled: int = 0
    offerings_updated: int = 0
    offerings_ended: int = 0
    fees_changed: int = 0
    warnings: int = 0
    dismissed: int = 0  # links dismissed by a maintainer; not in broken and the rest
    open: int = 0  # ongoing problems (the `open` list)
    not_checked: int = 0  # links not checked: `check: false` or `link_exclude`; in no other count

    @property
    def actions(self) -> int:
        """Edits a maintainer has to make: broken links, redirects, missing URLs, fees."""
        return self.broken + self.redirected + self.no_url + self.fees_changed


@dataclass
class Report:
    """One report: the period, the runs, every change event, and the current problems."""

    generated_at: datetime
    period_start: datetime
    period_end: datetime
    timezone: str
    summary: Summary
    runs: list[RunRow]
    changes: list[ChangeRow]
    links: list[LinkRow]
    no_url: list[NoUrlRow]
    training: list[ProviderChanges]
    open: list[OpenRow]
    run_warnings: list[RunWarning]
    recovered: list[ChangeRow]
    upcoming: list[UpcomingRow]
    upcoming_days: int = 30
    inconclusive: str | None = None  # why nothing could be checked in the period, if so
    not_checked: list[NotCheckedRow] = field(default_factory=list)
    schema: str = SCHEMA

    def links_in(self, state: str) -> list[LinkRow]:
        """The listed links in `state` that are not dismissed."""
        return [link for link in self.links if link.state == state and link.dismissed is None]

    @property
    def dismissed_links(self) -> list[LinkRow]:
        """The links a dismissal holds for."""
        return [link for link in self.links if link.dismissed is not None]

    @property
    def open_providers(self) -> list[OpenRow]:
        """The ongoing provider problems (unreachable, drift)."""
        return [row for row in self.open if not row.is_link]

    @property
    def providers_recovered(self) -> list[ChangeRow]:
        """Providers whose listing could be read again in the period."""
        return [c for c in self.changes if c.kind == "provider_recovered"]

    @property
    def nothing_to_act_on(self) -> bool:
        """True when the Action needed section is empty."""
        return not (self.summary.broken or self.summary.redirected or self.no_url)

    @property
    def has_warnings(self) -> bool:
        """True when the Warnings section has something in it."""
        return bool(self.summary.unverifiable or self.open_providers or self.run_warnings)

    @property
    def is_quiet(self) -> bool:
        """True when there were no runs, no changes and no link or resource needs attention."""
        return not (self.runs or self.changes or self.links or self.no_url)
