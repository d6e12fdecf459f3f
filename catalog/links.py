"""Links: one row per normalized URL, shared by the resources that use it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Link
from catalog.urlnorm import InvalidURL, host_of, normalize_url


def link_key(url: str) -> tuple[str, str]:
    """The (stored URL, host) of a catalog URL; an invalid URL is kept as written."""
    try:
        normalized = normalize_url(url)
    except InvalidURL:
        return url.strip(), ""
    return normalized, host_of(normalized)


def get_or_create_link(session: Session, url: str) -> Link:
    """The Link row for `url`, created (state `unknown`) if it is new."""
    stored, host = link_key(url)
    link = session.scalar(select(Link).where(Link.url == stored))
    if link is None:
        link = Link(url=stored, host=host, state="unknown", consecutive_failures=0)
        session.add(link)
        session.flush()
    return link
