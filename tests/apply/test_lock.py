"""The file lock of local targets: exclusive, names its holder, waits up to the timeout."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from reconciler.apply.lock import FileLock, Holder
from reconciler.model.errors import ApplyError


def test_second_apply_is_refused_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "apply-sandbox.lock"
    with FileLock(path, target="sandbox"):
        holder = Holder.from_json(path.read_text())
        assert holder is not None and holder.pid == os.getpid()
        with pytest.raises(ApplyError) as info, FileLock(path, target="sandbox", timeout=0.2):
            pass
    message = str(info.value)
    assert "target 'sandbox' is locked by" in message
    assert f"(pid {os.getpid()})" in message
    assert "--lock-timeout" in (info.value.hint or "")
    # Released: the next apply gets it at once.
    with FileLock(path, target="sandbox"):
        pass


def test_waiter_gets_the_lock_when_it_is_released(tmp_path: Path) -> None:
    path = tmp_path / "apply.lock"
    first = FileLock(path, target="sandbox").__enter__()
    threading.Timer(0.3, first.__exit__, args=(None, None, None)).start()
    t0 = time.monotonic()
    with FileLock(path, target="sandbox", timeout=10):
        assert time.monotonic() - t0 >= 0.25


def test_status_tells_a_held_lock_from_a_dead_holders_leftover(tmp_path: Path) -> None:
    path = tmp_path / "apply.lock"
    assert FileLock(path, target="sandbox").status() == (False, None)
    with FileLock(path, target="sandbox"):
        held, holder = FileLock(path, target="sandbox").status()
        assert held and holder is not None and holder.pid == os.getpid()
    # A killed apply leaves its description behind, but the kernel dropped its lock.
    path.write_text(Holder.me().to_json())
    held, holder = FileLock(path, target="sandbox").status()
    assert not held and holder is not None
