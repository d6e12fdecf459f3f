"""The recipe's one declaration: pydantic models whose fields give the schema, the defaults,
the validation and the documentation (docs/listings.md's key tables, `crawler.recipedoc`).

`crawler.recipe` builds a Recipe from what the catalog file says (preset merged in) and reports
every problem by key path.
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
