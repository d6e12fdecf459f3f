"""Load a validated catalog file into the database: add, update, retire and restore.

`sync_catalog_file` streams a file: each section is written as it is read and checked, inside
the caller's one transaction; a problem anywhere raises CatalogFileError once the whole file is
read, and the caller's rollback leaves the database as it was. Memory stays that of one section
(and of the file's sections and providers), whatever the number of resources.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from shelfcheck.catalog.catalogfile import CatalogReader, CatalogSpec
from shelfcheck.catalog.catalogspec import ProviderSpec, SectionSpec
from shelfcheck.catalog.linkmove import FixedRedirects
from shelfcheck.catalog.links import link_ids, link_key
from shelfcheck.catalog.models import Meta, Provider, Resource, Section, utcnow
from shelfcheck.catalog.states import ResourceState

CATALOG_HASH_KEY = "catalog_sha256"
SAMPLE_LINES = 100
"""Descriptions kept per kind of change; the rest are counted."""
BATCH = 1000
"""Resources retired per statement."""


@dataclass
class Changes:
    """One kind of change: how many, and the first `SAMPLE_LINES` one-line descriptions."""

    count: int = 0
    lines: list[str] = field(default_factory=list)

    def add(self, line: str) -> None:
        """Count a change and keep its description while the sample has room."""
        self.count += 1
        if len(self.lines) < SAMPLE_LINES:
            self.lines.append(line)

    def __len__(self) -> int:
        return self.count

    @property
    def more(self) -> int:
        """How many changes the sample leaves out."""
        return self.count - len(self.lines)


@dataclass
class SyncResult:
    """What a sync changed: counts, with a sample of readable descriptions of each kind."""

    added: Changes = field(default_factory=Changes)
    updated: Changes = field(default_factory=Changes)
    retired: Changes = field(default_factory=Changes)
    restored: Changes = field(default_factory=Changes)
    providers_changed: Changes = field(default_factory=Changes)
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
    """Make the database match `spec` (a whole checked file); the caller commits."""
    sync = _Sync(session, spec.source)
    sync.providers(spec.providers)
    for sspec in spec.sections:
        sync.section(sspec)
    return sync.finish(spec)


def sync_catalog_file(session: Session, reader: CatalogReader) -> SyncResult:
    """Make the database match the file of `reader`, a section at a time as it is read; the
    caller commits, or rolls back on CatalogFileError (writing stops at the first problem)."""
    sync: _Sync | None = None
    for sspec in reader.sections():
        if not reader.clean:
            continue  # the file is bad: read on only to list every problem
        if sync is None:
            sync = _Sync(session, reader.source)
            sync.providers(reader.providers)
        sync.section(sspec)
    if sync is None:
        sync = _Sync(session, reader.source)
        sync.providers(reader.spec.providers)
    return sync.finish(reader.spec)


class _Sync:
    """One sync: providers first, then each section and its resources with plain-column reads
    and one insert and one update statement per section (no ORM object per resource or link:
    100,000 of them took 1 GB), then what the file no longer lists."""

    columns = (Resource.id, Resource.section_id, Resource.title, Resource.url,
               Resource.provider_id, Resource.description, Resource.position, Resource.state,
               Resource.link_id, Resource.updated_at, Resource.check)

    def __init__(self, session: Session, source: str) -> None:
        self.session, self.source = session, source
        if session.get_bind().dialect.name == "postgresql":
            # The link lookups repeat one statement shape; psycopg prepares it, and a generic
            # plan made while the table was small scans the whole table ever after (8-12x slower).
            session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        self.now = utcnow()
        self.result = SyncResult()
        self.moves = FixedRedirects(session)  # read before anything is written
        self.provider_ids: dict[str, int] = {}
        self.sections = {s.name: s for s in session.scalars(select(Section))}
        self.listed: set[int] = set()
        self.retire: list[Any] = []
        table = Resource.__table__
        self.update_stmt = (
            update(table).where(table.c.id == bindparam("b_id"))  # type: ignore[arg-type]
            .values(url=bindparam("b_url"), provider_id=bindparam("b_provider"),
                    description=bindparam("b_description"), position=bindparam("b_position"),
                    link_id=bindparam("b_link"), check=bindparam("b_check"),
                    state=ResourceState.ACTIVE, retired_at=None, updated_at=bindparam("b_updated"))
        )

    def providers(self, specs: list[ProviderSpec]) -> None:
        """Add or update the listed providers; the others become inactive."""
        providers = {p.slug: p for p in self.session.scalars(select(Provider))}
        changed = self.result.providers_changed
        for pspec in specs:
            provider = providers.get(pspec.slug)
            if provider is None:
                provider = Provider(slug=pspec.slug, name=pspec.name, home_url=pspec.home,
                                    recipe=pspec.recipe, active=True)
                self.session.add(provider)
                providers[pspec.slug] = provider
                changed.add(f"provider {pspec.slug}: added")
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
                changed.add(f"provider {pspec.slug}: {', '.join(changes)}")
        listed_slugs = {p.slug for p in specs}
        for slug, provider in providers.items():
            if slug not in listed_slugs and provider.active:
                provider.active = False
                changed.add(f"provider {slug}: inactive")
        self.session.flush()
        self.provider_ids = {slug: p.id for slug, p in providers.items()}

    def section(self, sspec: SectionSpec) -> None:
        """Write one section and its resources."""
        session, result, now = self.session, self.result, self.now
        section = self.sections.get(sspec.name)
        if section is None:
            section = Section(name=sspec.name, active=True)
            session.add(section)
            self.sections[sspec.name] = section
        section.position, section.active = len(self.listed), True
        session.flush()
        if section.id in self.listed:  # a checked file cannot do this; a hand-made spec can
            raise ValueError(f"{self.source}: section {sspec.name!r} is listed twice")
        self.listed.add(section.id)
        existing = {row.title: row for row in session.execute(
            select(*self.columns).where(Resource.section_id == section.id))}
        keys = {r.url: link_key(r.url) for r in sspec.resources if r.url}
        ids = link_ids(session, keys)
        self.moves.see(sspec.name, sspec.resources, keys)
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for position, rspec in enumerate(sspec.resources):
            provider_id = self.provider_ids[rspec.provider] if rspec.provider else None
            link_id = ids[rspec.url] if rspec.url else None
            old = existing.pop(rspec.title, None)
            label = f"{sspec.name} / {rspec.title}"
            if old is None:
                inserts.append({
                    "title": rspec.title, "section_id": section.id, "provider_id": provider_id,
                    "url": rspec.url, "link_id": link_id, "description": rspec.description,
                    "position": position, "state": ResourceState.ACTIVE, "created_at": now,
                    "updated_at": now, "check": rspec.check})
                result.added.add(label)
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
            restored = old.state == ResourceState.RETIRED
            if restored:
                result.restored.add(label)
            elif changes:
                result.updated.add(f"{label}: {', '.join(changes)}")
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
            session.execute(insert(Resource.__table__), inserts)  # type: ignore[arg-type]
        if updates:
            session.execute(self.update_stmt, updates)
        self.retire.extend(row for row in existing.values() if row.state == ResourceState.ACTIVE)
        if len(self.retire) >= BATCH:
            self._retire(self.retire)
            self.retire = []

    def finish(self, spec: CatalogSpec) -> SyncResult:
        """Retire what the file no longer lists, move the fixed redirects, note the file."""
        session = self.session
        for section in self.sections.values():
            if section.id not in self.listed:
                section.active = False
        self._retire(self.retire)
        while chunk := session.execute(
            select(*self.columns)
            .where(Resource.section_id.not_in(self.listed), Resource.state == ResourceState.ACTIVE)
            .order_by(Resource.id).limit(BATCH)
        ).all():
            self._retire(chunk)
        self.moves.apply()
        _set_meta(session, CATALOG_HASH_KEY, spec.sha256)
        _set_meta(session, "guide", json.dumps(spec.guide, sort_keys=True))
        session.flush()
        return self.result

    def _retire(self, rows: Sequence[Any]) -> None:
        table = Resource.__table__
        names = {section.id: name for name, section in self.sections.items()}
        for start in range(0, len(rows), BATCH):
            chunk = rows[start:start + BATCH]
            self.session.execute(
                update(table).where(table.c.id.in_([r.id for r in chunk]))  # type: ignore[arg-type]
                .values(state=ResourceState.RETIRED, retired_at=self.now, updated_at=self.now))
            for r in chunk:
                self.result.retired.add(f"{names.get(r.section_id, '?')} / {r.title}")


def _set_meta(session: Session, key: str, value: str) -> None:
    meta = session.get(Meta, key)
    if meta is None:
        session.add(Meta(key=key, value=value))
    elif meta.value != value:
        meta.value = value
