"""The providers' sites on loopback, in two states: the package's demo web (one copy of the
server and its pages, `shelfcheck/demo/web.py`, `sitefiles.py` and `sites/{A,B}`; the folders
`fixtures/sites{,-b}` link to them), plus `walk_offline` for extraction tests.

    python -m tests.sites --port 8765          # prints the host_map entries for state A and B
"""

from __future__ import annotations

from shelfcheck.demo.sitefiles import (  # noqa: F401  (re-exported for the tests)
    LAST_MODIFIED,
    LIVE,
    RULES,
    SESSION_PARAMS,
    SITE_HOSTS,
    STATE_DIRS,
    Rule,
    SiteFiles,
    content_type,
    host_map,
    read_offline,
    real_to_local,
    rule_for,
    url_of,
)
from shelfcheck.demo.web import Handler, SitesServer, main  # noqa: F401  (re-exported)


def walk_offline(walk: object, state: str = "A") -> object:
    """Drive a `crawler.walk.ProviderWalk` over the site files of `state`; returns its crawl."""
    from shelfcheck.crawler.extract.model import Page
    from shelfcheck.crawler.walk import ProviderWalk

    assert isinstance(walk, ProviderWalk)
    files = SiteFiles(state)
    queue = walk.start()
    while queue:
        fetch = queue.pop(0)
        status, body, ctype, final = read_offline(fetch.url, state, files)
        if status != 200:
            walk.on_failure(fetch, f"HTTP {status}", status=status)
            continue
        charset = ctype.split("charset=")[-1] if "charset=" in ctype else "utf-8"
        queue.extend(walk.on_page(fetch, Page(final, body.decode(charset, "replace"), ctype)))
    return walk.finish()


if __name__ == "__main__":
    main()
