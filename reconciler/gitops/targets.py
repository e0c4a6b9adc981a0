"""Which targets a change touches, so a pull request plans only those.

A change to the project file touches every target; a manifest touches the targets whose include
globs match it; anything else (code, docs) touches none.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from reconciler.manifest.source import match_glob
from reconciler.model.errors import ReconcilerError
from reconciler.project import PROJECT_FILE, Project, TargetType


def touches_target(project: Project, target: str, relative_paths: Iterable[str]) -> bool:
    """True when one of the paths (relative to the project root) is the project file or a
    manifest the target's include globs match."""
    globs = project.include_for(target)
    for path in relative_paths:
        posix = PurePosixPath(path).as_posix()
        if posix == PROJECT_FILE or any(match_glob(posix, g) for g in globs):
            return True
    return False


def selectable_targets(project: Project, types: Iterable[TargetType] | None = None) -> list[str]:
    """Target names of the given types (default: every type but the local sandbox), sorted."""
    wanted = set(types) if types else {t for t in TargetType if t != TargetType.SANDBOX}
    return sorted(name for name, target in project.targets.items() if target.type in wanted)


def changed_files(repo_root: Path, base: str, head: str = "HEAD") -> list[str]:
    """Files changed between the merge base of ``base`` and ``head``, relative to the repo."""
    result = subprocess.run(
        ["git", "-C", str(repo_root), "diff", "--name-only", f"{base}...{head}", "--"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ReconcilerError(
            f"cannot list the files changed since {base!r}: {result.stderr.strip()}",
            hint="fetch enough history (actions/checkout with fetch-depth: 0)",
        )
    return [line for line in result.stdout.splitlines() if line]


def git_toplevel(path: Path) -> Path:
    result = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ReconcilerError(f"{path} is not inside a git repository")
    return Path(result.stdout.strip())


def affected_targets(
    project: Project,
    changed: Iterable[str] | None,
    *,
    repo_root: Path | None = None,
    types: Iterable[TargetType] | None = None,
) -> list[str]:
    """The targets to plan for a change; ``changed=None`` means "all of them" (no base known).

    ``changed`` holds paths relative to ``repo_root`` (as ``git diff --name-only`` prints them);
    the project may live in a subdirectory of the repository.
    """
    names = selectable_targets(project, types)
    if changed is None:
        return names
    root = project.root.resolve()
    top = (repo_root or root).resolve()
    relative = []
    for path in changed:
        absolute = top / path
        if absolute == root or root in absolute.parents:
            relative.append(absolute.relative_to(root).as_posix())
    return [name for name in names if touches_target(project, name, relative)]
