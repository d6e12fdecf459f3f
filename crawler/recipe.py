"""Listing recipes: what a provider declares under `recipe:` in the catalog file.

A recipe tells the one listing spider where a provider lists its offerings and where each field
sits, so a maintainer can fix it after a redesign without touching Python. See docs/recipes.md.

    recipe:
      listing: https://infopeople.org/training      # one URL or a list
      paginate: "ul.pager li.pager-next a"           # CSS of the next-page link (to the end)
      item: ".view-training-events .views-row"       # CSS of one offering on a listing page
      link: ".views-field-title a"                   # CSS of the item's link (its canonical URL)
      follow: true                                   # fetch each item's link (the detail page)
      feeds: [https://infopeople.org/civicrm/event/ical?reset=1&list=1]   # iCalendar, by URL
      timezone: America/Los_Angeles                  # for dates that name no zone
      fields:
        title: ".views-field-title a"                # CSS shorthand
        when: {css: ".event_date_time-section .content", from: detail}
        fee:                                         # alternatives, tried in order
          - {rows: "table.fee_block-table tr", tier: "td.fee_level-label",
             amount: "td.fee_amount-value", from: detail}
          - {css: ".event_summary-section", from: detail}
        lssc: {css: ".event_summary-section", pattern: "LSSC approved", from: detail}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shelfcheck.crawler.extract.model import FIELDS, STRUCTURED_KINDS

TOP_KEYS = frozenset({
    "listing", "item", "link", "follow", "paginate", "max_pages", "feeds", "structured",
    "timezone", "date_order", "currency", "format", "schedule", "prefer", "hook", "fields",
})
SPEC_KEYS = frozenset({
    "css", "attr", "label", "pattern", "sentences", "rows", "tier", "amount", "from", "map",
    "const", "optional",
})
SCOPES = ("listing", "detail", "page")
FORMATS = ("webinar", "course", "self-paced", "workshop", "event")
SCHEDULES = ("self-paced", "unscheduled")
PREFERENCES = ("structured", "selector")
PREFERABLE = ("title", "when", "start", "end", "fee", "format", "description")


class RecipeError(ValueError):
    """A recipe is invalid; `problems` holds (key path, problem) pairs."""

    def __init__(self, slug: str, problems: list[tuple[str, str]]) -> None:
        self.slug = slug
        self.problems = problems
        super().__init__("; ".join(f"recipe of '{slug}' {k}: {p}" for k, p in problems))


@dataclass(frozen=True)
class FieldSpec:
    """Where one field sits: a CSS selector and/or a label pattern, in a scope."""

    css: str | None = None
    attr: str | None = None
    label: str | None = None
    pattern: str | None = None
    sentences: str | None = None
    rows: str | None = None
    tier: str | None = None
    amount: str | None = None
    scope: str | None = None  # `from:` listing | detail | page; None: detail if follow else listing
    map: tuple[tuple[str, str], ...] = ()
    const: Any = None
    optional: bool = False

    def describe(self, scope: str) -> str:
        """A short description for warnings and `recipes test`: "css '.x' on the detail page"."""
        if self.const is not None:
            return f"constant {self.const!r}"
        parts = []
        if self.rows:
            parts.append(f"rows '{self.rows}'")
        elif self.css:
            parts.append(f"css '{self.css}'" + (f" @{self.attr}" if self.attr else ""))
        if self.label:
            parts.append(f"label '{self.label}:'")
        if self.sentences:
            parts.append(f"sentences /{self.sentences}/")
        if self.pattern:
            parts.append(f"pattern /{self.pattern}/")
        where = {"listing": "listing item", "detail": "detail page", "page": "listing page"}[scope]
        return f"{' '.join(parts) or 'text'} on the {where}"


@dataclass(frozen=True)
class Recipe:
    """A validated recipe."""

    listing: tuple[str, ...]
    item: str
    link: str = "a[href]"
    follow: bool = False
    paginate: str | None = None
    max_pages: int = 25
    feeds: tuple[str, ...] = ()
    structured: tuple[str, ...] = STRUCTURED_KINDS
    timezone: str | None = None
    date_order: str = "MDY"
    currency: str = "USD"
    format: str | None = None
    schedule: str | None = None
    prefer: Mapping[str, str] = field(default_factory=dict)
    hook: str | None = None
    fields: Mapping[str, tuple[FieldSpec, ...]] = field(default_factory=dict)

    def scope_of(self, spec: FieldSpec) -> str:
        """The scope a field spec reads: its `from`, else the detail page when following."""
        return spec.scope or ("detail" if self.follow else "listing")


def _css_problem(selector: Any) -> str | None:
    from cssselect import SelectorError
    from parsel.csstranslator import HTMLTranslator

    if not isinstance(selector, str) or not selector.strip():
        return "must be a non-empty CSS selector"
    try:
        HTMLTranslator().css_to_xpath(selector)
    except SelectorError as exc:
        return f"CSS selector {selector!r} does not parse: {exc}"
    except Exception as exc:  # cssselect raises other errors on some inputs
        return f"CSS selector {selector!r} does not parse: {exc}"
    return None


def _regex_problem(pattern: Any) -> str | None:
    if not isinstance(pattern, str) or not pattern:
        return "must be a non-empty regular expression"
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"regular expression {pattern!r} does not compile: {exc}"
    return None


def _url_problem(url: Any) -> str | None:
    from shelfcheck.catalog.urlnorm import InvalidURL, normalize_url

    if not isinstance(url, str):
        return "must be a URL"
    try:
        normalize_url(url)
    except InvalidURL as exc:
        return str(exc)
    return None


def _urls(value: Any, key: str, problems: list[tuple[str, str]], *, required: bool) -> None:
    if value is None:
        if required:
            problems.append((key, "missing required key"))
        return
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or (required and not items):
        problems.append((key, "must be a URL or a list of URLs"))
        return
    for i, url in enumerate(items):
        problem = _url_problem(url)
        if problem:
            problems.append((f"{key}[{i}]" if not isinstance(value, str) else key, problem))


def _check_spec(name: str, spec: Any, path: str, follow: bool,
                problems: list[tuple[str, str]]) -> None:
    if isinstance(spec, str):
        problem = _css_problem(spec)
        if problem:
            problems.append((path, problem))
        if name == "lssc":
            problems.append((path, "the 'lssc' field needs a 'pattern' (or a 'const')"))
        return
    if not isinstance(spec, Mapping):
        problems.append((path, "must be a CSS selector or a mapping"))
        return
    for key in spec:
        if key not in SPEC_KEYS:
            problems.append((f"{path}.{key}",
                             f"unknown key (allowed: {', '.join(sorted(SPEC_KEYS))})"))
    for key in ("css", "rows", "tier", "amount"):
        if key in spec:
            problem = _css_problem(spec[key])
            if problem:
                problems.append((f"{path}.{key}", problem))
    for key in ("pattern", "sentences"):
        if key in spec:
            problem = _regex_problem(spec[key])
            if problem:
                problems.append((f"{path}.{key}", problem))
    for key in ("attr", "label"):
        if key in spec and (not isinstance(spec[key], str) or not spec[key].strip()):
            problems.append((f"{path}.{key}", "must be non-empty text"))
    scope = spec.get("from")
    if scope is not None and scope not in SCOPES:
        problems.append((f"{path}.from", f"must be one of {', '.join(SCOPES)}"))
    if scope == "detail" and not follow:
        problems.append((f"{path}.from", "'detail' needs 'follow: true'"))
    if "optional" in spec and not isinstance(spec["optional"], bool):
        problems.append((f"{path}.optional", "must be true or false"))
    if "map" in spec:
        mapping = spec["map"]
        if name != "format":
            problems.append((f"{path}.map", "only the 'format' field takes a map"))
        elif not isinstance(mapping, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            problems.append((f"{path}.map", "must map page text to a format"))
        elif bad := [v for v in mapping.values() if v not in FORMATS]:
            problems.append((f"{path}.map", f"unknown format {bad[0]!r} "
                             f"(allowed: {', '.join(FORMATS)})"))
    if "rows" in spec:
        if name != "fee":
            problems.append((f"{path}.rows", "only the 'fee' field takes rows"))
        if "amount" not in spec:
            problems.append((path, "'rows' needs 'amount' (the CSS of the amount cell)"))
    elif "tier" in spec or "amount" in spec:
        problems.append((path, "'tier' and 'amount' go with 'rows'"))
    if name == "lssc" and "pattern" not in spec and "const" not in spec:
        problems.append((path, "the 'lssc' field needs a 'pattern' (or a 'const')"))
    if not any(k in spec for k in ("css", "label", "rows", "const", "pattern", "sentences")):
        problems.append((path, "needs one of css, label, rows, pattern, sentences or const"))


def validate_recipe(slug: str, recipe: dict[str, Any]) -> list[tuple[str, str]]:
    """Check a provider's recipe; returns (key path, problem) pairs, empty when valid."""
    problems: list[tuple[str, str]] = []
    if not isinstance(recipe, Mapping):
        return [("", "a recipe must be a mapping")]
    for key in recipe:
        if key not in TOP_KEYS:
            problems.append((str(key), f"unknown key (allowed: {', '.join(sorted(TOP_KEYS))})"))
    _urls(recipe.get("listing"), "listing", problems, required=True)
    _urls(recipe.get("feeds"), "feeds", problems, required=False)
    if "item" not in recipe:
        problems.append(("item", "missing required key (the CSS selector of one offering)"))
    for key in ("item", "link", "paginate"):
        if key in recipe:
            problem = _css_problem(recipe[key])
            if problem:
                problems.append((key, problem))
    follow = recipe.get("follow", False)
    if not isinstance(follow, bool):
        problems.append(("follow", "must be true or false"))
        follow = False
    max_pages = recipe.get("max_pages", 25)
    if not isinstance(max_pages, int) or isinstance(max_pages, bool) or max_pages < 1:
        problems.append(("max_pages", "must be a whole number of at least 1"))
    structured = recipe.get("structured", list(STRUCTURED_KINDS))
    if not isinstance(structured, list):
        problems.append(("structured", "must be a list of kinds"))
    else:
        for i, kind in enumerate(structured):
            if kind not in STRUCTURED_KINDS:
                problems.append((f"structured[{i}]", f"unknown kind {kind!r} "
                                 f"(allowed: {', '.join(STRUCTURED_KINDS)})"))
    if "timezone" in recipe:
        try:
            ZoneInfo(str(recipe["timezone"]))
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(("timezone", f"unknown time zone {recipe['timezone']!r}"))
    if recipe.get("date_order", "MDY") not in ("MDY", "DMY", "YMD"):
        problems.append(("date_order", "must be MDY, DMY or YMD"))
    currency = recipe.get("currency", "USD")
    if not (isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency)):
        problems.append(("currency", "must be an ISO 4217 code such as USD"))
    if "format" in recipe and recipe["format"] not in FORMATS:
        problems.append(("format", f"must be one of {', '.join(FORMATS)}"))
    if "schedule" in recipe and recipe["schedule"] not in SCHEDULES:
        problems.append(("schedule", f"must be one of {', '.join(SCHEDULES)}"))
    prefer = recipe.get("prefer", {})
    if not isinstance(prefer, Mapping):
        problems.append(("prefer", "must map fields to 'structured' or 'selector'"))
    else:
        for name, choice in prefer.items():
            if name not in PREFERABLE:
                problems.append((f"prefer.{name}", f"unknown field (allowed: "
                                 f"{', '.join(PREFERABLE)})"))
            elif choice not in PREFERENCES:
                problems.append((f"prefer.{name}", "must be 'structured' or 'selector'"))
    if "hook" in recipe:
        from shelfcheck.crawler.extract.hooks import HOOKS

        if recipe["hook"] not in HOOKS:
            known = ", ".join(sorted(HOOKS)) or "none are registered"
            problems.append(("hook", f"unknown hook {recipe['hook']!r} ({known})"))
    fields = recipe.get("fields")
    if not isinstance(fields, Mapping):
        problems.append(("fields", "missing required mapping of fields (at least 'title')"))
        return problems
    if "title" not in fields:
        problems.append(("fields.title", "missing required field"))
    for name, value in fields.items():
        path = f"fields.{name}"
        if name not in FIELDS:
            problems.append((path, f"unknown field (allowed: {', '.join(FIELDS)})"))
            continue
        specs = value if isinstance(value, list) else [value]
        if not specs:
            problems.append((path, "must not be an empty list"))
        for i, spec in enumerate(specs):
            _check_spec(name, spec, f"{path}[{i}]" if isinstance(value, list) else path,
                        follow, problems)
    return problems


def _spec(value: Any) -> FieldSpec:
    if isinstance(value, str):
        return FieldSpec(css=value)
    mapping = dict(value.get("map") or {})
    return FieldSpec(
        css=value.get("css"), attr=value.get("attr"), label=value.get("label"),
        pattern=value.get("pattern"), sentences=value.get("sentences"),
        rows=value.get("rows"), tier=value.get("tier"), amount=value.get("amount"),
        scope=value.get("from"), map=tuple(mapping.items()), const=value.get("const"),
        optional=bool(value.get("optional", False)),
    )


def parse_recipe(slug: str, recipe: Mapping[str, Any]) -> Recipe:
    """Validate and build a Recipe; raises RecipeError with every problem."""
    problems = validate_recipe(slug, dict(recipe))
    if problems:
        raise RecipeError(slug, problems)
    listing = recipe["listing"]
    feeds = recipe.get("feeds") or []
    return Recipe(
        listing=(listing,) if isinstance(listing, str) else tuple(listing),
        item=recipe["item"],
        link=recipe.get("link", "a[href]"),
        follow=bool(recipe.get("follow", False)),
        paginate=recipe.get("paginate"),
        max_pages=int(recipe.get("max_pages", 25)),
        feeds=(feeds,) if isinstance(feeds, str) else tuple(feeds),
        structured=tuple(recipe.get("structured", STRUCTURED_KINDS)),
        timezone=recipe.get("timezone"),
        date_order=recipe.get("date_order", "MDY"),
        currency=recipe.get("currency", "USD"),
        format=recipe.get("format"),
        schedule=recipe.get("schedule"),
        prefer=dict(recipe.get("prefer") or {}),
        hook=recipe.get("hook"),
        fields={
            name: tuple(_spec(v) for v in (value if isinstance(value, list) else [value]))
            for name, value in recipe["fields"].items()
        },
    )
