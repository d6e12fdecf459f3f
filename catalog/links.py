"""Links: one row per normalized URL, shared by the resources that use it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shelfcheck.catalog.models import Link
from shelfcheck.catalog.urlnorm import InvalidURL, host_of, normalize_url


def link_key(url: str) -> tuple[str, str]:
    """The (stored URL, host) of a catalog URL; an invalid URL is kept as written."""
    try:
        normalized = normalize_url(url)
    except InvalidURL:
        return url.strip(), ""
    return normalized, host_of(normalized)


class LinkCache:
    """Link rows by stored URL for a bulk load: existing links are read in one query, and new
    ones are added without a flush each (a query and a flush per URL is slow at 100,000)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.by_url = {link.url: link for link in session.scalars(select(Link))}

    def get(self, url: str) -> Link:
        """The Link row for `url`, created (state `unknown`) if it is new."""
        stored, host = link_key(url)
        link = self.by_url.get(stored)
        if link is None:
            link = Link(url=stored, host=host, state="unknown", consecutive_failures=0)
            self.session.add(link)
            self.by_url[stored] = link
        return link


def get_or_create_link(session: Session, url: str) -> Link:
    """The Link row for `url`, created (state `unknown`) if it is new."""
    stored, host = link_key(url)
    link = session.scalar(select(Link).where(Link.url == stored))
    if link is None:
        link = Link(url=stored, host=host, state="unknown", consecutive_failures=0)
        session.add(link)
        session.flush()
    return link
