"""A fixed redirect keeps its history: the link row moves to the URL it redirected to."""

from __future__ import annotations

from shelfcheck.catalog.catalogfile import CatalogSpec
from shelfcheck.catalog.links import LinkCache, link_key
from shelfcheck.catalog.models import Link, utcnow


class LinkMover:
    """Reuses a redirected link's row for its target when the catalog file now names it.

    When a resource's URL changes to the target of its link's permanent redirect (what
    `catalog fix` writes), no other resource of the file keeps the old URL, and no row exists
    for the new one, the old row is renamed: its checks and events stay with it, and it becomes
    ``ok`` (the target answered when the redirect was seen).
    """

    def __init__(self, links: LinkCache, spec: CatalogSpec) -> None:
        self.links, self.spec = links, spec
        self._listed: set[str] | None = None

    def listed(self) -> set[str]:
        """The stored URLs of every resource in the file (computed once, when first needed)."""
        if self._listed is None:
            self._listed = {link_key(r.url)[0] for s in self.spec.sections
                            for r in s.resources if r.url}
        return self._listed

    def move(self, current: Link | None, new_url: str) -> Link | None:
        """The renamed row of `current` when `new_url` is its redirect target, else None."""
        if current is None or current.state != "redirected" or not current.redirect_target:
            return None
        stored, host = link_key(new_url)
        if link_key(current.redirect_target)[0] != stored or stored == current.url:
            return None
        if stored in self.links.by_url or current.url in self.listed():
            return None
        old = current.url
        del self.links.by_url[old]
        current.url, current.host = stored, host
        current.state, current.state_since, current.redirect_target = "ok", utcnow(), None
        current.last_verdict = "ok"
        current.last_detail = f"moved here from {old} (a fixed redirect)"
        current.etag = current.last_modified = None
        self.links.by_url[stored] = current
        return current
