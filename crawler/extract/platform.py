"""What the platform itself says about an item: its own id, and its registration status.

**Platform ids** (identity rung 1, `catalog.identity`) are read from, in order: the item's link
and the detail page's URL (CiviCRM `civicrm/event/info?id=N`, Moodle `course/view.php?id=N`,
Drupal `/node/N`, LibCal `/event/N`), the item's markup (WordPress `post-N` classes, which
WooCommerce and The Events Calendar put on each product and event, WooCommerce
`data-product_id`, Moodle `data-courseid`, Drupal `data-history-node-id` / `about="/node/N"`,
`data-event-id`), then the detail page (`postid-N` / `page-node-N` / `course-N` body classes,
the `shortlink`). Structured-data ids (`sku`, `productID`, `identifier`) come from
`structured.py` and win over these. Ids are namespaced (`wp:123`, `node:55`) so that two
platforms' numbers never meet.

**Status** is read from short status texts (badges, at most `BADGE_LENGTH` characters) in the
listing item, from status-like elements of the detail page (classes naming stock, status,
availability, badge, alert or registration), from a title that starts with "Cancelled", and
from WooCommerce's `outofstock` class. Words inside longer prose ("cancellation policy",
"seats fill up fast") are not a status.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from parsel import Selector

from shelfcheck.catalog.states import OfferingStatus
from shelfcheck.crawler.extract.model import Candidate
from shelfcheck.crawler.extract.text import clean

BADGE_LENGTH = 60

URL_IDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("civicrm", re.compile(r"civicrm/event/(?:info|register)\b[^#]*?[?&]id=(\d+)")),
    ("moodle", re.compile(r"/course/view\.php\?(?:[^#]*&)?id=(\d+)")),
    ("node", re.compile(r"/node/(\d+)(?:$|[/?#])")),
    ("event", re.compile(r"/event/(\d{3,})(?:$|[/?#])")),
)
MARKUP_IDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("wp", re.compile(r"""\bclass=["'][^"']*\bpost-(\d+)\b""")),
    ("wp", re.compile(r"""\bdata-product_id=["'](\d+)""")),
    ("wp", re.compile(r""""productId"\s*:\s*(\d+)""")),
    ("moodle", re.compile(r"""\bdata-courseid=["'](\d+)""")),
    ("node", re.compile(r"""\bdata-history-node-id=["'](\d+)""")),
    ("node", re.compile(r"""\babout=["'][^"']*/node/(\d+)["']""")),
    ("node", re.compile(r"""\bid=["']node-(\d+)["']""")),
    ("event", re.compile(r"""\bdata-event-id=["'](\d+)""")),
)
DETAIL_IDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("wp", re.compile(r"""<body[^>]*\bclass=["'][^"']*\bpostid-(\d+)\b""")),
    ("node", re.compile(r"""<body[^>]*\bclass=["'][^"']*\bpage-node-(\d+)\b""")),
    ("moodle", re.compile(r"""<body[^>]*\bclass=["'][^"']*\bcourse-(\d+)\b""")),
    ("wp", re.compile(r"""<link[^>]*rel=["']shortlink["'][^>]*href=["'][^"']*[?&]p=(\d+)""")),
    ("node", re.compile(r"""<link[^>]*rel=["']shortlink["'][^>]*href=["'][^"']*/node/(\d+)""")),
)

STATUS_PATTERNS: tuple[tuple[OfferingStatus, re.Pattern[str]], ...] = tuple(
    (status, re.compile(pattern, re.IGNORECASE)) for status, pattern in (
        (OfferingStatus.CANCELLED,
         r"^(?:this\s+(?:event|webinar|course|session|class|workshop)\s+(?:has\s+been|is|was)"
         r"\s+)?(?:cancell?ed|postponed\s+indefinitely)\b"),
        (OfferingStatus.CLOSED,
         r"\b(?:registration|enrol?ment|sign-?ups?)\s+(?:is\s+|has\s+)?(?:now\s+)?closed\b"
         r"|^closed$"),
        (OfferingStatus.SOLD_OUT, r"\bsold\s*-?\s*out\b|\bout\s+of\s+stock\b"),
        (OfferingStatus.WAITLIST, r"\bwait(?:ing)?\s*-?\s*list\b"),
        (OfferingStatus.FULL,
         r"^(?:(?:registration|class|course|session|event|webinar|workshop|this\s+\w+)\s+)?"
         r"(?:is\s+)?(?:now\s+|currently\s+)?(?:full|fully\s+booked|at\s+capacity)\b(?!\s+of)"
         r"|\bno\s+(?:seats|spaces|places)\s+(?:left|available|remaining)\b"),
    )
)
_TITLE_CANCELLED = re.compile(r"^\W*(?:cancell?ed|canceled)\b\s*[:\-–—!|]", re.IGNORECASE)
_STATUS_CLASSES = ("stock", "status", "availability", "badge", "alert", "register",
                   "registration", "notice", "label")


def status_of(text: str | None) -> OfferingStatus | None:
    """The status a short text states ("Registration is full" -> full), or None."""
    flat = clean(text).strip(" .!*()[]")
    if not flat or len(flat) > BADGE_LENGTH:
        return None
    for status, pattern in STATUS_PATTERNS:
        if pattern.search(flat):
            return status
    return None


def title_status(title: str) -> OfferingStatus | None:
    """"CANCELLED: Intro to RDA" names its status in the title."""
    return OfferingStatus.CANCELLED if _TITLE_CANCELLED.match(clean(title)) else None


def _first(patterns: Iterable[tuple[str, re.Pattern[str]]], text: str) -> str | None:
    for namespace, pattern in patterns:
        match = pattern.search(text)
        if match:
            return f"{namespace}:{match.group(1)}"
    return None


def _root_tag(item: Selector) -> str:
    html = item.get() or ""
    end = html.find(">")
    return html[: end + 1] if end >= 0 else html


def platform_ids(item: Selector, link: str | None, detail_url: str | None,
                 detail_html: str | None) -> list[Candidate]:
    """Platform-id candidates of an item, best first (see the module docstring)."""
    out: list[Candidate] = []
    for url, where in ((link, "item link"), (detail_url, "detail URL")):
        if url and (pid := _first(URL_IDS, url)):
            out.append(Candidate("platform_id", pid, "platform", f"{where} {url}", pid))
    html = item.get() or ""
    for text, where in ((_root_tag(item), "item element"), (html, "item markup")):
        if pid := _first(MARKUP_IDS, text):
            out.append(Candidate("platform_id", pid, "platform", where, pid))
    if detail_html and (pid := _first(DETAIL_IDS, detail_html[:50000])):
        out.append(Candidate("platform_id", pid, "platform", "detail page", pid))
    return out


def _badges(node: Selector) -> Iterable[str]:
    for text in node.xpath(".//text()[normalize-space()]").getall():
        if len(clean(text)) <= BADGE_LENGTH:
            yield text


def statuses(item: Selector, detail: Selector | None) -> list[Candidate]:
    """Status candidates of an item, best first (see the module docstring)."""
    out: list[Candidate] = []
    if re.search(r"\boutofstock\b", _root_tag(item)):
        out.append(Candidate("status", OfferingStatus.SOLD_OUT.value, "platform",
                             "item class outofstock", "outofstock"))
    for text in _badges(item):
        if status := status_of(text):
            out.append(Candidate("status", status.value, "platform", "listing item text",
                                 clean(text)))
            break
    if detail is not None:
        classes = " or ".join(f"contains(@class, '{c}')" for c in _STATUS_CLASSES)
        for node in detail.xpath(f"//body//*[{classes}][not(self::body)]")[:200]:
            text = clean(" ".join(node.xpath(".//text()").getall()))
            if status := status_of(text):
                out.append(Candidate("status", status.value, "platform", "detail page badge",
                                     text))
                break
    return out
