"""Where manifest files come from: the working tree, or (``--ref``) a git revision.

The loader needs only two things from a source, so a git-backed source is a small class:
the files matching the include globs, and the bytes of one file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

from reconciler.manifest.inputs import (
    MAX_FILE_BYTES,
    InputRefused,
    NotRegular,
    TooLarge,
    glob_problem,
    is_inside,
    read_regular_file,
    too_large_message,
)
from reconciler.model.errors import Location, ManifestError

OUTSIDE_HINT = (
    "manifests are read only from inside the project directory (the one holding"
    " reconciler.yaml); copy the file in instead of linking to it"
)


@runtime_checkable
class SourceTree(Protocol):
    """A tree of project files. Paths are POSIX, relative to the project root."""

    def files(self, globs: Sequence[str]) -> list[str]:
        """Files matching any of ``globs`` (see ``match_glob``), sorted, without duplicates.

        Raises InputRefused (with ``pattern``) for a glob that reaches outside the project."""
        ...

    def read(self, path: str) -> bytes:
        """The bytes of one file listed by ``files``.

        Raises InputRefused (with ``path``) for a file outside the project or not a regular
        file, ManifestError for one over ``MAX_FILE_BYTES``, OSError when it cannot be read."""
        ...


def describe(source: SourceTree, path: str) -> str:
    """How a file is shown in messages: the source's ``describe(path)`` if it has one."""
    method = getattr(source, "describe", None)
    return str(method(path)) if callable(method) else path


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def match_glob(path: str, pattern: str) -> bool:
    """Glob match on POSIX paths: ``*`` and ``?`` stay within a directory, ``**/`` spans any
    number of directories (including none), as in ``manifests/**/*.yaml``."""
    return _glob_regex(pattern.removeprefix("./")).match(path) is not None


def match_globs(paths: Iterable[str], globs: Sequence[str]) -> list[str]:
    """The paths matching any glob, sorted: for sources that can list every file (git)."""
    return sorted({p for p in paths if any(match_glob(p, g) for g in globs)})


def could_match_under(directory: str, pattern: str) -> bool:
    """Whether some file below ``directory`` (POSIX, relative) could match the glob."""
    parts = pattern.removeprefix("./").split("/")
    for index, name in enumerate(directory.split("/")):
        if index >= len(parts) - 1:
            return False  # the glob's directories end above this one
        if "**" in parts[index]:
            return True
        if _glob_regex(parts[index]).match(name) is None:
            return False
    return True


def _static_prefix(pattern: str) -> str:
    """The directory part of a glob before its first wildcard (where a walk can start)."""
    parts = pattern.removeprefix("./").split("/")
    fixed: list[str] = []
    for part in parts[:-1]:
        if any(c in part for c in "*?["):
            break
        fixed.append(part)
    return "/".join(fixed)


def check_globs(globs: Sequence[str]) -> None:
    """Refuse absolute and ``..`` globs (every source: they could never match inside)."""
    for pattern in globs:
        problem = glob_problem(pattern)
        if problem is not None:
            raise InputRefused(f"include glob {pattern!r} {problem}", pattern=pattern)


def too_large(shown: str) -> ManifestError:
    return ManifestError(
        too_large_message(MAX_FILE_BYTES),
        location=Location(shown, 1, 1),
        hint="split large manifests into several files matched by the include globs",
    )


class FileSystemSource:
    """Files under a directory on disk (the working tree).

    Symlinks to files inside the project are followed; directories reached through a symlink
    are not walked into (unless the glob names them before its first wildcard). Whatever
    resolves outside the project root, and whatever is not a regular file, is refused
    (``reconciler.manifest.inputs``).
    """

    def __init__(self, root: Path, *, cwd: Path | None = None) -> None:
        self.root = Path(root).resolve()
        self.cwd = (cwd or Path.cwd()).resolve()

    def files(self, globs: Sequence[str]) -> list[str]:
        check_globs(globs)
        found: set[str] = set()
        for pattern in globs:
            prefix = _static_prefix(pattern)
            start = self.root / prefix
            if not start.is_dir():
                continue
            real = start.resolve()
            if not is_inside(real, self.root):
                raise InputRefused(
                    f"include glob {pattern!r} starts in {prefix}, which resolves to {real},"
                    f" outside the project directory {self.root}",
                    pattern=pattern,
                    hint=OUTSIDE_HINT,
                )
            for dirpath, dirnames, filenames in os.walk(start):
                # Hidden directories (.git, .venv, .reconciler) never hold manifests.
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                rel_dir = Path(dirpath).relative_to(self.root).as_posix()
                for name in dirnames:
                    self._refuse_linked_out(Path(dirpath) / name, pattern)
                for filename in filenames:
                    rel = filename if rel_dir == "." else f"{rel_dir}/{filename}"
                    if match_glob(rel, pattern):
                        found.add(rel)
        return sorted(found)

    def _refuse_linked_out(self, directory: Path, pattern: str) -> None:
        """A directory the walk does not enter because it is a symlink: when it leads outside
        the project and the glob could match files in it, those manifests would vanish from
        the plan without a word (and a pruning target would plan their deletes)."""
        if not directory.is_symlink():
            return
        real = directory.resolve()
        rel = directory.relative_to(self.root).as_posix()
        if is_inside(real, self.root) or not could_match_under(rel, pattern):
            return
        raise InputRefused(
            f"{rel} is a symlink to {real}, outside the project directory {self.root}, and"
            f" include glob {pattern!r} reaches into it",
            pattern=pattern,
            hint=OUTSIDE_HINT,
        )

    def read(self, path: str) -> bytes:
        shown = self.describe(path)
        real = Path(os.path.realpath(self.root / path))
        if not is_inside(real, self.root):
            raise InputRefused(
                f"{shown} resolves to {real}, outside the project directory {self.root}",
                path=path,
                hint=OUTSIDE_HINT,
            )
        try:
            return read_regular_file(real)
        except NotRegular as exc:
            raise InputRefused(
                f"{shown} is {exc.kind}, not a regular file",
                path=path,
                hint="only regular files are read as manifests; remove it or narrow the glob",
            ) from None
        except TooLarge:
            raise too_large(shown) from None

    def describe(self, path: str) -> str:
        full = self.root / path
        try:
            return full.relative_to(self.cwd).as_posix()
        except ValueError:
            return str(full)
