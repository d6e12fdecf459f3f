"""Load a validated catalog file into the database: add, update, retire and restore."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from shelfcheck.catalog.catalogfile import CatalogSpec
from shelfcheck.catalog.linkmove import move_fixed_redirects
from shelfcheck.catalog.links import link_key
from shelfcheck.catalog.models import Link, Meta, Provider, Resource, Section, utcnow

CATALOG_HASH_KEY = "catalog_sha256"


@dataclass
class SyncResult:
    """What a sync changed; each list holds readable one-line descriptions."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    providers_changed: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        """True when the sync wrote anything."""
        return bool(
            self.added or self.updated or self.retired or self.restored or self.providers_changed
        )

    def summary(self) -> str:
        """One line: the counts."""
        from shelfcheck.text import plural

        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.retired)} retired, "
            f"{len(self.restored)} restored, {self.unchanged} unchanged, "
            f"{plural(len(self.providers_changed), 'provider')} changed"
        )


def last_synced_hash(session: Session) -> str | None:
    """The hash of the catalog file synced last, if any."""
    meta = session.get(Meta, CATALOG_HASH_KEY)
    return meta.value if meta else None


def sync_catalog(session: Session, spec: CatalogSpec) -> SyncResult:
    """Make the database match `spec`; the caller commits (one transaction)."""
    result = SyncResult()
    now = utcnow()

    providers = {p.slug: p for p in session.scalars(select(Provider))}
    for pspec in spec.providers:
        provider = providers.get(pspec.slug)
        if provider is None:
            provider = Provider(slug=pspec.slug, name=pspec.name, home_url=pspec.home,
                                recipe=pspec.recipe, active=True)
            session.add(provider)
            providers[pspec.slug] = provider
            result.providers_changed.append(f"provider {pspec.slug}: added")
            continue
        changes = [
            name
            for name, old, new in (
                ("name", provider.name, pspec.name),
                ("home", provider.home_url, pspec.home),
                ("recipe", provider.recipe, pspec.recipe),
                ("active", provider.active, True),
            )
            if old != new
        ]
        if changes:
            provider.name, provider.home_url = pspec.name, pspec.home
            provider.recipe, provider.active = pspec.recipe, True
            result.providers_changed.append(f"provider {pspec.slug}: {', '.join(changes)}")
    listed_slugs = {p.slug for p in spec.providers}
    for slug, provider in providers.items():
        if slug not in listed_slugs and provider.active:
            provider.active = False
            result.providers_changed.append(f"provider {slug}: inactive")

    sections = {s.name: s for s in session.scalars(select(Section))}
    for position, sspec in enumerate(spec.sections):
        section = sections.get(sspec.name)
        if section is None:
            section = Section(name=sspec.name, position=position, active=True)
            session.add(section)
            sections[sspec.name] = section
        section.position, section.active = position, True
    listed_sections = {s.name for s in spec.sections}
    for name, section in sections.items():
        if name not in listed_sections:
            section.active = False
    session.flush()

    move_fixed_redirects(session, spec)  # before the links are read: see catalog/linkmove.py
    _sync_resources(session, spec, sections, providers, now, result)
    _set_meta(session, CATALOG_HASH_KEY, spec.sha256)
    _set_meta(session, "guide", json.dumps(spec.guide, sort_keys=True))
    session.flush()
    return result


def _sync_resources(session: Session, spec: CatalogSpec, sections: dict[str, Section],
                    providers: dict[str, Provider], now: datetime, result: SyncResult) -> None:
    """Resources section by section, with plain-column reads and one insert and one update
    statement per section: no ORM object per resource or link (100,000 of them took 1 GB)."""
    table = Resource.__table__
    names = {section.id: name for name, section in sections.items()}
    columns = (Resource.id, Resource.section_id, Resource.title, Resource.url,
               Resource.provider_id, Resource.description, Resource.position, Resource.state,
               Resource.link_id, Resource.updated_at, Resource.check)
    links = LinkIds(session)
    listed: set[int] = set()
    retire: list[Any] = []
    update_stmt = (
        update(table).where(table.c.id == bindparam("b_id"))  # type: ignore[arg-type]
        .values(url=bindparam("b_url"), provider_id=bindparam("b_provider"),
                description=bindparam("b_description"), position=bindparam("b_position"),
                link_id=bindparam("b_link"), check=bindparam("b_check"), state="active",
                retired_at=None,
                updated_at=bindparam("b_updated"))
    )
    for sspec in spec.sections:
        section_id = sections[sspec.name].id
        if section_id in listed:  # a checked file cannot do this; a hand-made spec can
            raise ValueError(f"{spec.source}: section {sspec.name!r} is listed twice")
        listed.add(section_id)
        existing = {row.title: row for row in session.execute(
            select(*columns).where(Resource.section_id == section_id))}
        link_ids = links.ids([r.url for r in sspec.resources if r.url])
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for position, rspec in enumerate(sspec.resources):
            provider_id = providers[rspec.provider].id if rspec.provider else None
            link_id = link_ids[rspec.url] if rspec.url else None
            old = existing.pop(rspec.title, None)
            label = f"{sspec.name} / {rspec.title}"
            if old is None:
                inserts.append({
                    "title": rspec.title, "section_id": section_id, "provider_id": provider_id,
                    "url": rspec.url, "link_id": link_id, "description": rspec.description,
                    "position": position, "state": "active", "created_at": now,
                    "updated_at": now, "check": rspec.check})
                result.added.append(label)
                continue
            changes = [
                name
                for name, was, new in (
                    ("url", old.url, rspec.url),
                    ("provider", old.provider_id, provider_id),
                    ("description", old.description, rspec.description),
                    ("position", old.position, position),
                    ("check", old.check, rspec.check),
                )
                if was != new
            ]
            restored = old.state == "retired"
            if restored:
                result.restored.append(label)
            elif changes:
                result.updated.append(f"{label}: {', '.join(changes)}")
            else:
                result.unchanged += 1
            if restored or changes or old.link_id != link_id:
                updates.append({
                    "b_id": old.id, "b_url": rspec.url, "b_provider": provider_id,
                    "b_description": rspec.description, "b_position": position,
                    "b_link": link_id, "b_check": rspec.check,
                    # an unchanged restore keeps its updated_at
                    "b_updated": now if changes or old.link_id != link_id else old.updated_at})
        if inserts:
            session.execute(insert(table), inserts)  # type: ignore[arg-type]
        if updates:
            session.execute(update_stmt, updates)
        retire.extend(row for row in existing.values() if row.state == "active")
        if len(retire) >= 1000:
            _retire(session, retire, names, now, result)
            retire = []
    retire.extend(session.execute(select(*columns).where(Resource.section_id.not_in(listed),
                                                         Resource.state == "active")))
    _retire(session, retire, names, now, result)


def _retire(session: Session, rows: list[Any], names: dict[int, str], now: datetime,
            result: SyncResult) -> None:
    table = Resource.__table__
    for start in range(0, len(rows), 1000):
        chunk = rows[start:start + 1000]
        session.execute(update(table).where(table.c.id.in_([r.id for r in chunk]))  # type: ignore[arg-type]
                        .values(state="retired", retired_at=now, updated_at=now))
        result.retired.extend(f"{names.get(r.section_id, '?')} / {r.title}" for r in chunk)


class LinkIds:
    """Link ids by stored URL: read once, new links inserted a batch at a time."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.by_url: dict[str, int] = {
            url: id_ for url, id_ in session.execute(select(Link.url, Link.id))}

    def ids(self, urls: list[str]) -> dict[str, int]:
        """Catalog URL -> link id, creating the links (state `unknown`) that are new."""
        keys = {url: link_key(url) for url in urls}
        new = {stored: host for stored, host in keys.values() if stored not in self.by_url}
        if new:
            table = Link.__table__
            rows = self.session.execute(
                insert(table).returning(table.c.url, table.c.id),  # type: ignore[arg-type]
                [{"url": stored, "host": host, "state": "unknown", "consecutive_failures": 0}
                 for stored, host in new.items()])
            self.by_url.update((url, id_) for url, id_ in rows)
        return {url: self.by_url[stored] for url, (stored, _host) in keys.items()}


def _set_meta(session: Session, key: str, value: str) -> None:
    meta = session.get(Meta, key)
    if meta is None:
        session.add(Meta(key=key, value=value))
    elif meta.value != value:
        meta.value = value
