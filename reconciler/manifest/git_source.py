"""Manifests as they were at a git revision, read from git objects (``--ref REV``).

Rollback is "plan or apply what the manifests said at REV". Reading the objects directly
(``git ls-tree`` and one ``git cat-file --batch``) leaves the working tree, the index and the
checked-out branch alone, so it is safe in a dirty checkout and in CI.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.manifest.inputs import MAX_FILE_BYTES, InputRefused, resolve_in_tree
from reconciler.manifest.source import OUTSIDE_HINT, check_globs, match_globs, too_large
from reconciler.model.errors import ManifestError

_SYMLINK = "120000"


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", str(cwd), *args], input=stdin, capture_output=True, check=False
        )
    except FileNotFoundError:
        raise ManifestError(
            "git is not installed", hint="--ref reads manifests from git; install git"
        ) from None


@dataclass(frozen=True)
class _Entry:
    mode: str
    size: int


class GitSource:
    """The project files at one commit. ``root`` is the project directory (any directory in the
    repository); paths are relative to it, as with ``FileSystemSource``.

    The working tree's rules hold here too: a symlink blob is followed only to a file inside
    the project directory, and a blob over the size limit is refused from its listed size,
    before it is read.
    """

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
        self._listing: dict[str, _Entry] | None = None
        self._links: dict[str, str] | None = None
        self._blobs: dict[str, bytes] = {}
        self._matched: list[str] = []

    def __repr__(self) -> str:
        return f"GitSource({str(self.root)!r}, {self.rev!r})"

    def _all_files(self) -> dict[str, _Entry]:
        """Blobs (files and symlinks) under the project directory: path -> mode and size."""
        if self._listing is None:
            tree = _git(self.root, "ls-tree", "-r", "-l", "-z", "--full-tree", self.commit)
            if tree.returncode != 0:
                raise ManifestError(f"cannot list files at {self.rev}: {tree.stderr.decode()}")
            listing: dict[str, _Entry] = {}
            for entry in tree.stdout.decode(errors="surrogateescape").split("\0"):
                meta, _, path = entry.partition("\t")
                fields = meta.split()
                if not path or fields[1] != "blob" or not path.startswith(self.prefix):
                    continue
                listing[path[len(self.prefix) :]] = _Entry(fields[0], int(fields[3]))
            self._listing = listing
        return self._listing

    def files(self, globs: Sequence[str]) -> list[str]:
        check_globs(globs)
        self._matched = match_globs(self._all_files(), globs)
        return list(self._matched)

    def _link_targets(self) -> dict[str, str]:
        """Every symlink of the project directory and the path it holds (read in one batch)."""
        if self._links is None:
            links = [p for p, e in self._all_files().items() if e.mode == _SYMLINK]
            self._read_batch(links)
            self._links = {p: self._blobs[p].decode(errors="replace") for p in links}
        return self._links

    def _resolve(self, path: str) -> str:
        """The regular file ``path`` stands for (itself, or where its symlinks lead)."""
        listing = self._all_files()
        entry = listing.get(path)
        if entry is None:
            raise FileNotFoundError(2, f"no {path} at {self.rev}", path)
        if entry.mode != _SYMLINK:
            return path
        links = self._link_targets()
        real = resolve_in_tree(path, links)
        if real is None:
            raise InputRefused(
                f"{self.describe(path)} is a symlink to {links[path]}, outside the project"
                " directory",
                path=path,
                hint=OUTSIDE_HINT,
            )
        found = listing.get(real)
        if found is None or found.mode == _SYMLINK:
            raise InputRefused(
                f"{self.describe(path)} is a symlink to {links[path]}, which is not a file at"
                f" {self.rev}",
                path=path,
            )
        return real

    def read(self, path: str) -> bytes:
        real = self._resolve(path)
        if self._all_files()[real].size > MAX_FILE_BYTES:
            raise too_large(self.describe(path))
        if real not in self._blobs:
            # The loader reads every listed file next: fetch them all in one go.
            listing = self._all_files()
            rest = [
                p
                for p in self._matched
                if p not in self._blobs
                and p != real
                and listing[p].mode != _SYMLINK
                and listing[p].size <= MAX_FILE_BYTES
            ]
            self._read_batch([real, *rest])
        return self._blobs[real]

    def _read_batch(self, paths: list[str]) -> None:
        """Read many blobs with one ``git cat-file --batch`` (a process per file is slow)."""
        if not paths:
            return
        names = "".join(f"{self.commit}:{self.prefix}{p}\n" for p in paths).encode(
            errors="surrogateescape"
        )
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
