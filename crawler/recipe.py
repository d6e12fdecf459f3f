"""Listing recipes: what a provider declares under `recipe:` in the catalog file.

A recipe tells the one listing spider where a provider lists its offerings and where each field
sits, so a maintainer can fix it after a redesign without touching Python. The recipe is declared
once, as the pydantic models below: their fields give the schema, the defaults, the validation
(`validate_recipe` turns pydantic's error locations into key paths such as `fields.fee[1].rows`,
which the catalog loader maps to file:line) and the key tables of docs/listings.md
(`recipe_keys_table`, compared with the document in a test).

    recipe:
      preset: woocommerce                            # a platform preset (crawler/presets.py)
      listing: https://infopeople.org/training      # one URL or a list
      item: ".view-training-events .views-row"       # CSS of one offering on a listing page
      fields:
        title: ".views-field-title a"                # CSS shorthand
        fee:                                         # alternatives, tried in order
          - {rows: "table.fee_block-table tr", tier: "td.fee_level-label",
             amount: "td.fee_amount-value", from: detail}
          - {css: ".event_summary-section", from: detail}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    model_validator,
)

from shelfcheck.crawler.extract.model import FIELDS, STRUCTURED_KINDS
from shelfcheck.crawler.recipetypes import (
    FORMATS,
    PREFERABLE,
    SCHEDULES,
    SCOPES,
    Css,
    Regex,
    Text,
    Url,
    check_at_least_one,
    check_currency,
    check_format_map,
    check_hook,
    check_kind,
    check_one_of,
    check_preference,
    check_preset,
    check_zone,
    listify,
)

__all__ = ["FORMATS", "SCOPES", "FieldSpec", "Recipe", "RecipeError", "parse_recipe",
           "validate_recipe"]



class RecipeError(ValueError):
    """A recipe is invalid; `problems` holds (key path, problem) pairs."""

    def __init__(self, slug: str, problems: list[tuple[str, str]]) -> None:
        self.slug = slug
        self.problems = problems
        super().__init__("; ".join(f"recipe of '{slug}' {k}: {p}" for k, p in problems))


class FieldSpec(BaseModel):
    """Where one field sits: a CSS selector and/or a label pattern, in a scope."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    css: Css | None = Field(None, description="CSS selector (parsel: `::text` and `::attr(x)` "
                            "work; `:scope` is the item itself)")
    attr: Text | None = Field(None, description="read this attribute instead of the text "
                              "(`{css: \"meta[itemprop=endDate]\", attr: content}`)")
    label: Text | None = Field(None, description="a label pattern: the value after `Label:` on "
                               "its line (`{css: \".short-description\", label: Dates}`)")
    sentences: Regex | None = Field(None, description="keep only the sentences matching this "
                                    "regular expression (fees inside a summary)")
    pattern: Regex | None = Field(None, description="a regular expression: its first group (or "
                                  "match) is the value; for `lssc`, a match means `true`")
    rows: Css | None = Field(None, description="fee tables: CSS of a row (with `tier` and "
                             "`amount`)")
    tier: Css | None = Field(None, description="fee tables: CSS of a row's audience cell")
    amount: Css | None = Field(None, description="fee tables: CSS of a row's amount cell")
    map: Annotated[tuple[tuple[str, str], ...], BeforeValidator(check_format_map)] = Field(
        (), description="for `format`: page text → format (`{Webinar: webinar, \"Online "
        "Course\": course}`, substring, case-insensitive)")
    const: Any = Field(None, description="a constant value")
    scope: Annotated[str, AfterValidator(check_one_of(SCOPES))] | None = Field(
        None, alias="from", description="`listing` (the item), `page` (the whole listing page), "
        "or `detail` (needs `follow`); default: `detail` when following, else `listing`")
    optional: StrictBool = Field(False, description="`true`: no warning when nothing matches")
    origin: str = Field("recipe", exclude=True, description="")  # "preset NAME" or "recipe"

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"css": value}
        if isinstance(value, Mapping) and "origin" in value:
            raise ValueError("unknown key 'origin'")
        return value

    @model_validator(mode="after")
    def _complete(self) -> FieldSpec:
        if self.rows is not None and self.amount is None:
            raise ValueError("'rows' needs 'amount' (the CSS of the amount cell)")
        if self.rows is None and (self.tier is not None or self.amount is not None):
            raise ValueError("'tier' and 'amount' go with 'rows'")
        if all(v is None for v in (self.css, self.label, self.rows, self.const, self.pattern,
                                   self.sentences)):
            raise ValueError("needs one of css, label, rows, pattern, sentences or const")
        return self

    def describe(self, scope: str) -> str:
        """A short description for warnings and `recipes test`: "css '.x' on the detail page"."""
        origin = f"{self.origin}: " if self.origin != "recipe" else ""
        if self.const is not None:
            return f"{origin}constant {self.const!r}"
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
        return f"{origin}{' '.join(parts) or 'text'} on the {where}"


FieldName = Annotated[str, AfterValidator(check_one_of(FIELDS, "unknown field (allowed:"))]
Preferable = Annotated[str, AfterValidator(check_one_of(PREFERABLE, "unknown field (allowed:"))]
Specs = Annotated[tuple[FieldSpec, ...], BeforeValidator(listify)]


class Recipe(BaseModel):
    """A validated recipe."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: Annotated[str, BeforeValidator(check_preset)] | None = Field(
        None, description="a platform preset (below): its keys are the defaults, the recipe's "
        "own keys override them")
    listing: Annotated[tuple[Url, ...], BeforeValidator(listify)] = Field(
        description="the listing URL, or a list of them (required)")
    item: Css = Field(description="CSS selector of one offering on a listing page (required "
                      "unless a preset gives it)")
    link: Css = Field("a[href]", description="CSS selector of the item's link, inside the item; "
                      "its URL, with session and tracking parameters removed, is the "
                      "offering's canonical URL")
    paginate: Css | None = Field(None, description="CSS selector of the next-page link(s); "
                                 "followed to the end, at most `max_pages` listing pages")
    max_pages: Annotated[StrictInt, AfterValidator(check_at_least_one)] = Field(
        25, description="listing pages read at most (a warning says when it stops early)")
    follow: StrictBool = Field(False, description="`true`: fetch each item's link (its detail "
                               "page) and read fields there")
    feeds: Annotated[tuple[Url, ...], BeforeValidator(listify)] = Field(
        (), description="iCalendar feeds (CiviCRM's `civicrm/event/ical?reset=1&list=1`); their "
        "events add data to the items whose URL they name")
    structured: tuple[Annotated[str, BeforeValidator(check_kind)], ...] = Field(
        STRUCTURED_KINDS, description="structured-data kinds to read, in order")
    timezone: Annotated[str, BeforeValidator(check_zone)] | None = Field(
        None, description="IANA zone of dates that name none (default: the `timezone` setting)")
    date_order: Annotated[str, AfterValidator(check_one_of(("MDY", "DMY", "YMD")))] = Field(
        "MDY", description="`MDY`, `DMY` or `YMD` for numeric dates")
    currency: Annotated[str, BeforeValidator(check_currency)] = Field(
        "USD", description="ISO code of a bare `$`")
    format: Annotated[str, AfterValidator(check_one_of(FORMATS))] | None = Field(
        None, description="the format of offerings no field classifies: " + ", ".join(
            f"`{f}`" for f in FORMATS))
    schedule: Annotated[str, AfterValidator(check_one_of(SCHEDULES))] | None = Field(
        None, description="`self-paced` (or `unscheduled`) for providers whose offerings have "
        "no dates")
    prefer: dict[Preferable, Annotated[str, AfterValidator(check_preference)]] = Field(
        default_factory=dict, description="per field, `structured` or `selector`: flips the "
        "precedence when a site's structured data is known to be wrong")
    hook: Annotated[str, BeforeValidator(check_hook)] | None = Field(
        None, description="a registered Python hook (`crawler/extract/hooks.py`) for what "
        "cannot be declared")
    fields: dict[FieldName, Specs] = Field(
        description="where each field sits (below); `title` is required")
    preset_feeds: tuple[str, ...] = Field((), exclude=True, description="")  # optional feeds

    def scope_of(self, spec: FieldSpec) -> str:
        """The scope a field spec reads: its `from`, else the detail page when following."""
        return spec.scope or ("detail" if self.follow else "listing")


def _cross_checks(recipe: Recipe, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if "title" not in recipe.fields:
        problems.append(("fields.title", "missing required field"))
    written = data.get("fields") or {}
    for name, specs in recipe.fields.items():
        if not specs:
            problems.append((f"fields.{name}", "must not be an empty list"))
        listed = isinstance(written.get(name), list)
        for i, spec in enumerate(specs):
            path = f"fields.{name}[{i}]" if listed else f"fields.{name}"
            if spec.scope == "detail" and not recipe.follow:
                problems.append((f"{path}.from", "'detail' needs 'follow: true'"))
            if spec.map and name != "format":
                problems.append((f"{path}.map", "only the 'format' field takes a map"))
            if spec.rows and name != "fee":
                problems.append((f"{path}.rows", "only the 'fee' field takes rows"))
            if name == "lssc" and spec.pattern is None and spec.const is None:
                problems.append((path, "the 'lssc' field needs a 'pattern' (or a 'const')"))
    return problems


def _path(loc: tuple[int | str, ...], data: Any) -> str:
    """A pydantic error location as a key path of the recipe as written: `fields.fee[1].rows`
    (an index only where the recipe has a list)."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            if isinstance(node, list):
                out += f"[{part}]"
                node = node[part] if part < len(node) else None
            continue
        if not isinstance(node, Mapping):  # a shorthand (a CSS string): its own path
            break
        out += f".{part}" if out else str(part)
        node = node.get(part)
    return out


def _message(error: Any, allowed: str) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key (allowed: {allowed})"
    if kind == "missing":
        return "missing required key"
    if kind == "bool_type":
        return "must be true or false"
    if kind == "int_type":
        return "must be a whole number of at least 1"
    text = str(error["msg"])
    return text.removeprefix("Value error, ")


def _with_preset(recipe: Mapping[str, Any]) -> dict[str, Any]:
    from shelfcheck.crawler.presets import PRESETS

    name = recipe.get("preset")
    if not isinstance(name, str) or name not in PRESETS:
        return dict(recipe)
    base = PRESETS[name].recipe
    merged: dict[str, Any] = {**base, **recipe}
    fields: dict[str, Any] = {
        field: [_marked(spec, f"preset {name}") for spec in listify(specs)]
        for field, specs in base.get("fields", {}).items()}
    fields.update(recipe.get("fields") or {})
    merged["fields"] = fields
    return merged


def _marked(spec: Any, origin: str) -> Any:
    spec = {"css": spec} if isinstance(spec, str) else dict(spec)
    return {**spec, "origin": origin}


def _build(slug: str, recipe: Any) -> tuple[Recipe | None, list[tuple[str, str]]]:
    if not isinstance(recipe, Mapping):
        return None, [("", "a recipe must be a mapping")]
    if "preset_feeds" in recipe:
        return None, [("preset_feeds", "unknown key (the feeds a preset derives; use 'feeds')")]
    data = _with_preset(recipe)
    specs = {f: [s for s in listify(v) if isinstance(s, Mapping) and "origin" in s]
             for f, v in (data.get("fields") or {}).items()} if isinstance(
        data.get("fields"), Mapping) else {}
    try:
        built = Recipe.model_validate(_strip_origins(data))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            top = Recipe if len(loc) < 2 or loc[0] != "fields" else FieldSpec
            allowed = ", ".join(sorted(f.alias or n for n, f in top.model_fields.items()
                                       if not f.exclude))
            problems.append((_path(loc, recipe if loc and loc[0] in recipe else data),
                             _message(error, allowed)))
        return None, problems
    if specs:
        built = _with_origins(built, specs)
    if built.preset and not built.feeds:
        from shelfcheck.crawler.presets import PRESETS

        derive = PRESETS[built.preset].feeds
        if derive is not None:
            feeds = tuple(u for u in derive(built.listing[0]) if u not in built.listing)
            built = built.model_copy(update={"preset_feeds": feeds})
    problems = _cross_checks(built, data)
    return (None if problems else built), problems


def _strip_origins(data: dict[str, Any]) -> dict[str, Any]:
    fields = data.get("fields")
    if not isinstance(fields, Mapping):
        return data
    clean = {f: ([{k: v for k, v in s.items() if k != "origin"} if isinstance(s, Mapping)
                  else s for s in v] if isinstance(v, list) else v) for f, v in fields.items()}
    return {**data, "fields": clean}


def _with_origins(recipe: Recipe, marked: dict[str, list[Any]]) -> Recipe:
    fields = {}
    for name, specs in recipe.fields.items():
        origins = [m.get("origin", "recipe") for m in marked.get(name, [])]
        fields[name] = tuple(spec.model_copy(update={"origin": origins[i]})
                             if i < len(origins) else spec for i, spec in enumerate(specs))
    return recipe.model_copy(update={"fields": fields})


def validate_recipe(slug: str, recipe: dict[str, Any]) -> list[tuple[str, str]]:
    """Check a provider's recipe; returns (key path, problem) pairs, empty when valid."""
    return _build(slug, recipe)[1]


def parse_recipe(slug: str, recipe: Mapping[str, Any]) -> Recipe:
    """Validate and build a Recipe (its preset merged in); raises RecipeError with every
    problem."""
    built, problems = _build(slug, recipe)
    if built is None:
        raise RecipeError(slug, problems)
    return built
