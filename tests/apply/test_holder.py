"""Lock holders: whether their process is gone (same host), and when their lease expires."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from reconciler.apply.holder import Holder, Liveness, process_stat
from reconciler.apply.lock import busy_error


def holder_for(pid: int, **changes: object) -> Holder:
    """A holder on this host for process ``pid`` (its real start time), with ``changes``."""
    stat = process_stat(pid)
    fields: dict[str, object] = {"pid": pid, "started": stat[1] if stat is not None else None}
    fields.update(changes)
    return dataclasses.replace(Holder.me(expires_in=900), **fields)  # type: ignore[arg-type]


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


def test_a_running_holder_on_this_host_is_alive(child: subprocess.Popen[bytes]) -> None:
    assert holder_for(child.pid).liveness()[0] is Liveness.ALIVE
    assert Holder.me().liveness()[0] is Liveness.ALIVE


def test_a_holder_whose_pid_is_gone_is_dead(child: subprocess.Popen[bytes]) -> None:
    holder = holder_for(child.pid)
    child.kill()
    child.wait(timeout=10)
    state, reason = holder.liveness()
    assert state is Liveness.DEAD
    assert str(child.pid) in reason


def test_a_killed_holder_not_yet_reaped_is_dead(child: subprocess.Popen[bytes]) -> None:
    holder = holder_for(child.pid)
    os.kill(child.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while (stat := process_stat(child.pid)) is not None and stat[0] != "Z":
        assert time.monotonic() < deadline, "the child never became a zombie"
        time.sleep(0.01)
    assert holder.liveness() == (Liveness.DEAD, f"pid {child.pid} has exited on {holder.host}")


def test_a_reused_pid_is_noticed_from_the_start_time(child: subprocess.Popen[bytes]) -> None:
    stat = process_stat(child.pid)
    assert stat is not None
    reused = holder_for(child.pid, started=str(int(stat[1]) - 100))
    assert reused.liveness() == (
        Liveness.DEAD,
        f"pid {child.pid} on {reused.host} is now another process",
    )


def test_a_holder_elsewhere_cannot_be_checked() -> None:
    dead_pid_elsewhere = holder_for(999_999, host="ci-runner-7")
    assert dead_pid_elsewhere.liveness()[0] is Liveness.UNKNOWN
    other_namespace = holder_for(999_999, pid_scope="another-container")
    assert other_namespace.liveness()[0] is Liveness.UNKNOWN
    older_version = holder_for(999_999, pid_scope=None)
    assert older_version.liveness()[0] is Liveness.UNKNOWN


def test_expiry_is_absolute_and_relative() -> None:
    holder = dataclasses.replace(
        Holder.me(), since="2026-01-12T10:04:55+00:00", expires="2026-01-12T10:19:55+00:00"
    )
    now = datetime(2026, 1, 12, 10, 5, 30, tzinfo=UTC)
    assert holder.expiry(now) == "the lease expires at 2026-01-12 10:19:55 UTC (in 15 min)"
    later = datetime(2026, 1, 12, 10, 19, 50, tzinfo=UTC)
    assert holder.expiry(later).endswith("(in 5 s)")
    after = datetime(2026, 1, 12, 10, 25, 0, tzinfo=UTC)
    assert holder.expiry(after) == "the lease expired at 2026-01-12 10:19:55 UTC (6 min ago)"
    assert "since 2026-01-12 10:04:55 UTC" in holder.describe()


def test_busy_message_names_holder_expiry_and_the_way_out() -> None:
    holder = Holder.me(expires_in=600)
    error = busy_error("prod", holder, 3.2, "/Shared/.reconciler/locks/p.prod.json", lease=True)
    assert f"locked by {holder.holder} on {holder.host} (pid {os.getpid()})" in error.message
    assert "the lease expires at " in error.message and "(in 10 min)" in error.message
    assert error.message.endswith("waited 3s")
    assert error.hint is not None
    assert "--lock-timeout" in error.hint and "reconciler unlock -t prod" in error.hint
    local = busy_error("sb", holder, 0, ".reconciler/sandbox/apply.lock")
    assert "held until that process exits" in local.message
    assert "unlock" not in (local.hint or "")
