"""The demo web's content: the site files of each state, the status rules and robots.txt blocks
of week two, the real hosts they stand for, and reading a real URL from the files offline."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

SITES = Path(__file__).resolve().parent / "sites"
STATE_DIRS = {"A": [SITES / "A"], "B": [SITES / "B", SITES / "A"]}
LIVE = "live"  # the path segment served from the server's current state
SITE_HOSTS = {
    "https://infopeople.org": "infopeople",
    "https://libraryjuiceacademy.com": "lja",
    "https://www.webjunction.org": "webjunction",
    "https://elearning.ala.org": "ala-elearning",
    "https://www.techsoup.org": "techsoup",
    "https://libraries.idaho.gov": "able",
    "http://www.lili.org": "able",
    "https://www.ala.org": "ala",
    "http://ala-apa.org": "ala-apa",
    "http://www.techsoupforlibraries.org": "techsoupforlibraries",
}
LAST_MODIFIED = {"A": "Fri, 20 Nov 2026 17:42:09 GMT", "B": "Tue, 24 Nov 2026 09:00:00 GMT"}
SESSION_PARAMS = {"sid", "jsessionid", "phpsessid", "sessionid", "utm_source", "utm_medium",
                  "utm_campaign", "wcs", "tsid", "ssid", "sesskey"}


@dataclass(frozen=True)
class Rule:
    """A response that is not a file: an error status, a redirect or a delay.

    `location` is a template: ``{id}`` and the other query parameters of the request, and
    ``{here}``, the absolute URL of the site's folder on this server (``http://HOST/B/ala``).
    """

    site: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    status: int = 200
    location: str | None = None
    delay: float = 0.0


REDIRECTS = [Rule("ala-elearning", "/course/view.php", status=303,
                  location="https://elearning.ala.org/enrol/index.php?id={id}")]
RULES: dict[str, list[Rule]] = {
    "A": REDIRECTS,
    "B": [
        *REDIRECTS,
        # a listing outage
        Rule("webjunction", "/events/webjunction.html", status=503),
        # pagination page 2 fails
        Rule("techsoup", "/community/events-webinars", (("page", "1"),), status=500),
        # a moved page (permanent redirect)
        Rule("ala", "/educationcareers/careers/corecomp/corecompetences", status=301,
             location="{here}/educationcareers/competencies/"),
        # a dead link
        Rule("techsoupforlibraries", "/", status=404),
    ],
}
# Sites whose robots.txt forbids every path in a state: a blocked host.
ROBOTS_BLOCKED: dict[str, tuple[str, ...]] = {"A": (), "B": ("ala-apa",)}


def url_of(rel: str) -> tuple[str, frozenset[tuple[str, str]]]:
    """The URL path and query a site file stands for (its path under the site's folder)."""
    folder, _, name = rel.rpartition("/")
    prefix = f"/{folder}/" if folder else "/"
    if "__" in name:
        base, _, encoded = name.partition("__")
        encoded = encoded.rsplit(".", 1)[0]
        pairs = (part.split("-", 1) for part in encoded.split("_"))
        return prefix + base, frozenset((key, value) for key, value in pairs)
    if name == "index.html":
        return prefix, frozenset()
    return prefix + name, frozenset()


@dataclass
class SiteFiles:
    """The files of one state, indexed by (site, path, query)."""

    state: str
    index: dict[tuple[str, str, frozenset[tuple[str, str]]], Path] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for root in reversed(STATE_DIRS[self.state]):
            for file in root.rglob("*"):
                if not file.is_file() or file.name == "README.md":
                    continue
                site, _, rel = file.relative_to(root).as_posix().partition("/")
                path, query = url_of(rel)
                self.index[(site, path, query)] = file
                if path.endswith(".html") and not query:
                    self.index[(site, path.removesuffix(".html"), query)] = file
                if path.endswith("/index.html"):
                    self.index[(site, path.removesuffix("index.html"), query)] = file

    def resolve(self, site: str, path: str, query: str) -> Path | None:
        """The file for a request, ignoring session parameters the file name does not carry."""
        pairs = parse_qsl(query, keep_blank_values=True)
        exact = self.index.get((site, path, frozenset(pairs)))
        if exact is not None:
            return exact
        kept = frozenset(p for p in pairs if p[0].lower() not in SESSION_PARAMS)
        return self.index.get((site, path, kept))


def rule_for(state: str, site: str, path: str, query: str) -> Rule | None:
    """The status rule matching a request, if any."""
    pairs = dict(parse_qsl(query))
    for rule in RULES[state]:
        if rule.site == site and rule.path == path and all(
                pairs.get(k) == v for k, v in rule.query):
            return rule
    return None


def location_of(rule: Rule, query: str, here: str) -> str:
    """The Location a redirect rule answers with."""
    assert rule.location is not None
    return rule.location.format(**{**dict(parse_qsl(query)), "here": here})


def content_type(file: Path) -> str:
    """The Content-Type a file is served with."""
    if file.suffix == ".ics":
        return "text/calendar; charset=utf-8"
    if file.suffix == ".htm":
        return "text/html; charset=iso-8859-1"
    return "text/html; charset=utf-8"


def robots_txt(current: str) -> bytes:
    """The server's robots.txt: private folders, and the sites blocked in each state."""
    lines = ["User-agent: *"]
    for state in (*STATE_DIRS, LIVE):
        lines.append(f"Disallow: /{state}/private/")
        blocked = ROBOTS_BLOCKED[current if state == LIVE else state]
        lines.extend(f"Disallow: /{state}/{site}/" for site in blocked)
    return ("\n".join(lines) + "\n").encode()


def host_map(base: str, state: str) -> list[str]:
    """`host_map` entries sending every provider host to this server in `state` (or LIVE)."""
    return [f"{real}={base}/{state}/{site}" for real, site in SITE_HOSTS.items()]


def real_to_local(url: str, state: str) -> tuple[str, str, str] | None:
    """(site, path, query) of a real provider URL in `state`, for offline reads."""
    parts = urlsplit(url)
    site = SITE_HOSTS.get(f"{parts.scheme}://{parts.netloc}")
    if site is None:
        return None
    return site, parts.path or "/", parts.query


def read_offline(url: str, state: str = "A", files: SiteFiles | None = None,
                 ) -> tuple[int, bytes, str, str]:
    """Read a real provider URL from the site files without HTTP: (status, body, type, url).

    Redirect rules are followed; status rules give their status and no body.
    """
    files = files or SiteFiles(state)
    for _ in range(5):
        target = real_to_local(url, state)
        if target is None:
            return 404, b"", "text/plain", url
        site, path, query = target
        rule = rule_for(state, site, path, query)
        if rule is not None and rule.location:
            parts = urlsplit(url)
            url = location_of(rule, query, f"{parts.scheme}://{parts.netloc}")
            continue
        if rule is not None and rule.status != 200:
            return rule.status, b"", "text/plain", url
        file = files.resolve(site, path, query)
        if file is None:
            return 404, b"", "text/html", url
        return 200, file.read_bytes(), content_type(file), url
    return 310, b"", "text/plain", url
