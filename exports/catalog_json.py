"""`json`: the whole catalog as versioned JSON (schema ``shelfcheck.catalog/1``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from itertools import groupby
from operator import attrgetter
from typing import Any

from sqlalchemy.orm import Session

from shelfcheck.catalog.models import utcnow
from shelfcheck.catalog.queries import (
    OfferingRow,
    ResourceRow,
    guide_meta,
    offering_rows,
    providers,
    resource_rows,
)
from shelfcheck.exports.base import Exporter
from shelfcheck.exports.common import offering_uid, redirect_target
from shelfcheck.exports.jsonstream import json_chunks, materialize

SCHEMA = "shelfcheck.catalog/1"


def iso(value: Any) -> str | None:
    """ISO 8601 with an offset, or None."""
    return value.isoformat() if value is not None else None


def offering_dict(row: OfferingRow) -> dict[str, Any]:
    """An offering as the JSON contract writes it."""
    return {
        "uid": offering_uid(row.provider, row.key),
        "key": row.key,
        "title": row.title,
        "url": row.url,
        "format": row.format,
        "schedule": row.schedule,
        "start": iso(row.start_at),
        "end": iso(row.end_at),
        "timezone": row.timezone,
        "fee_known": row.fee_known,
        "fees": [{"tier": f.tier, "amount": f.amount, "currency": f.currency} for f in row.fees],
        "lssc_approved": row.lssc_approved,
        "description": row.description,
        "first_seen": iso(row.first_seen_at),
        "last_seen": iso(row.last_seen_at),
        "sequence": row.sequence,
    }


def _resource_dict(row: ResourceRow) -> dict[str, Any]:
    return {
        "title": row.title,
        "url": row.url,
        "description": row.description,
        "provider": row.provider,
        "check": row.check,
        "link_state": row.link_state,
        "verdict": row.verdict,
        "http_status": row.http_status,
        "last_checked": row.last_checked_at,
        "since": row.since,
        "redirect_target": redirect_target(row),
        "suggestion": row.suggestion,
    }


def _sections(session: Session) -> Iterator[dict[str, Any]]:
    """Sections in guide order, each with an iterator of its resources (rows come in order)."""
    for name, rows in groupby(resource_rows(session), key=attrgetter("section")):
        yield {"name": name, "resources": map(_resource_dict, rows)}


def _providers(session: Session) -> Iterator[dict[str, Any]]:
    """Providers by slug, each with an iterator of its offerings (read when they are written)."""
    for p in providers(session):
        yield {"slug": p.slug, "name": p.name, "home": p.home_url,
               "offerings": map(offering_dict, offering_rows(session, provider=p.slug))}


def catalog_stream(session: Session, *, now: Any = None) -> dict[str, Any]:
    """The catalog document with its sections, resources and providers as iterators, read
    from the database while the document is written (`exports.jsonstream`)."""
    return {
        "schema": SCHEMA,
        "generated_at": iso(now or utcnow()),
        "guide": guide_meta(session),
        "sections": _sections(session),
        "providers": _providers(session),
    }


def catalog_document(session: Session, *, now: Any = None) -> dict[str, Any]:
    """The catalog as a JSON-ready dict."""
    doc: dict[str, Any] = materialize(catalog_stream(session, now=now))
    return doc


def _resource_entry(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A resource as a catalog file declares it; `check: false` only when it is not checked
    (a document written before `check` was exported has none: checked)."""
    entry = {key: resource[key] for key in ("title", "url", "provider", "description")}
    if resource.get("check") is False:
        entry["check"] = False
    return entry


def catalog_file_from_document(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Turn an exported document back into catalog-file data that `catalog sync` accepts."""
    return {
        "schema": "shelfcheck.catalogfile/1",
        "guide": dict(doc.get("guide") or {}),
        "providers": [{"slug": p["slug"], "name": p["name"], "home": p["home"]}
                      for p in doc["providers"]],
        "sections": [{"name": s["name"], "resources": [_resource_entry(r) for r in s["resources"]]}
                     for s in doc["sections"]],
    }


class JsonExporter(Exporter):
    """The whole catalog as versioned JSON."""

    kind = "json"
    default_name = "catalog.json"
    description = "sections, resources with link state, providers with offerings and fees"

    def stream(self, session: Session) -> Mapping[str, Iterable[bytes]]:
        return {self.default_name: json_chunks(catalog_stream(session, now=self.now))}
