"""Provider hooks: small Python functions for what a recipe cannot declare (keep them rare).

A recipe names one with `hook: NAME`. The hook gets each merged record and the item's pages and
returns the record (changed or not), or None to drop it. Register one with::

    @register_hook("name")
    def name(record: OfferingData, pages: HookPages) -> OfferingData | None: ...

No provider of the packaged guide needs one: every field of theirs is declared in its recipe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shelfcheck.catalog.offerings import OfferingData


@dataclass(frozen=True)
class HookPages:
    """The URLs of the pages an item was read from."""

    listing_url: str
    detail_url: str | None


Hook = Callable[[OfferingData, HookPages], OfferingData | None]
HOOKS: dict[str, Hook] = {}


def register_hook(name: str) -> Callable[[Hook], Hook]:
    """Register a hook under `name` for recipes to use."""

    def decorate(func: Hook) -> Hook:
        HOOKS[name] = func
        return func

    return decorate
