"""Which worker of a sharded link check takes which host: one shared queue of the run's hosts,
the busiest first, and a worker of its own for a host that is the run's critical path."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from multiprocessing.sharedctypes import SynchronizedArray
from typing import Any

# The CPU one check costs here (about 2 ms; benchmarks/README.md), and the answer time assumed for
# a host never checked before.
CPU_PER_REQUEST = 0.002
DEFAULT_ANSWER_TIME = 0.1


def dedicated_host(hosts: Sequence[tuple[str, int]], workers: int, per_host: int,
                   answer_time: float | None, cpu_in_use: Callable[[], float]) -> bool:
    """Whether the busiest host (first of `hosts`) gets a worker of its own.

    It does when it is the critical path: its queue alone (links × answer time ÷ the per-host
    limit) outlasts the other links shared by the other workers (links × CPU per request),
    so the others need none of its worker's time, and a worker busy with other hosts would
    only answer it later. Not on a busy machine (`cpu_in_use`, asked only then, above half of
    all cores), where the other workers would be starved of CPU.
    """
    if workers < 2 or not hosts or not hosts[0][0]:
        return False
    busiest = hosts[0][1]
    rest = sum(n for _h, n in hosts[1:])
    queue = busiest * (answer_time or DEFAULT_ANSWER_TIME) / max(1, per_host)
    return queue > rest * CPU_PER_REQUEST / (workers - 1) and cpu_in_use() <= 0.5


class SharedHosts:
    """The run's hosts, the busiest first, shared by the workers: each claims its next host
    when it has room for one (`HostQueue` of `crawler.linkfeed`).

    The shared array holds the index of the next host, the dedicated worker (see
    `dedicated_host`; 1: the one that claims the busiest host, 0: none, else its index + 2),
    then how many hosts each worker has open. A worker claims only while it holds fewer than
    its fair part of the hosts still to check (open or unclaimed), so the first worker to start
    cannot take them all. A dedicated worker claims nothing more until its host is finished, and
    the others share the rest.
    """

    NEXT, DEDICATED = 0, 1

    def __init__(self, hosts: Sequence[tuple[str, int]], shared: SynchronizedArray[int],
                 worker: int) -> None:
        self._hosts = hosts
        self._shared = shared
        self._worker = worker
        self._mine = worker + 2
        self.links = 0

    @staticmethod
    def shared_state(ctx: Any, workers: int, dedicate: bool) -> SynchronizedArray[int]:
        """The array the workers of one run share."""
        state: SynchronizedArray[int] = ctx.Array("q", workers + 2)
        state[SharedHosts.DEDICATED] = 1 if dedicate else 0
        return state

    def claim(self) -> tuple[str, int] | None:
        shared = self._shared
        with shared.get_lock():
            index = shared[self.NEXT]
            left = len(self._hosts) - index
            if left <= 0:
                return None
            dedicated = shared[self.DEDICATED] - 2
            if dedicated == self._worker:
                if shared[self._mine] > 0:
                    return None  # its host first
                shared[self.DEDICATED] = dedicated = -2
            pool = [i for i in range(len(shared) - 2) if i != dedicated]
            fair = -(-(sum(shared[i + 2] for i in pool) + left) // len(pool))
            if shared[self._mine] >= fair:
                return None
            shared[self.NEXT] = index + 1
            shared[self._mine] += 1
            if index == 0 and shared[self.DEDICATED] == 1:
                shared[self.DEDICATED] = self._worker + 2
        host, count = self._hosts[index]
        self.links += count
        return host, count

    def release(self) -> None:
        with self._shared.get_lock():
            self._shared[self._mine] -= 1
