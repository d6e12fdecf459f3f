"""The period's change events as report rows: provider resolved, contract values typed.

A fee change carries its currency, and the old and new values of fee and schedule changes are
typed as the JSON contract says (a stored value that is not moves to the detail).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from shelfcheck.catalog.events import EVENT_KINDS
from shelfcheck.catalog.models import ChangeEvent, FeeTier, Offering, Provider, Resource
from shelfcheck.catalog.states import ResourceState
from shelfcheck.reports.model import ChangeRow
from shelfcheck.reports.shared import Shared

STREAM = {"yield_per": 1000}


def period_changes(session: Session, start: datetime, end: datetime,
                   share: Shared | None = None) -> Iterator[ChangeRow]:
    """Every change event in [start, end), oldest first, with its provider resolved; `share`
    keeps one copy of each text.

    The provider is the event's own, else its offering's, else that of a resource using its link.
    """
    share = share or Shared()
    link_provider = (
        select(func.min(Resource.provider_id))
        .where(Resource.link_id == ChangeEvent.link_id, Resource.state == ResourceState.ACTIVE)
        .correlate(ChangeEvent)
        .scalar_subquery()
    )
    provider_id = func.coalesce(ChangeEvent.provider_id, Offering.provider_id, link_provider)
    currency = (
        select(func.min(FeeTier.currency))
        .where(FeeTier.offering_id == ChangeEvent.offering_id,
               FeeTier.tier == func.coalesce(ChangeEvent.tier, ""))
        .correlate(ChangeEvent)
        .scalar_subquery()
    )
    query = (
        select(
            ChangeEvent.id, ChangeEvent.kind, ChangeEvent.severity, ChangeEvent.detected_at,
            ChangeEvent.run_id, ChangeEvent.url, ChangeEvent.title, ChangeEvent.tier,
            ChangeEvent.old, ChangeEvent.new, ChangeEvent.verdict, ChangeEvent.http_status,
            ChangeEvent.detail, ChangeEvent.resources, ChangeEvent.sections,
            Offering.title, Offering.url, Offering.start_at, Offering.end_at,
            Provider.slug, Provider.name,
            case((ChangeEvent.kind == "fee_changed", currency), else_=None),
        )
        .outerjoin(Offering, Offering.id == ChangeEvent.offering_id)
        .outerjoin(Provider, Provider.id == provider_id)
        .where(ChangeEvent.detected_at >= start, ChangeEvent.detected_at < end)
        .order_by(ChangeEvent.detected_at, ChangeEvent.id)
        .execution_options(**STREAM)
    )
    drift_slugs: set[str] = set()
    rows: list[ChangeRow] = []
    for (id_, kind, severity, detected_at, run_id, url, title, tier, old, new, verdict,
         http_status, detail, resources, sections, off_title, off_url, off_start, off_end,
         slug, name, fee_currency) in session.execute(query):
        spec = EVENT_KINDS.get(kind)
        if kind in _CONTRACT:
            old, new, detail = _contract_values(kind, old, new, detail)
            if kind == "fee_changed":
                tier = tier or ""  # "" is the tier of a single price
                fee_currency = fee_currency or _currency_of(detail)
        if kind == "extractor_drift" and slug:
            drift_slugs.add(slug)
        rows.append(ChangeRow(
            id=id_, kind=share(kind), severity=share(severity),
            message=spec.message if spec else kind, detected_at=detected_at, run_id=run_id,
            url=share(url or off_url), provider=share(slug), provider_name=share(name),
            resources=tuple(share(r) for r in resources or ()),
            sections=tuple(share(s) for s in sections or ()),
            title=share(title if title is not None else off_title), old=old, new=new, tier=tier,
            verdict=share(verdict), http_status=http_status, detail=share(detail), start=off_start,
            end=off_end, currency=fee_currency if kind == "fee_changed" else None,
        ))
    if not drift_slugs:
        yield from rows
        return
    query_recipes = select(Provider.slug, Provider.recipe).where(Provider.slug.in_(drift_slugs))
    recipes = {slug: recipe for slug, recipe in session.execute(query_recipes)}
    for row in rows:
        if row.kind == "extractor_drift" and row.provider in recipes:
            yield _with_recipe(row, recipes[row.provider])
        else:
            yield row


_CURRENCY = re.compile(r"([A-Z]{3}):")


def _currency_of(detail: str | None) -> str | None:
    """The currency a fee_changed event's detail starts with ("USD: ..."), when it does."""
    match = _CURRENCY.match(detail or "")
    return match.group(1) if match else None


def _with_recipe(row: ChangeRow, recipe: dict[str, Any] | None) -> ChangeRow:
    return replace(row, recipe=recipe)


def _amount(value: str) -> str | None:
    """A fee amount as a decimal string with two places ("200" -> "200.00"), or None."""
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    return f"{amount:.2f}" if amount == amount.quantize(Decimal("0.01")) else str(amount)


def _date_or_time(value: str) -> str | None:
    """An ISO 8601 date, or an aware time normalized to UTC, or None."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC).isoformat() if parsed.tzinfo else None


_CONTRACT = {"fee_changed": (_amount, "an amount"),
             "offering_rescheduled": (_date_or_time, "a date or a time with an offset")}


def _contract_values(
    kind: str, old: str | None, new: str | None, detail: str | None
) -> tuple[str | None, str | None, str | None]:
    """Old and new as the JSON contract types them; a stored value that is not moves to detail."""
    convert, what = _CONTRACT[kind]
    notes = [detail] if detail else []
    values: list[str | None] = []
    for name, value in (("old", old), ("new", new)):
        converted = convert(value) if value is not None else None
        if value is not None and converted is None:
            notes.append(f"the stored {name} value {value!r} is not {what}")
        values.append(converted)
    return values[0], values[1], "; ".join(notes) or None
