"""Platform ids and registration status from a platform's own markup (issue 13 §1, §2)."""

from __future__ import annotations

import pytest
from parsel import Selector

from shelfcheck.crawler.extract.platform import platform_ids, status_of, statuses, title_status


@pytest.mark.parametrize(("text", "status"), [
    ("Registration is full", "full"), ("Class is full", "full"),
    ("This event is currently full.", "full"), ("Fully booked", "full"),
    ("No seats left", "full"), ("Waitlist only", "waitlist"),
    ("Join the waiting list", "waitlist"), ("Event is full. Join the waitlist.", "waitlist"),
    ("Sold out", "sold_out"), ("Out of stock", "sold_out"), ("Registration closed", "closed"),
    ("Registration is closed.", "closed"), ("Registration has closed", "closed"),
    ("Canceled", "cancelled"), ("CANCELLED", "cancelled"),
    ("This webinar has been cancelled", "cancelled"),
])
def test_status_texts(text: str, status: str) -> None:
    found = status_of(text)
    assert found is not None and found.value == status


@pytest.mark.parametrize("text", [
    "Seats fill up fast; a cancellation policy applies.", "A session full of practical tips",
    "Cancellation policy", "Registration is required. 12 seats left.", "Register now",
    "Cancelled sessions are announced by e-mail; this one moved to the spring meeting.",
    "Available", "In stock",
])
def test_prose_is_not_a_status(text: str) -> None:
    assert status_of(text) is None


def test_a_cancelled_title() -> None:
    assert title_status("CANCELLED: Government Documents Today") is not None
    assert title_status("Canceled - Storytime") is not None
    assert title_status("Cancelled Sessions and What to Do") is None


def _item(html: str) -> Selector:
    return Selector(text=f"<ul>{html}</ul>").css("ul > *")[0]


@pytest.mark.parametrize(("html", "link", "pid"), [
    ('<li class="product type-product post-301 instock"><a href="/p/x/">X</a></li>', None,
     "wp:301"),
    ('<li class="wc-block-product"><button data-product_id="418">Add</button></li>', None,
     "wp:418"),
    ('<div class="coursebox" data-courseid="31"><a href="/c">C</a></div>', None, "moodle:31"),
    ('<article data-history-node-id="77" about="/events/x"><a href="/e">E</a></article>', None,
     "node:77"),
    ('<tr><td><a href="/civicrm/event/info?reset=1&amp;id=201">E</a></td></tr>',
     "https://x.org/civicrm/event/info?id=201&reset=1", "civicrm:201"),
    ('<div class="s-lc-c-evt"><a href="/event/11223344">E</a></div>',
     "https://lib.libcal.com/event/11223344", "event:11223344"),
    ('<div class="views-row"><a href="/training/x">X</a></div>', "https://x.org/training/x",
     None),
])
def test_platform_ids(html: str, link: str | None, pid: str | None) -> None:
    found = platform_ids(_item(html), link, None, None)
    assert (found[0].value if found else None) == pid


def test_the_detail_page_gives_an_id_when_the_item_has_none() -> None:
    detail = '<html><body class="single single-product postid-305">x</body></html>'
    found = platform_ids(_item('<li><a href="/p/">P</a></li>'), "https://x.org/p/",
                         "https://x.org/p/", detail)
    assert [c.value for c in found] == ["wp:305"]


def test_statuses_read_badges_not_sidebars() -> None:
    detail = Selector(text='<body><div class="alert">Registration is closed.</div><ul><li>'
                           '<a href="/x">Registration closed events archive</a></li></ul></body>')
    found = statuses(_item('<li class="product outofstock"><a href="/p">P</a></li>'), detail)
    assert [c.value for c in found] == ["sold_out", "closed"]
    quiet = Selector(text='<body><ul><li><a href="/x">Registration closed events</a></li></ul>'
                          '</body>')
    assert statuses(_item('<li><a href="/p">P</a> <span>$20</span></li>'), quiet) == []
