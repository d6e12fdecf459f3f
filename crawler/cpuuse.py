"""How much of the machine's CPU is in use right now, sampled from /proc/stat."""

from __future__ import annotations

import os
import time


def _ticks() -> tuple[int, int] | None:
    """(idle, total) CPU ticks since boot, or None where /proc/stat cannot be read."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return fields[3] + (fields[4] if len(fields) > 4 else 0), sum(fields)


def cpu_in_use(sample: float = 0.1) -> float:
    """The share of all cores busy over the next `sample` seconds (0 to 1); where /proc/stat
    is missing, the 1-minute load average over the cores."""
    before = _ticks()
    if before is None:
        return min(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
    time.sleep(sample)
    after = _ticks()
    assert after is not None
    total = after[1] - before[1]
    return 1.0 - (after[0] - before[0]) / total if total > 0 else 0.0
