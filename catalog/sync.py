"""Load a validated catalog file into the database: add, update, retire and restore."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelfcheck.catalog.catalogfile import CatalogSpec
from shelfcheck.catalog.links import LinkCache
from shelfcheck.catalog.models import Meta, Provider, Resource, Section, utcnow
from shelfcheck.catalog.states import ResourceState

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
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.retired)} retired, "
            f"{len(self.restored)} restored, {self.unchanged} unchanged, "
            f"{len(self.providers_changed)} providers changed"
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

    existing = {(r.section.name, r.title): r for r in session.scalars(select(Resource))}
    links = LinkCache(session)
    seen: set[tuple[str, str]] = set()
    for sspec in spec.sections:
        section = sections[sspec.name]
        for position, rspec in enumerate(sspec.resources):
            key = (sspec.name, rspec.title)
            seen.add(key)
            provider_id = providers[rspec.provider].id if rspec.provider else None
            link = links.get(rspec.url) if rspec.url else None
            resource = existing.get(key)
            label = f"{sspec.name} / {rspec.title}"
            if resource is None:
                session.add(Resource(
                    title=rspec.title, section_id=section.id, provider_id=provider_id,
                    url=rspec.url, link=link, description=rspec.description,
                    position=position, state="active", created_at=now, updated_at=now,
                ))
                result.added.append(label)
                continue
            changes = [
                name
                for name, old, new in (
                    ("url", resource.url, rspec.url),
                    ("provider", resource.provider_id, provider_id),
                    ("description", resource.description, rspec.description),
                    ("position", resource.position, position),
                )
                if old != new
            ]
            if resource.state == "retired":
                resource.state, resource.retired_at = ResourceState.ACTIVE, None
                result.restored.append(label)
            elif changes:
                result.updated.append(f"{label}: {', '.join(changes)}")
            else:
                result.unchanged += 1
            if changes or resource.link is not link:
                resource.url, resource.provider_id = rspec.url, provider_id
                resource.description, resource.position = rspec.description, position
                resource.link = link
                resource.updated_at = now
    for key, resource in existing.items():
        if key not in seen and resource.state == "active":
            resource.state = ResourceState.RETIRED
            resource.retired_at = resource.updated_at = now
            result.retired.append(f"{key[0]} / {key[1]}")

    _set_meta(session, CATALOG_HASH_KEY, spec.sha256)
    _set_meta(session, "guide", json.dumps(spec.guide, sort_keys=True))
    session.flush()
    return result


def _set_meta(session: Session, key: str, value: str) -> None:
    meta = session.get(Meta, key)
    if meta is None:
        session.add(Meta(key=key, value=value))
    elif meta.value != value:
        meta.value = value
