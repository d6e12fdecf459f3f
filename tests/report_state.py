"""Load a described database state (YAML, see tests/golden/report/*.yaml) into a real database.

The description names providers, sections with resources, link states, runs with the links they
checked, offerings with fees, change events (recorded through `catalog.events.record_event`),
provider health states, link dismissals and earlier reports. Times are ISO 8601 strings with an
offset.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.events import record_event
from shelfcheck.catalog.links import get_or_create_link
from shelfcheck.catalog.models import (
    CrawlRun,
    FeeTier,
    Link,
    LinkCheck,
    LinkDismissal,
    Offering,
    Provider,
    ProviderHealth,
    ReportRecord,
    Resource,
    Section,
)
from shelfcheck.catalog.states import HealthState


def at(value: Any) -> datetime | None:
    """An aware datetime from an ISO string (or a YAML timestamp)."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError(f"time {value!r} has no offset")
    return parsed


def read_state(path: Path) -> dict[str, Any]:
    """The YAML description at `path`."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_state(engine: Engine, state: dict[str, Any]) -> None:
    """Write the described state in one transaction."""
    with transaction(engine) as session:
        populate(session, state)


def populate(session: Session, state: dict[str, Any]) -> None:
    """Add the described rows to `session`."""
    providers: dict[str, Provider] = {}
    for p in state.get("providers", []):
        providers[p["slug"]] = Provider(slug=p["slug"], name=p["name"], home_url=p.get("home"),
                                        recipe=p.get("recipe"), active=True)
        session.add(providers[p["slug"]])
    for s_pos, s in enumerate(state.get("sections", [])):
        section = Section(name=s["name"], position=s_pos)
        session.add(section)
        for r_pos, r in enumerate(s.get("resources", [])):
            link = get_or_create_link(session, r["url"]) if r.get("url") else None
            session.add(Resource(
                title=r["title"], section=section, provider=providers.get(r.get("provider")),
                url=r.get("url"), link=link, description=r.get("description", ""),
                position=r_pos, state=r.get("state", "active"),
            ))
    session.flush()
    links = {link.url: link for link in session.scalars(select(Link))}
    for spec in state.get("links", []):
        link = links.get(spec["url"]) or get_or_create_link(session, spec["url"])
        links[link.url] = link
        link.state = spec.get("state", "ok")
        link.state_since = at(spec.get("since"))
        link.last_verdict = spec.get("verdict", "ok" if link.state == "ok" else None)
        link.last_http_status = spec.get("http_status")
        link.last_detail = spec.get("detail")
        link.last_checked_at = at(spec.get("last_checked"))
        link.first_failed_at = at(spec.get("first_failed"))
        link.redirect_target = spec.get("redirect_target")
    runs: dict[int, CrawlRun] = {}
    for spec in state.get("runs", []):
        started = at(spec["started"])
        assert started is not None
        run = CrawlRun(kind=spec["kind"], started_at=started,
                       finished_at=at(spec.get("finished")), outcome=spec["outcome"],
                       stats={}, detail=spec.get("detail"))
        session.add(run)
        session.flush()  # ids come from the database: 1, 2, ... in a fresh one
        runs[spec.get("id", run.id)] = run
        for i, url in enumerate(spec.get("checks", [])):
            session.add(LinkCheck(link=links[url], run_id=run.id, verdict="ok", http_status=200,
                                  checked_at=started + timedelta(seconds=10 * (i + 1))))
    offerings: dict[str, Offering] = {}
    for spec in state.get("offerings", []):
        first_seen = at(spec.get("first_seen", "2026-11-01T00:00:00+00:00"))
        off = Offering(
            provider=providers[spec["provider"]], key=spec["key"], title=spec["title"],
            url=spec.get("url"), format=spec.get("format", "webinar"),
            schedule=spec.get("schedule", "scheduled"), start_at=at(spec.get("start")),
            end_at=at(spec.get("end")), timezone=spec.get("timezone"),
            fee_known=spec.get("fee_known", bool(spec.get("fees"))),
            state=spec.get("state", "active"), first_seen_at=first_seen,
            last_seen_at=first_seen,
            fees=[FeeTier(tier=f.get("tier", ""), amount=Decimal(str(f["amount"])),
                          currency=f.get("currency", "USD"), position=i)
                  for i, f in enumerate(spec.get("fees", []))],
        )
        session.add(off)
        offerings[spec["key"]] = off
    session.flush()
    for spec in state.get("events", []):
        fields = {k: v for k, v in spec.items()
                  if k in ("url", "title", "tier", "old", "new", "verdict", "http_status",
                           "detail")}
        if "provider" in spec:
            fields["provider"] = providers[spec["provider"]]
        if "offering" in spec:
            fields["offering"] = offerings[spec["offering"]]
        record_event(
            session, spec["kind"], run=runs.get(spec.get("run", -1)),
            link=links[spec["link"]] if "link" in spec else None,
            detected_at=at(spec["at"]), **fields,
        )
    for spec in state.get("health", []):
        session.add(ProviderHealth(
            provider_id=providers[spec["provider"]].id, state=HealthState(spec["state"]),
            since=at(spec["since"]), runs=spec.get("runs", 1),
            last_seen_at=at(spec.get("last_seen", spec["since"])), url=spec.get("url"),
            detail=spec.get("detail")))
    for spec in state.get("dismissals", []):
        link = links[spec["link"]]
        session.add(LinkDismissal(
            link_id=link.id, reason=spec["reason"], at=at(spec["at"]),
            until=date.fromisoformat(str(spec["until"])) if spec.get("until") else None,
            state=spec.get("state", link.state), verdict=spec.get("verdict", link.last_verdict),
            redirect_target=link.redirect_target))
    for spec in state.get("reports", []):
        session.add(ReportRecord(generated_at=at(spec["generated"]),
                                 period_start=at(spec["start"]), period_end=at(spec["end"]),
                                 paths=[], emailed=False))
    session.flush()
