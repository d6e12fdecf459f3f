"""Fees: free text or fee-table rows to tiers (audience label, Decimal amount, currency).

Rules:
- "Free" (and "no charge", "free webinar", ...) is a known fee of 0.
- Text that states no amount and no "free" is an *unknown* fee, never 0.
- One amount is one tier labelled "" (the label describes the fee, not an audience).
- Several amounts without audience labels (a sale and a regular price, a range) are one tier:
  the lowest amount.
- Several amounts are tiers; each amount's audience label is read in one of three styles:
  "$43 (PLA member) or $59 (nonmember)", "$130 for RUSA members, $160 for ALA members and ...",
  "ALA members $45 / non-members $60" (or "Members: $45; Non-members: $60").
- A sale is one price: amounts marked as the regular price ("Original price was: $250.00",
  "Regular price", "was $250 now $199", a struck-through `<del>`, see `selectors.fee_text`) and
  their repeats are the tier's `regular` price, kept as information; the other amount is the fee.
- A tier label is an audience ("ALA members", "students and retirees"): prefix words, price
  words, screen-reader phrases and punctuation are stripped (`audience`); what is left empty is
  no label.
- "Free for X, $Y for others" and "Members: free; non-members: $50" make a tier of 0.
Amounts are parsed with price-parser; currency symbols become ISO codes ("$" is the recipe's
currency, USD by default).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from price_parser import Price

from shelfcheck.crawler.extract.text import clean

_AMOUNT = re.compile(
    r"(?P<token>(?:US\$|CA\$|C\$|A\$|AU\$|NZ\$|\$|€|£|\bUSD|\bEUR|\bGBP|\bCAD)\s?"
    r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?"
    r"|(?:US\$|CA\$|C\$|A\$|AU\$|NZ\$|\$|€|£|\bUSD|\bEUR|\bGBP|\bCAD)\s?\d+(?:\.\d{1,2})?"
    r"|\b\d+(?:\.\d{2})?\s?(?:USD|EUR|GBP|CAD|dollars)\b)",
    re.IGNORECASE,
)
_FREE_TIER = re.compile(r"\bfree\b(?=\s+(?:for|to)\b)|(?<=[:=] )free\b|(?<=[:=])free\b"
                        r"|(?<=\bare )free\b|(?<=\bis )free\b", re.IGNORECASE)
_REGULAR_BEFORE = re.compile(
    r"(?:\b(?:original|regular|old|list|usual|normal|full|retail)\s+price"
    r"(?:\s+(?:was|is))?|\bwas|\bnormally|\busually|\breg\.?|\bregularly)\s*[:=]?\s*$",
    re.IGNORECASE)
_NOT_AUDIENCE = re.compile(
    r"\b(?:(?:original|regular|current|sale|list|old|new|our|special|discounted|reduced|"
    r"full|retail|course|webinar|event|workshop|class|total|your)\s+)?"
    r"(?:price|prices|cost|costs|fee|fees|rate|rates|tuition|amount|registration|subtotal|"
    r"total)\b(?:\s+(?:was|is|now|only|from|just|of))*"
    r"|\b(?:was|now|is|are|from|only|just|starting(?:\s+at)?|sale|on\s+sale|save|"
    r"pay|pays|each|per\s+\w+|incl(?:\.|uding)?\s+tax|add\s+to\s+cart|register(?:\s+now)?|"
    r"buy(?:\s+now)?|usd|cad|eur|gbp|the|a|an)\b",
    re.IGNORECASE)
FREE_TEXT = re.compile(
    r"^\s*free\b|\b(?:a|is|are|always|completely|totally|entirely|remains?)\s+free\b"
    r"|\b(?:cost|costs|fee|fees|price|admission|registration)\s*[:=-]\s*free\b"
    r"|\bfree\s+(?:of\s+charge|to\s+attend|and\s+open"
    r"|(?:online\s+|live\s+)?(?:webinars?|courses?|events?|training|workshops?|sessions?))"
    r"|\bno\s+(?:charge|cost|registration\s+fee)\b|\bat\s+no\s+(?:charge|cost)\b"
    r"|\bwithout\s+charge\b|\bcomplimentary\b|\bno-cost\b|\bno\s+fee\s+(?:is\s+)?(?:charged|required)",
    re.IGNORECASE,
)
_SYMBOLS = {
    "$": None, "us$": "USD", "usd": "USD", "dollars": None, "ca$": "CAD", "c$": "CAD",
    "cad": "CAD", "a$": "AUD", "au$": "AUD", "nz$": "NZD", "€": "EUR", "eur": "EUR",
    "£": "GBP", "gbp": "GBP",
}
_CONNECTORS = re.compile(
    r"^(?:[\s,;/|&+·•-]|(?:and|or|plus|just|only|then)\b)+"
    r"|(?:[\s,;/|&+·•(-]|\b(?:and|or|plus|just|only|then))+$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<!\d)[.!?](?:\s|$)|\n")
_NUMBER_RUN = re.compile(r"[\d.,]*")
_PLAIN_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?")
_MINUS = "-\u2212"
_SIGN_AFTER_SYMBOL = re.compile(r"(?:US\$|CA\$|C\$|A\$|AU\$|NZ\$|\$|€|£)\s?[-\u2212]\s?\d")


@dataclass(frozen=True)
class Tier:
    """One fee for one audience ("" when there is one price)."""

    tier: str
    amount: Decimal
    currency: str
    raw: str
    regular: Decimal | None = None  # the price before a sale


@dataclass
class Fees:
    """The fee of an offering: `known` is False when the text says nothing about the fee.

    `problem` says why an amount was not believed (negative, malformed): the fee is then
    unknown, and the raw text is kept rather than a guessed number.
    """

    known: bool
    tiers: list[Tier] = field(default_factory=list)
    raw: str = ""
    problem: str | None = None

    @property
    def is_free(self) -> bool:
        """True when every tier is 0."""
        return self.known and bool(self.tiers) and all(t.amount == 0 for t in self.tiers)


UNKNOWN = Fees(known=False)


def _currency(symbol: str | None, default: str) -> str:
    if not symbol:
        return default
    return _SYMBOLS.get(symbol.strip().lower()) or (
        symbol.upper() if len(symbol) == 3 and symbol.isalpha() else default
    )


def amount_problem(flat: str, start: int, end: int) -> str | None:
    """Why the amount token at flat[start:end] is not a plain price, or None.

    A minus sign before it makes it negative; digits, commas and dots running on past it
    ("$1,00.0", "$1.000,00") make it malformed. Either way no number is read from it.
    """
    digits = next((i for i in range(start, end) if flat[i].isdigit()), None)
    if digits is None:
        return None
    run = _NUMBER_RUN.match(flat, digits)
    number = flat[digits: run.end() if run else end].rstrip(".,")
    if not _PLAIN_NUMBER.fullmatch(number):
        return f"malformed amount {flat[start:digits] + number!r}"
    if start and flat[start - 1] in _MINUS and (start < 2 or not flat[start - 2].isalnum()):
        return f"negative amount {flat[start - 1:end]!r}"
    return None


def _text_problem(flat: str) -> str | None:
    match = _SIGN_AFTER_SYMBOL.search(flat)
    if match:
        return f"negative amount {match.group()!r}"
    for token in _AMOUNT.finditer(flat):
        problem = amount_problem(flat, token.start(), token.end())
        if problem:
            return problem
    return None


def parse_amount(text: str, *, currency: str = "USD") -> tuple[Decimal, str] | None:
    """The amount and ISO currency of one price text ("$200.00", "Free"), or None."""
    flat = clean(text)
    if not flat:
        return None
    match = _AMOUNT.search(flat)
    if match is None:
        return (Decimal("0.00"), currency) if FREE_TEXT.search(flat) else None
    price = Price.fromstring(match.group("token"), currency_hint=currency)
    if price.amount is None:
        return None
    return price.amount.quantize(Decimal("0.01")), _currency(price.currency, currency)


def audience(label: str) -> str:
    """The audience a tier label names, "" when it names none (price words, screen-reader
    phrases, punctuation: "Original price was:", "Price", "-")."""
    text = _NOT_AUDIENCE.sub(" ", clean(label))
    text = re.sub(r"^\W*(?:for|to)\b", " ", text, flags=re.IGNORECASE)
    text = _CONNECTORS.sub("", clean(text)).strip(" :=-–—()[]!*.,")
    text = _CONNECTORS.sub("", text).strip(" :=-–—()[]!*.,")
    return text if re.search(r"[^\W\d_]{2}", text) else ""


def _label(text: str) -> str:
    label = _CONNECTORS.sub("", clean(text)).strip(" :=-–—")
    return audience(_CONNECTORS.sub("", label).strip())


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        count = seen.get(label.casefold(), 0) + 1
        seen[label.casefold()] = count
        out.append(label if count == 1 else f"{label} ({count})".strip())
    return out


def parse_fees(text: str | None, *, currency: str = "USD") -> Fees:
    """Read the fee tiers in a text (see the module docstring for the rules)."""
    flat = clean(text)
    if not flat:
        return UNKNOWN
    problem = _text_problem(flat)
    if problem:
        return Fees(False, [], flat, problem)
    tokens: list[tuple[int, int, Decimal, str, str]] = []
    for match in _AMOUNT.finditer(flat):
        before = flat[max(0, match.start() - 6): match.start()].lower()
        after = flat[match.end(): match.end() + 5].lower()
        if before.rstrip().endswith("save") or after.startswith((" off", "% ")):
            continue
        parsed = parse_amount(match.group("token"), currency=currency)
        if parsed is not None:
            tokens.append((match.start(), match.end(), parsed[0], parsed[1], match.group("token")))
    if tokens:
        for match in _FREE_TIER.finditer(flat):
            tokens.append((match.start(), match.end(), Decimal("0.00"), currency, match.group()))
        tokens.sort()
    tokens, regular = _without_regular(flat, tokens)
    if not tokens:
        if FREE_TEXT.search(flat):
            return Fees(True, [Tier("", Decimal("0.00"), currency, flat)], flat)
        return Fees(False, [], flat)
    if len(tokens) == 1:
        _s, _e, amount, cur, raw = tokens[0]
        return Fees(True, [Tier("", amount, cur, raw, regular)], flat)

    afters = [flat[end: tokens[i + 1][0] if i + 1 < len(tokens) else len(flat)]
              for i, (_s, end, *_r) in enumerate(tokens)]
    befores = [flat[(tokens[i - 1][1] if i else 0): start]
               for i, (start, *_r) in enumerate(tokens)]
    paren = [re.match(r"\s*\(([^)]*)\)", a) for a in afters]
    for_ = [re.match(r"\s*(?:for|to)\s+(.+)", a, re.IGNORECASE | re.DOTALL) for a in afters]
    labels: list[str]
    if sum(m is not None for m in paren) * 2 >= len(tokens):
        labels = [_label(m.group(1)) if m else "" for m in paren]
    elif sum(m is not None for m in for_) * 2 >= len(tokens):
        labels = []
        for m in for_:
            text_after = m.group(1) if m else ""
            end = _SENTENCE_END.search(text_after)
            labels.append(_label(text_after[: end.start()] if end else text_after))
    else:
        labels = []
        for before in befores:
            segment = re.split(r"[.!?]\s|\n", before)[-1]
            segment = segment.rsplit(":", 1)[0] if segment.rstrip().endswith(":") else segment
            segment = segment.rsplit(":", 1)[-1]
            labels.append(_label(segment))
    if not any(labels):
        # amounts without audiences (a sale and a regular price, a range): the lowest is the
        # price a buyer pays
        _s, _e, amount, cur, raw = min(tokens, key=lambda t: t[2])
        return Fees(True, [Tier("", amount, cur, raw, regular)], flat)
    tiers: list[Tier] = []
    seen: set[tuple[str, Decimal]] = set()
    for (_s, _e, amount, cur, raw), label in zip(tokens, _unique(labels), strict=True):
        if (label.casefold(), amount) in seen:
            continue
        seen.add((label.casefold(), amount))
        tiers.append(Tier(label, amount, cur, raw))
    if len(tiers) == 1:
        tiers = [Tier("", tiers[0].amount, tiers[0].currency, tiers[0].raw, regular)]
    return Fees(True, tiers, flat)


_Token = tuple[int, int, Decimal, str, str]


def _without_regular(flat: str, tokens: list[_Token]) -> tuple[list[_Token], Decimal | None]:
    """Drop the regular price of a sale (and its screen-reader repeats); (tokens, regular).

    Only a sale counts: some amount marked regular, and a lower amount not so marked.
    """
    marked = {t[2] for t in tokens if _REGULAR_BEFORE.search(flat[max(0, t[0] - 40): t[0]])}
    if not marked:
        return tokens, None
    rest = [t for t in tokens if t[2] not in marked]
    regular = max(marked)
    if not rest or min(t[2] for t in rest) >= regular:
        return tokens, None
    return rest, regular


def fees_from_rows(rows: Sequence[tuple[str, str]], *, currency: str = "USD") -> Fees:
    """Fee-table rows (label cell, amount cell) to tiers; one row is one tier labelled ""."""
    tiers: list[Tier] = []
    raw = "; ".join(f"{clean(label)} {clean(amount)}".strip() for label, amount in rows)
    for _label_text, amount_text in rows:
        problem = _text_problem(clean(amount_text))
        if problem:
            return Fees(False, [], raw, problem)
    labels = _unique([_label(label) for label, _amount in rows])
    for (_label_text, amount_text), label in zip(rows, labels, strict=True):
        parsed = parse_amount(amount_text, currency=currency)
        if parsed is not None:
            tiers.append(Tier(label, parsed[0], parsed[1], clean(amount_text)))
    if not tiers:
        return UNKNOWN
    if len(tiers) == 1:
        tiers = [Tier("", tiers[0].amount, tiers[0].currency, tiers[0].raw)]
    return Fees(True, tiers, raw)
