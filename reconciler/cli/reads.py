"""What the commands that call a workspace share, apart from ``common`` (which ``--help``
loads, so it imports no project model): the project with this run's overrides, and the ``-v``
line about the reads."""

from __future__ import annotations

from reconciler.cli.common import options
from reconciler.manifest import load_project
from reconciler.model.live import LiveState
from reconciler.project import Project


def load() -> Project:
    """The project file, with this run's ``--connect-timeout``/``--read-timeout`` and
    ``--max-concurrency`` over every target's own settings."""
    opts = options()
    project = load_project(opts.project_dir)
    given = {
        "connect_timeout": opts.connect_timeout,
        "read_timeout": opts.read_timeout,
        "max_concurrency": opts.max_concurrency,
    }
    update = {k: v for k, v in given.items() if v is not None}
    if not update:
        return project
    targets = {name: t.model_copy(update=update) for name, t in project.targets.items()}
    return project.model_copy(update={"targets": targets})


def read_summary(live: LiveState) -> str:
    """What ``-v`` prints about the reads: assets, versions, calls (and 429s), time."""
    throttled = f", {live.throttled} answered 429 and were retried" if live.throttled else ""
    return (
        f"read {len(live.assets)} live assets and {len(live.versions)} model versions"
        f" with {live.api_calls} API calls{throttled} in {live.seconds:.2f}s"
    )
