"""Run a plan's changes against any Workspace: dependency order, bounded parallelism.

A change starts once every change it depends on (inside this plan) has been applied; changes
that touch the same serving endpoint (its own change and its quota) never run at once. When a
change fails, what already runs finishes, its dependents are skipped, independent branches go
on. The engine knows no kind by name beyond the serialization key below.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from reconciler.kinds.registry import rules_for
from reconciler.model.changes import Change, Plan
from reconciler.model.live import LiveAsset, LiveState, Workspace
from reconciler.runtime import context
from reconciler.runtime.context import ChangeContext, NullProgress, ProgressSink
from reconciler.runtime.result import ApplyResult, ChangeResult, Outcome, describe_error
from reconciler.runtime.settings import ApplySettings

MAX_THREADS = 256
"""Threads, not API concurrency: a change waiting for its endpoint holds a thread, no slot."""


def serialization_key(change: Change) -> str:
    """Changes with the same key run one after the other (one write at a time per endpoint)."""
    return rules_for(change.kind).write_scope(change.name)


class _Run:
    """Bookkeeping of one execution; touched only by the scheduling thread."""

    def __init__(self, plan: Plan) -> None:
        self.order = list(plan.changes)
        addresses = {c.address for c in self.order}
        self.deps = {c.address: [d for d in c.depends_on if d in addresses] for c in self.order}
        self.pending = [c.address for c in self.order]
        self.by_address = {c.address: c for c in self.order}
        self.results: dict[str, ChangeResult] = {}
        self.busy_keys: set[str] = set()

    def outcome(self, address: str) -> Outcome | None:
        found = self.results.get(address)
        return found.outcome if found is not None else None

    def blocked_by(self, address: str) -> str | None:
        """A dependency that did not get applied, if any."""
        for dep in self.deps[address]:
            if self.outcome(dep) in (Outcome.FAILED, Outcome.SKIPPED):
                return dep
        return None

    def ready(self) -> list[Change]:
        found: list[Change] = []
        keys = set(self.busy_keys)
        for address in self.pending:
            change = self.by_address[address]
            key = serialization_key(change)
            if key in keys:
                continue
            if all(self.outcome(d) is Outcome.APPLIED for d in self.deps[address]):
                found.append(change)
                keys.add(key)
        return found

    def skip_blocked(self, progress: ProgressSink) -> None:
        changed = True
        while changed:
            changed = False
            for address in list(self.pending):
                dep = self.blocked_by(address)
                if dep is None:
                    continue
                verb = "failed" if self.outcome(dep) is Outcome.FAILED else "was skipped"
                self.finish(
                    ChangeResult(self.by_address[address], Outcome.SKIPPED, f"{dep} {verb}"),
                    progress,
                )
                changed = True

    def finish(self, result: ChangeResult, progress: ProgressSink) -> None:
        self.results[result.address] = result
        if result.address in self.pending:
            self.pending.remove(result.address)
        progress.finished(result)


def _live_for(live: LiveState | Mapping[str, LiveAsset] | None, address: str) -> LiveAsset | None:
    if live is None:
        return None
    assets = live.assets if isinstance(live, LiveState) else live
    return assets.get(address)


def execute(
    plan: Plan,
    workspace: Workspace,
    live: LiveState | Mapping[str, LiveAsset] | None = None,
    *,
    settings: ApplySettings | None = None,
    progress: ProgressSink | None = None,
) -> ApplyResult:
    """Apply ``plan`` to ``workspace``; ``live`` is what the plan was computed from."""
    settings = settings or ApplySettings()
    sink: ProgressSink = progress or NullProgress()
    run = _Run(plan)
    started = time.monotonic()
    deadline = started + settings.timeout if settings.timeout is not None else float("inf")
    slots = threading.Semaphore(max(1, settings.parallelism))
    cancelled = threading.Event()
    result = ApplyResult()

    def work(change: Change) -> ChangeResult:
        t0 = time.monotonic()
        own = settings.timeout_for(change.kind, rules_for(change.kind).apply_timeout)
        ctx = ChangeContext(
            change=change,
            settings=settings,
            slots=slots,
            progress=sink,
            deadline=min(deadline, t0 + own),
            timeout=own,
            cancelled=cancelled,
        )
        try:
            with context.running(ctx):
                if time.monotonic() >= deadline or cancelled.is_set():
                    why = "apply was stopped" if cancelled.is_set() else "apply timed out"
                    return ChangeResult(change, Outcome.SKIPPED, why, _since(t0))
                workspace.apply_change(change, _live_for(live, change.address))
        except Exception as error:
            return ChangeResult(change, Outcome.FAILED, describe_error(error), _since(t0))
        return ChangeResult(change, Outcome.APPLIED, None, _since(t0))

    threads = max(1, min(len(run.order), max(settings.parallelism, MAX_THREADS)))
    running: dict[Future[ChangeResult], Change] = {}
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="apply") as pool:
        try:
            while run.pending or running:
                run.skip_blocked(sink)
                if time.monotonic() < deadline and not cancelled.is_set():
                    for change in run.ready():
                        run.busy_keys.add(serialization_key(change))
                        run.pending.remove(change.address)
                        running[pool.submit(work, change)] = change
                elif not running:
                    why = "apply was stopped" if cancelled.is_set() else "apply timed out"
                    for address in list(run.pending):
                        skipped = ChangeResult(run.by_address[address], Outcome.SKIPPED, why)
                        run.finish(skipped, sink)
                    break
                if not running:
                    if run.pending and not run.ready():
                        # Nothing runs and nothing can start: dependencies outside reach.
                        for address in list(run.pending):
                            run.finish(
                                ChangeResult(
                                    run.by_address[address],
                                    Outcome.SKIPPED,
                                    "its dependencies could not be ordered",
                                ),
                                sink,
                            )
                    continue
                done, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    change = running.pop(future)
                    run.busy_keys.discard(serialization_key(change))
                    run.finish(future.result(), sink)
        except KeyboardInterrupt:
            cancelled.set()
            result.interrupted = True
            for future in running:
                run.finish(future.result(), sink)
            for address in list(run.pending):
                run.finish(
                    ChangeResult(run.by_address[address], Outcome.SKIPPED, "apply was stopped"),
                    sink,
                )
    result.results = [run.results[c.address] for c in run.order if c.address in run.results]
    result.seconds = _since(started)
    return result


def _since(t0: float) -> float:
    return time.monotonic() - t0
