"""Manifests as they were at a git revision, read from git objects (``--ref REV``).

Rollback is "plan or apply what the manifests said at REV". Reading the objects directly
(``git ls-tree`` and one ``git cat-file --batch``) leaves the working tree, the index and the
checked-out branch alone, so it is safe in a dirty checkout and in CI.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from reconciler.manifest.source import match_globs
from reconciler.model.errors import ManifestError


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", str(cwd), *args], input=stdin, capture_output=True, check=False
        )
    except FileNotFoundError:
        raise ManifestError(
            "git is not installed", hint="--ref reads manifests from git; install git"
        ) from None


class GitSource:
    """The project files at one commit. ``root`` is the project directory (any directory in the
    repository); paths are relative to it, as with ``FileSystemSource``."""

    def __init__(self, root: Path, rev: str) -> None:
        self.root = Path(root).resolve()
        self.rev = rev
        if not rev or rev.startswith("-"):
            raise ManifestError(f"invalid revision {rev!r}", hint="pass a commit, tag or branch")
        prefix = _git(self.root, "rev-parse", "--show-prefix")
        if prefix.returncode != 0:
            raise ManifestError(
                f"--ref {rev}: {self.root} is not inside a git repository",
                hint="--ref reads the manifests from the repository's history",
            )
        self.prefix = prefix.stdout.decode().strip()
        commit = _git(self.root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        if commit.returncode != 0:
            raise ManifestError(
                f"unknown git revision {rev!r}",
                hint="use a commit, tag or branch that exists locally (in CI: actions/checkout "
                "with fetch-depth: 0, or git fetch it first)",
            )
        self.commit = commit.stdout.decode().strip()
        self._listing: list[str] | None = None
        self._blobs: dict[str, bytes] = {}
        self._matched: list[str] = []

    def __repr__(self) -> str:
        return f"GitSource({str(self.root)!r}, {self.rev!r})"

    def _all_files(self) -> list[str]:
        if self._listing is None:
            tree = _git(self.root, "ls-tree", "-r", "-z", "--full-tree", self.commit)
            if tree.returncode != 0:
                raise ManifestError(f"cannot list files at {self.rev}: {tree.stderr.decode()}")
            paths = []
            for entry in tree.stdout.decode().split("\0"):
                meta, _, path = entry.partition("\t")
                if not path or meta.split()[1] != "blob" or not path.startswith(self.prefix):
                    continue
                paths.append(path[len(self.prefix) :])
            self._listing = paths
        return self._listing

    def files(self, globs: Sequence[str]) -> list[str]:
        self._matched = match_globs(self._all_files(), globs)
        return list(self._matched)

    def read(self, path: str) -> bytes:
        if path not in self._blobs:
            # The loader reads every listed file next: fetch them all in one go.
            rest = [p for p in self._matched if p not in self._blobs and p != path]
            self._read_batch([path, *rest])
        return self._blobs[path]

    def _read_batch(self, paths: list[str]) -> None:
        """Read many blobs with one ``git cat-file --batch`` (a process per file is slow)."""
        names = "".join(f"{self.commit}:{self.prefix}{p}\n" for p in paths).encode()
        result = _git(self.root, "cat-file", "--batch", stdin=names)
        if result.returncode != 0:
            raise ManifestError(f"cannot read files at {self.rev}: {result.stderr.decode()}")
        out, pos = result.stdout, 0
        for path in paths:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if header[-1] == b"missing":
                raise FileNotFoundError(2, f"no {path} at {self.rev}", path)
            size = int(header[2])
            self._blobs[path] = out[pos : pos + size]
            pos += size + 1

    def describe(self, path: str) -> str:
        """``manifests/models.yaml@v1.4``: errors show which revision they come from."""
        return f"{self.prefix}{path}@{self.rev}"


def source_at(root: Path, ref: str | None) -> GitSource | None:
    """The source for ``--ref``: None (the working tree) when no revision is given."""
    return None if ref is None else GitSource(root, ref)
