"""The end-to-end benchmark world: link-check hosts plus provider listings, in two states.

It builds on the link-check world (tests/mockserver/server.py: its `World` request log with the
in-flight count per host, its `Host` and its `host_bench` answers) and on check_links.py's
`world_links` (link i lives on host i % H; 5% `/missing/` 404s, 5% `/moved/` 301s, the rest
`/page/` 200s). What this module adds:

- a state switch (`/__control/?path=__state&status=2`, the server's own control hook);
- in state 2, a deterministic share of the `/page/i` links die (404) or move (301 to
  `/page/i/v2`);
- P providers, provider k on host k % H, each listing O offerings on pages of `per_page` items
  (`/listings/p<k>?page=n`) that the benchmark recipe (`recipe()`) reads: title, link, date and a
  two-tier fee. In state 2 some offerings vanish, some appear and some change fees.

Run as a server: ``python benchmarks/e2e_world.py --dir DIR --hosts H --latency S --spec JSON``;
it prints one JSON line (hosts, log) like the link-check world.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for entry in (str(ROOT), str(HERE)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from check_links import world_links  # noqa: E402  (the one link-world generator)

STATE_KEY = "__state"


@dataclass(frozen=True)
class WorldSpec:
    """The shape of the world and its change rates between state 1 and state 2."""

    links: int = 1000
    hosts: int = 50
    providers: int = 10
    offerings: int = 100  # per provider, in state 1
    per_page: int = 25
    die: float = 0.02  # share of 200 links that answer 404 in state 2
    redirect: float = 0.02  # share of 200 links that move (301) in state 2
    vanish: float = 0.05  # share of offerings gone in state 2
    appear: float = 0.05  # new offerings in state 2, as a share of O
    fee_change: float = 0.05  # share of offerings whose fee changes in state 2

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def chance(kind: str, i: int) -> float:
    """A stable pseudo-random number in [0, 1) for item i of a kind."""
    digest = hashlib.blake2b(f"{kind}:{i}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def link_fate(spec: WorldSpec, i: int) -> str:
    """What the 200 link i does in state 2: "ok", "dies" or "moves"."""
    roll = chance("link", i)
    if roll < spec.die:
        return "dies"
    if roll < spec.die + spec.redirect:
        return "moves"
    return "ok"


def offering_ids(spec: WorldSpec, provider: int, state: int) -> list[int]:
    """The ids of provider `provider`'s offerings listed in `state`, in listing order."""
    ids = list(range(spec.offerings))
    if state == 1:
        return ids
    kept = [j for j in ids if chance(f"vanish-{provider}", j) >= spec.vanish]
    new = round(spec.offerings * spec.appear)
    return kept + list(range(spec.offerings, spec.offerings + new))


def fee_of(spec: WorldSpec, provider: int, j: int, state: int) -> tuple[int, int]:
    """(members, non-members) fee of an offering in a state."""
    base = 20 + (provider * 7 + j * 3) % 80
    if state == 2 and chance(f"fee-{provider}", j) < spec.fee_change:
        base += 15
    return base, base + 15


def recipe(listing_url: str, per_page: int, offerings: int) -> dict[str, Any]:
    """The benchmark provider's listing recipe, declared in the generated catalog file."""
    pages = -(-offerings * 2 // per_page) + 2  # room for the offerings state 2 adds
    return {
        "listing": listing_url,
        "item": "li.event",
        "link": "a.title",
        "paginate": "a.next",
        "max_pages": pages,
        "timezone": "America/Chicago",
        "format": "webinar",
        "fields": {
            "title": "a.title",
            "when": ".when",
            "fee": ".fee",
        },
    }


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def listing_page(spec: WorldSpec, provider: int, page_no: int, state: int) -> bytes:
    """One listing page of a provider in a state."""
    ids = offering_ids(spec, provider, state)
    start = (page_no - 1) * spec.per_page
    chunk = ids[start:start + spec.per_page]
    items = []
    for j in chunk:
        members, others = fee_of(spec, provider, j, state)
        month = MONTHS[j % 12]
        day = 1 + j % 28
        items.append(
            f'<li class="event"><h3><a class="title" href="/offering/p{provider}/{j}">'
            f"Course {provider}-{j}: cataloging practice</a></h3>"
            f'<p class="when">{month} {day}, 2031, 2:00 PM Central</p>'
            f'<p class="fee">ALA members ${members} / non-members ${others}</p></li>'
        )
    more = start + spec.per_page < len(ids)
    nav = (f'<a class="next" href="/listings/p{provider}?page={page_no + 1}">Next</a>'
           if more else "")
    html = (f"<!doctype html><html><head><title>Provider {provider} training</title></head>"
            f"<body><h1>Upcoming webinars</h1><ul>{''.join(items)}</ul>{nav}</body></html>")
    return html.encode()


def listing_url(base: str, provider: int) -> str:
    return f"{base}/listings/p{provider}?page=1"


def all_links(spec: WorldSpec, hosts: list[str]) -> list[tuple[str, str]]:
    """(url, kind) of the N catalog links (check_links.world_links)."""
    return world_links(hosts, spec.links)


def serve(folder: Path, hosts: int, latency: float, spec: WorldSpec) -> None:
    """Run the world (blocks): the link-check world's hosts with this module's answers."""
    from twisted.internet import reactor as _reactor
    from twisted.web import server

    reactor: Any = _reactor

    from tests.mockserver.server import Answer, Host, World, page

    class E2EHost(Host):
        def host_e2e(self, request: Any, path: str, count: int) -> Answer:
            state = self.world.switch.get(STATE_KEY, 1)
            if path.startswith("/listings/p"):
                provider = int(path.removeprefix("/listings/p"))
                page_no = int((request.args.get(b"page") or [b"1"])[0])
                return 0.0, 200, {}, listing_page(spec, provider, page_no, state)
            if path.startswith("/offering/"):
                return 0.0, 200, {}, page("Offering " + path)
            if state == 2 and path.startswith("/page/"):
                tail = path.removeprefix("/page/")
                if tail.isdigit():
                    fate = link_fate(spec, int(tail))
                    if fate == "dies":
                        return 0.0, 404, {}, page("Not Found")
                    if fate == "moves":
                        return 0.0, 301, {"Location": f"{path}/v2"}, b""
            return self.host_bench(request, path, count)

    folder.mkdir(parents=True, exist_ok=True)
    world = World(folder / "requests.jsonl", latency)
    urls: dict[str, str] = {}
    for i in range(hosts):
        label = f"e2e-{i}"
        site = server.Site(E2EHost(world, label))
        site.noisy = False
        port = reactor.listenTCP(0, site, interface="127.0.0.1", backlog=512)
        urls[label] = f"http://127.0.0.1:{port.getHost().port}"
    print(json.dumps({"hosts": urls, "log": str(folder / "requests.jsonl")}), flush=True)
    reactor.run()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--spec", required=True, help="WorldSpec as JSON")
    args = parser.parse_args(argv)
    serve(Path(args.dir), args.hosts, args.latency, WorldSpec(**json.loads(args.spec)))


if __name__ == "__main__":
    main(sys.argv[1:])
