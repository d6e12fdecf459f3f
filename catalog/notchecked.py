"""Links that are not checked: every active resource using them says `check: false` in the
catalog file, or their URL matches a `link_exclude` pattern.

Such a link is never fetched, so its state does not move; the listings and the report show it as
"not checked", with the reason, and never as a problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, exists, not_, select, true
from sqlalchemy.orm import aliased

from shelfcheck.catalog.models import Link, Resource
from shelfcheck.catalog.states import ResourceState
from shelfcheck.config import Settings
from shelfcheck.errors import UsageError

CHECK_FALSE = "check: false"
EXCLUDED = "excluded by link_exclude"
REASONS = (CHECK_FALSE, EXCLUDED)


class LinkExclude:
    """The `link_exclude` patterns, compiled once."""

    def __init__(self, patterns: Iterable[str] = ()) -> None:
        self.patterns = tuple(re.compile(p) for p in patterns)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, urls: Iterable[str | None]) -> bool:
        """True when a pattern is found in one of `urls` (None is skipped)."""
        return any(p.search(url) for url in urls if url for p in self.patterns)


@lru_cache(maxsize=8)
def _compiled(patterns: tuple[str, ...]) -> LinkExclude:
    return LinkExclude(patterns)


def state_label(state: str, reason: str | None) -> str:
    """A link's state as the tables show it: "not checked (REASON)" for a link not checked."""
    return f"not checked ({reason})" if reason else state


def link_exclude(settings: Settings) -> LinkExclude:
    """The settings' `link_exclude`, compiled (once per set of patterns)."""
    return _compiled(tuple(settings.link_exclude))


def wanted(resource: Any = Resource) -> list[ColumnElement[bool]]:
    """The conditions of a resource that has its link checked: active, and not `check: false`."""
    return [resource.state == ResourceState.ACTIVE, resource.check == true()]


def _used(provider_id: int | None, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """A link is used by a resource (of `provider_id`, when given) that meets `conditions`."""
    users = select(Resource.id).where(Resource.link_id == Link.id, *conditions)
    if provider_id is not None:
        users = users.where(Resource.provider_id == provider_id)
    return exists(users.correlate(Link))


def checked_link(provider_id: int | None = None) -> ColumnElement[bool]:
    """A link is checked: a wanted resource (of `provider_id`, when given) uses it."""
    return _used(provider_id, *wanted())


def unchecked_link(provider_id: int | None = None) -> list[ColumnElement[bool]]:
    """The conditions of a link that is `check: false` everywhere: an active resource (of
    `provider_id`, when given) uses it, and no wanted one of the same scope does."""
    return [_used(provider_id, Resource.state == ResourceState.ACTIVE),
            not_(checked_link(provider_id))]


def excluded_links(conn: Any, exclude: LinkExclude,
                   where: Sequence[ColumnElement[bool]] = ()) -> dict[int, str]:
    """The links (of `where`) that some wanted resource uses and `exclude` matches, in their
    normalized URL or in a URL as a wanted resource writes it: link id -> host."""
    if not exclude:
        return {}
    user = aliased(Resource)
    query = (
        select(Link.id, Link.host, Link.url, user.url)
        .join(user, user.link_id == Link.id)
        .where(*wanted(user), *where)
        .order_by(Link.id)
        .execution_options(yield_per=2000)
    )
    found: dict[int, str] = {}
    for link_id, group in groupby(conn.execute(query), key=itemgetter(0)):
        rows = list(group)
        if exclude.matches([rows[0][2], *(row[3] for row in rows)]):
            found[link_id] = rows[0][1] or ""
    return found


def not_checked(conn: Any, exclude: LinkExclude,
                where: Sequence[ColumnElement[bool]] = ()) -> dict[int, str]:
    """Every link (of `where`) an active resource uses that is not checked: id -> reason."""
    query = select(Link.id).where(*unchecked_link(), *where)
    found = {link_id: CHECK_FALSE for link_id in conn.scalars(query)}
    found.update((link_id, EXCLUDED) for link_id in excluded_links(conn, exclude, where))
    return found


def refuse_not_checked(conn: Any, exclude: LinkExclude, links: dict[str, int]) -> None:
    """A UsageError when one of the named links (URL -> link id) is not checked."""
    skipped = not_checked(conn, exclude, [Link.id.in_(list(links.values()))])
    for url, link_id in links.items():
        if link_id in skipped:
            raise UsageError(f"{url!r} is not checked ({skipped[link_id]}): see "
                             "`shelfcheck links --state not_checked`", options=("url",))
