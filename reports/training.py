"""The report's training part: offering and fee changes by provider, and upcoming offerings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from shelfcheck.catalog.queries import offering_rows
from shelfcheck.reports.model import ChangeRow, FeeRow, ProviderChanges, UpcomingRow


def training_changes(changes: list[ChangeRow]) -> list[ProviderChanges]:
    """Offering and fee changes grouped by provider (by slug; events without one last)."""
    groups: dict[str | None, ProviderChanges] = {}
    for change in changes:
        if change.kind not in _TRAINING_LISTS and change.kind != "offering_ended":
            continue
        group = groups.get(change.provider)
        if group is None:
            group = ProviderChanges(change.provider, change.provider_name or "(no provider)")
            groups[change.provider] = group
        if change.kind == "offering_ended":
            group.ended += 1
        else:
            getattr(group, _TRAINING_LISTS[change.kind]).append(change)
    return sorted(groups.values(), key=lambda g: (g.slug is None, g.slug or ""))


_TRAINING_LISTS = {
    "fee_changed": "fee_changed",
    "offering_added": "added",
    "offering_removed": "removed",
    "offering_rescheduled": "rescheduled",
    "offering_updated": "updated",
}


def upcoming_offerings(session: Session, start: datetime, end: datetime) -> list[UpcomingRow]:
    """Active offerings starting in [start, end), in start order."""
    rows = [
        UpcomingRow(
            provider=row.provider, provider_name=row.provider_name, title=row.title,
            url=row.url, format=row.format, start=row.start_at, end=row.end_at,
            timezone=row.timezone, fee_known=row.fee_known,
            fees=tuple(FeeRow(f.tier, f.amount, f.currency) for f in row.fees),
        )
        for row in offering_rows(session, upcoming_from=start, upcoming_until=end)
        if row.start_at is not None
    ]
    return sorted(rows, key=lambda r: (r.start, r.provider, r.title))
