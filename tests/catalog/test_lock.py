"""The database run lock: one holder across processes; stale or dead holders are taken over."""

from __future__ import annotations

import multiprocessing
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from shelfcheck.catalog.db import transaction
from shelfcheck.catalog.lock import acquire_lock, holder_is_dead, lock_state
from shelfcheck.catalog.models import RunLock, utcnow
from shelfcheck.errors import LockHeld
from tests.scheduling_steps import lock_worker


def _plant(engine: Engine, holder: str, *, expires_in: float) -> None:
    now = utcnow()
    with transaction(engine) as session:
        session.add(RunLock(name="refresh", holder=holder, acquired_at=now - timedelta(hours=1),
                            expires_at=now + timedelta(seconds=expires_in)))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_second_acquire_names_holder_and_time(engine: Engine) -> None:
    lock = acquire_lock(engine, stale_after=600, purpose="refresh")
    with pytest.raises(LockHeld) as info:
        acquire_lock(engine, stale_after=600, purpose="job links")
    message = str(info.value)
    assert lock.holder in message and socket.gethostname() in message
    assert "since" in message and "UTC" in message
    state = lock_state(engine)
    assert state is not None and state.holder == lock.holder
    lock.release()
    assert lock_state(engine) is None
    with acquire_lock(engine, stale_after=600, purpose="again") as again:
        assert lock_state(engine) is not None and again.holder.endswith("again")
    assert lock_state(engine) is None


def test_live_holder_on_another_machine_blocks(engine: Engine) -> None:
    _plant(engine, "other-host:4242 refresh", expires_in=3600)
    with pytest.raises(LockHeld, match="other-host:4242 refresh since"):
        acquire_lock(engine, stale_after=600)
    state = lock_state(engine)
    assert state is not None and state.holder == "other-host:4242 refresh"


def test_stale_holder_is_taken_over(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    _plant(engine, "other-host:4242 refresh", expires_in=-1)
    with acquire_lock(engine, stale_after=600, purpose="refresh") as lock:
        state = lock_state(engine)
        assert state is not None and state.holder == lock.holder
        assert state.expires_at > utcnow() + timedelta(seconds=590)
    assert "took over the run lock from other-host:4242" in caplog.text


def test_dead_process_on_this_host_is_taken_over(engine: Engine) -> None:
    pid = _dead_pid()
    _plant(engine, f"{socket.gethostname()}:{pid} refresh", expires_in=3600)
    assert holder_is_dead(f"{socket.gethostname()}:{pid} refresh")
    with acquire_lock(engine, stale_after=600) as lock:
        assert lock_state(engine) is not None
        assert lock.holder.startswith(f"{socket.gethostname()}:")


def test_live_process_is_not_dead() -> None:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as proc:
        try:
            assert not holder_is_dead(f"{socket.gethostname()}:{proc.pid} refresh")
        finally:
            proc.kill()
    assert not holder_is_dead(f"elsewhere:{proc.pid} refresh")


def test_heartbeat_extends_and_detects_loss(engine: Engine) -> None:
    lock = acquire_lock(engine, stale_after=5)
    first = lock_state(engine)
    assert first is not None
    lock.stale_after = 3600
    assert lock.heartbeat()
    second = lock_state(engine)
    assert second is not None and second.expires_at > first.expires_at + timedelta(seconds=3000)
    # Someone takes the lock over (we looked dead); our heartbeat and release must notice it.
    with transaction(engine) as session:
        session.get_one(RunLock, "refresh").holder = "other-host:1 refresh"
    assert not lock.heartbeat()
    lock.release()
    state = lock_state(engine)
    assert state is not None and state.holder == "other-host:1 refresh"


@pytest.mark.parametrize("stale_row", [False, True], ids=["free", "stale"])
def test_processes_contend_exactly_one_wins(db_url: str, engine: Engine, stale_row: bool) -> None:
    if stale_row:
        _plant(engine, "other-host:4242 refresh", expires_in=-1)
    ctx = multiprocessing.get_context("spawn")
    contenders = 3
    barrier = ctx.Barrier(contenders)
    out = ctx.Queue()
    procs = [ctx.Process(target=lock_worker, args=(db_url, 600, 1.0, barrier, out))
             for _ in range(contenders)]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    winners = [r for r in results if r[0] == "won"]
    assert len(winners) == 1, results
    losers = [r[1] for r in results if r[0] == "held"]
    assert len(losers) == contenders - 1
    assert all(f":{winners[0][1]} contender since" in msg for msg in losers), losers
    assert lock_state(engine) is None
