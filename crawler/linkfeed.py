"""Request feeding of the link check: host by host, a few links per host, never the whole catalog.

`Feeder.refill` says what to send now; the spider turns each step into a request. At most
``per_host + 1`` links of a host are out at once (one waiting keeps the host's slot busy) and
about 1.5 × ``max_in_flight`` in all, so the rest of the catalog stays in the database.
New hosts come from a `HostQueue`, the busiest first: all of the source's hosts in a one-process
check, or the run's hosts shared with the other workers of a sharded one (`crawler.linkshards`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

from shelfcheck.crawler.linksource import LinkRow, LinkSource

Step = tuple[Literal["link", "probe", "invalid"], LinkRow, int]  # (kind, row, priority)


class HostQueue(Protocol):
    """Where a feeder takes its next host: (host, link count), the busiest first."""

    links: int  # the links of the hosts handed out so far (a local queue: all of them)

    def claim(self) -> tuple[str, int] | None:
        """The next host, or None when there is none for this feeder now."""
        ...

    def release(self) -> None:
        """A claimed host is finished."""
        ...


class LocalHosts:
    """Every host of a one-process check, the busiest first."""

    def __init__(self, hosts: list[tuple[str, int]]) -> None:
        self._hosts = deque(hosts)
        self.links = sum(n for _h, n in hosts)

    def claim(self) -> tuple[str, int] | None:
        return self._hosts.popleft() if self._hosts else None

    def release(self) -> None:
        pass


@dataclass
class HostFeed:
    """The links of one host still to send, and how many are out."""

    host: str
    rows: Iterator[LinkRow]
    outstanding: int = 0
    exhausted: bool = False
    ahead: deque[LinkRow] = field(default_factory=deque)
    remaining: int = 0  # links not yet sent
    short: bool = False  # waiting in Feeder's queue of hosts the total cap kept short

    @property
    def priority(self) -> int:
        """Longer queues first, so the busiest host, which sets the floor, is kept full
        (below the soft-404 probe's 50: pages wait for their host's probe)."""
        return min(self.remaining // 100, 40)

    def next(self) -> LinkRow | None:
        if self.ahead:
            return self.ahead.popleft()
        if self.exhausted:
            return None
        row = next(self.rows, None)
        if row is None:
            self.exhausted = True
        return row


class Feeder:
    """Which links to send next, host by host, within the in-flight caps."""

    def __init__(self, source: LinkSource, per_host: int, max_in_flight: int,
                 hosts: HostQueue | None = None) -> None:
        self.source = source
        self.per_host = per_host
        self.max_in_flight = max_in_flight
        self.feeds: dict[str, HostFeed] = {}
        self.outstanding = 0
        self._hosts: HostQueue = hosts or LocalHosts([])
        self._given = hosts is not None
        self._short: deque[HostFeed] = deque()  # open hosts the total cap kept short of links

    @property
    def total(self) -> int:
        """The links this feeder has to check (so far, when it shares its hosts)."""
        return self._hosts.links

    def load(self) -> None:
        """Read the hosts and their link counts (may raise if the database is gone)."""
        if not self._given:
            self._hosts = LocalHosts(self.source.hosts())

    def capacity(self) -> tuple[int, int, int]:
        """(links out per host, links out in all, hosts open at once)."""
        host_cap = self.per_host + 1
        total_cap = self.max_in_flight + self.max_in_flight // 2
        max_hosts = max(4, 2 * math.ceil(self.max_in_flight / self.per_host))
        return host_cap, total_cap, max_hosts

    def refill(self, probe: bool, host: str | None = None) -> list[Step]:
        """What to send now: `host` (whose link is done) topped up, then the hosts still short
        of links because the total cap was reached, then new hosts while there is room.

        Only those hosts can want a link: every other open host is full or has none left.
        A host is claimed only when there is room to send its links, so the workers of a
        sharded run, which share their queue of hosts, each claim what they can check.
        A "link" step is counted as out at once (`done` takes it back) and carries its request
        priority (`HostFeed.priority`); a "probe" step asks for the host's soft-404 probe; an
        "invalid" step is a link without a usable host.
        """
        out: list[Step] = []
        host_cap, total_cap, max_hosts = self.capacity()
        done = self.feeds.get(host) if host is not None else None
        if done is not None:
            self._top_up(done, host_cap, total_cap, out)
            if done.outstanding < host_cap and not done.exhausted:
                self._queue_short(done)  # the total cap stopped it: it waits for room
        while self._short and self.outstanding < total_cap:
            feed = self._short[0]
            self._top_up(feed, host_cap, total_cap, out)
            if feed.outstanding < host_cap and not feed.exhausted:
                break  # the total cap again: it stays first in line
            self._short.popleft()
            feed.short = False
        while len(self.feeds) < max_hosts and self.outstanding < total_cap:
            claimed = self._hosts.claim()
            if claimed is None:
                break
            name, count = claimed
            if not name:
                out.extend(("invalid", row, 0) for row in self.source.iter_host(name))
                self._hosts.release()
                continue
            feed = HostFeed(name, self.source.iter_host(name), remaining=count)
            first = feed.next()
            if first is None:
                self._hosts.release()
                continue
            self.feeds[name] = feed
            feed.ahead.append(first)
            if probe:
                out.append(("probe", first, 50))
            self._top_up(feed, host_cap, total_cap, out)
            if feed.outstanding < host_cap and not feed.exhausted:
                self._queue_short(feed)
        return out

    def _queue_short(self, feed: HostFeed) -> None:
        if not feed.short:
            feed.short = True
            self._short.append(feed)

    def _top_up(self, feed: HostFeed, host_cap: int, total_cap: int, out: list[Step]) -> None:
        """Send `feed`'s next links up to the caps; forget the host when it is finished."""
        while feed.outstanding < host_cap and self.outstanding < total_cap:
            row = feed.next()
            if row is None:
                break
            feed.outstanding += 1
            self.outstanding += 1
            feed.remaining -= 1
            out.append(("link", row, feed.priority))
        if feed.exhausted and not feed.ahead and feed.outstanding == 0:
            self._forget(feed.host)

    def done(self, host: str) -> None:
        """A link of `host` sent by `refill` has its verdict."""
        feed = self.feeds.get(host)
        if feed is not None:
            feed.outstanding -= 1
            if feed.exhausted and not feed.ahead and feed.outstanding == 0:
                self._forget(host)
        self.outstanding -= 1

    def _forget(self, host: str) -> None:
        if self.feeds.pop(host, None) is not None:
            self._hosts.release()
