"""A small in-memory Workspace: the boundary apply owns, exercised without any HTTP."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

from reconciler.apply.executor import serialization_key
from reconciler.model.changes import Action, Change
from reconciler.model.errors import WorkspaceError
from reconciler.model.live import LiveAsset, LiveState, ReadRequest, Workspace
from reconciler.model.resources import KindName
from reconciler.runtime import context
from reconciler.runtime.waits import poll_until


@dataclass
class Event:
    address: str
    start: float
    end: float


@dataclass
class MemoryWorkspace(Workspace):
    """Writes take ``write_seconds`` holding a slot, then settle after ``settle_seconds``."""

    name: ClassVar[str] = "memory"
    capabilities: ClassVar[frozenset[KindName]] = frozenset(KindName)

    write_seconds: float = 0.0
    settle_seconds: float = 0.0
    fail: dict[str, str] = field(default_factory=dict)
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    active: Counter[str] = field(default_factory=Counter)
    active_keys: Counter[str] = field(default_factory=Counter)
    max_active: int = 0
    max_waiting: int = 0
    waiting_now: int = 0
    overlaps: list[str] = field(default_factory=list)

    def read(self, request: ReadRequest) -> LiveState:
        state = LiveState()
        for kind, name in request.assets:
            address = f"{kind}.{name}"
            if address in self.assets:
                doc = self.assets[address]
                state.assets[address] = LiveAsset(kind, name, doc, doc)
        return state

    def apply_change(self, change: Change, live: LiveAsset | None) -> None:
        key = serialization_key(change)
        start = time.monotonic()
        with self.lock:
            self.active["all"] += 1
            self.active_keys[key] += 1
            if self.active_keys[key] > 1:
                self.overlaps.append(key)
            self.max_active = max(self.max_active, self.active["all"])
        try:
            time.sleep(self.write_seconds)
            if change.address in self.fail:
                raise WorkspaceError(self.fail[change.address], address=change.address)
            if change.action is Action.DELETE:
                self.assets.pop(change.address, None)
            else:
                self.assets[change.address] = dict(change.desired or {})
        finally:
            with self.lock:
                self.active["all"] -= 1
        try:
            if self.settle_seconds:
                ready_at = time.monotonic() + self.settle_seconds

                def read() -> float:
                    return time.monotonic()

                with self.lock:
                    self.waiting_now += 1
                    self.max_waiting = max(self.max_waiting, self.waiting_now)
                try:
                    poll_until(
                        read, lambda now: now >= ready_at, what="settling", address=change.address
                    )
                finally:
                    with self.lock:
                        self.waiting_now -= 1
            context.check_deadline("settling")
        finally:
            with self.lock:
                self.active_keys[key] -= 1
                self.events.append(Event(change.address, start, time.monotonic()))

    def event(self, address: str) -> Event:
        return next(e for e in self.events if e.address == address)


def change(
    kind: str, name: str, *deps: str, action: Action = Action.CREATE, **desired: Any
) -> Change:
    return Change(
        address=f"{kind}.{name}",
        kind=kind,
        name=name,
        action=action,
        depends_on=tuple(deps),
        desired=None if action is Action.DELETE else {"name": name, **desired},
    )
