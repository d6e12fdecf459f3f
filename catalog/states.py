"""The states of links, resources, runs, offerings and providers, and the kinds of runs: each
closed set declared once, here.

The models map these StrEnums onto their string columns (`sqlalchemy.Enum` with
``native_enum=False``: a VARCHAR holding the value, so databases written before need no data
migration). A member equals its value (``LinkState.OK == "ok"``), so code and queries may use
either. Add a member here and nowhere else.
"""

from __future__ import annotations

from enum import StrEnum

from shelfcheck.errors import ExitCode


class LinkState(StrEnum):
    """The health of a link, moved by `catalog.linkstate.transition`."""

    OK = "ok"
    REDIRECTED = "redirected"  # permanently redirected: the guide should use the new URL
    BROKEN = "broken"  # failed `confirm_after` checks in a row
    UNVERIFIABLE = "unverifiable"  # the site would not tell (blocked, rate limited)
    UNKNOWN = "unknown"  # never checked


class ResourceState(StrEnum):
    """A resource of the guide: retired (not deleted) when dropped from the catalog file."""

    ACTIVE = "active"
    RETIRED = "retired"


class RunOutcome(StrEnum):
    """How a run of a step ended (`running` while it runs)."""

    OK = "ok"
    INCONCLUSIVE = "inconclusive"  # looked like our own network failed; nothing was changed
    FAILED = "failed"
    ABORTED = "aborted"  # its process stopped without finishing
    RUNNING = "running"

    @property
    def exit_code(self) -> ExitCode:
        """The exit status of a command whose step ended so."""
        return _OUTCOME_EXIT.get(self, ExitCode.FAILED)


_OUTCOME_EXIT = {RunOutcome.OK: ExitCode.OK, RunOutcome.INCONCLUSIVE: ExitCode.INCONCLUSIVE}


class RunKind(StrEnum):
    """The step a run belongs to (`refresh` sequences them; each records its own run)."""

    SYNC = "sync"
    LINKS = "links"
    LISTINGS = "listings"
    REPORT = "report"


class Step(StrEnum):
    """A step of `refresh`, in its order: the four that record a run of their RunKind, then the
    exports. RECOVER is the line before them when runs left `running` were marked aborted."""

    SYNC = RunKind.SYNC.value
    LINKS = RunKind.LINKS.value
    LISTINGS = RunKind.LISTINGS.value
    REPORT = RunKind.REPORT.value
    EXPORTS = "exports"
    RECOVER = "recover"


class OfferingState(StrEnum):
    """An offering of a provider's listing."""

    ACTIVE = "active"
    REMOVED = "removed"  # disappeared from a complete, healthy crawl before its end
    ENDED = "ended"


class OfferingStatus(StrEnum):
    """What a listing says about registering for an offering (None: nothing said)."""

    OPEN = "open"
    FULL = "full"
    WAITLIST = "waitlist"
    SOLD_OUT = "sold_out"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class HealthState(StrEnum):
    """The listing health of a provider."""

    OK = "ok"
    UNREACHABLE = "unreachable"
    DRIFT = "drift"


NO_URL = "no_url"
"""The link state shown for a resource that has no URL (it has no link)."""

RESOURCE_LINK_STATES = (*LinkState, NO_URL)
"""What the exports show as a resource's link state."""


ALL_STATES: dict[str, type[StrEnum]] = {
    "link.state": LinkState,
    "resource.state": ResourceState,
    "crawl_run.outcome": RunOutcome,
    "offering.state": OfferingState,
    "offering.status": OfferingStatus,
}
"""Each state column (table.column) and the enum it holds."""
