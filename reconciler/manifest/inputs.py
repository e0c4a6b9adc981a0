"""What the loader may read: regular files inside the project, up to a size limit.

Manifests are reviewed in pull requests, and what is reviewed is what gets applied; so a glob
or a symlink must not pull in a file from elsewhere on the machine (``/etc``, a secret in the
home directory) or from a sibling checkout. And a hostile or mistaken tree must not hang or
exhaust the tool: a FIFO blocks its reader, ``/dev/zero`` never ends, a stat size can lie.

Rules (shared by the working tree and ``--ref`` git sources):

- An include glob is relative to the project root: no absolute path, no ``..`` component.
- A symlink inside the project to a file inside the project is followed; anything that resolves
  outside the project root is refused.
- Only regular files are read; a FIFO, socket, device or directory is refused before it is
  opened (and checked again on the open descriptor).
- At most ``MAX_FILE_BYTES`` + 1 bytes are read: the limit applies to what is read, whatever
  the file claims its size is.

What the tool writes where a user points it (``plan -o``, ``import --out``) follows the same
care: ``write_atomically`` replaces only a regular file, never a FIFO or a device.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

MAX_FILE_BYTES = 10 * 1024 * 1024
_CHUNK = 1024 * 1024


class InputRefused(Exception):
    """A glob or file the loader must not read. ``path`` or ``pattern`` says which; the loader
    turns it into a ManifestError at the include entry that brought it in."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        pattern: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.pattern = pattern
        self.hint = hint


class TooLarge(Exception):
    """More than the limit was read."""


def glob_problem(pattern: str) -> str | None:
    """Why an include glob may not be used (None when it is fine)."""
    if "\0" in pattern:
        return "contains a NUL byte"
    if pattern.startswith(("/", "\\")) or (len(pattern) > 1 and pattern[1] == ":"):
        return "is absolute; include globs are relative to the project directory"
    if pattern.startswith("~"):
        return "starts with '~'; include globs are relative to the project directory"
    if ".." in pattern.replace("\\", "/").split("/"):
        return "contains '..'; include globs cannot reach outside the project directory"
    return None


def is_inside(path: Path, root: Path) -> bool:
    """Whether ``path`` (already resolved) is ``root`` or below it."""
    return path == root or root in path.parents


def kind_of(mode: int) -> str:
    """A file type for messages: what was found where a regular file was expected."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


class NotRegular(Exception):
    """The path is a FIFO, socket, device or directory; ``kind`` says which."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def read_regular_file(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file, reading at most ``limit`` + 1 of them.

    Raises NotRegular (never opening a FIFO or device for a blocking read), TooLarge, or
    OSError (missing, unreadable, symlink loop).
    """
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise NotRegular(kind_of(mode))
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode  # the file may have been swapped since the stat
        if not stat.S_ISREG(mode):
            raise NotRegular(kind_of(mode))
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, _CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            raise TooLarge()
        return b"".join(chunks)
    finally:
        os.close(fd)


class NotWritable(Exception):
    """A file the tool was asked to write cannot be written; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: a new file beside it (created
    exclusively, so a planted temporary-name symlink is never followed), renamed over it.

    Only a regular file is ever replaced: a FIFO, device or directory at ``path`` raises
    NotWritable (never blocking on a FIFO), as does any OS error; a symlink is kept and the
    file it points to is written. Missing parent directories are created.
    """
    real = Path(os.path.realpath(path))
    try:
        if real.exists() and not stat.S_ISREG(mode := real.stat().st_mode):
            kind = kind_of(mode)
            raise NotWritable(
                kind if kind == "not a regular file" else f"it is {kind}, not a regular file"
            )
        real.parent.mkdir(parents=True, exist_ok=True)
        tmp = real.with_name(f".{real.name}.{secrets.token_hex(6)}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(tmp, flags, 0o666)  # the umask applies, as to any file the user writes
    except OSError as exc:
        raise NotWritable(exc.strerror or str(exc)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, real)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise NotWritable(exc.strerror or str(exc)) from None


def writable_dir_problem(path: Path) -> str | None:
    """Why ``path`` cannot serve as a writable directory (created if missing), or None."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        return f"cannot write there ({exc.strerror or exc})"
    return None


def too_large_message(limit: int = MAX_FILE_BYTES) -> str:
    mb = limit // (1024 * 1024)
    return f"file is larger than {mb} MB; manifests are limited to {mb} MB"


def resolve_in_tree(path: str, links: dict[str, str], *, max_hops: int = 40) -> str | None:
    """Follow the symlinks of a tree that is not on disk (a git revision).

    ``links`` maps a symlink's path (POSIX, relative to the project root) to its target text.
    Returns the path it ends at, relative to the root, or None when it leaves the root (an
    absolute target or one climbing above the root). Intermediate directory links are followed
    too; a loop raises OSError(ELOOP).
    """
    parts = path.split("/")
    done: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if not done:
                return None
            done.pop()
            continue
        current = "/".join([*done, part])
        target = links.get(current)
        if target is None:
            done.append(part)
            continue
        hops += 1
        if hops > max_hops:
            raise OSError(40, "Too many levels of symbolic links", path)
        if target.startswith("/"):
            return None
        # A relative target is relative to the link's directory, which ``done`` already is.
        parts = [*target.split("/"), *parts]
    return "/".join(done)
