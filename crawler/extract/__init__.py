"""Extraction of offerings from a provider's pages, driven by its recipe.

Every item is read by each extractor kind (see `registry`): structured data first (JSON-LD,
microdata, RDFa, hCalendar, iCalendar feeds), then the recipe's declared selectors. Each kind
offers *candidates*; `merge` picks one per field by this precedence, and records which source
gave each field:

- **start / end**: structured data wins over visible text. Structured values are written by the
  site's software from the same database field as the text, in ISO 8601 with an offset (or in the
  recipe's zone), while visible text drops years, zones or the end date ("through 1:00 PM",
  "3:00 pm Eastern / 12:00 pm Pacific").
- **fee**: visible fee text wins when it names two or more audiences, since an Offer flattens
  membership tiers into one number. Otherwise a structured Offer wins over a single visible price:
  a visible price block mixes regular and sale prices, cart totals and "from" prices, and the
  Offer is the price the shop charges. An Offer whose `priceValidUntil` has passed is stale and
  loses; so do nodes about other pages (related products).
- **title, description, format**: the recipe's selectors win; structured `name` fills in when
  no selector matches (hCalendar's `summary` is not used: CiviCRM puts the description there).
  `format` then falls back to the recipe's `format:`, then to the structured type (Course).
- **lssc**: selectors only (no structured vocabulary says "LSSC approved").
- **url**: the item's link (the canonical URL) wins over a structured `url`.

A recipe may flip one field with `prefer: {fee: selector}` when a site's structured data is
known to be wrong.
"""
