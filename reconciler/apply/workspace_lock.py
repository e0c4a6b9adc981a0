"""The apply lock of a Databricks target, kept in the workspace it protects.

Design: a lease file ``/Shared/.reconciler/locks/<project>.<target>.json`` in the workspace
tree holding the holder (user, host, pid, CI run), a random token and an expiry.

- Acquire = ``workspace import`` with ``overwrite=false``: the workspace answers
  RESOURCE_ALREADY_EXISTS when the file exists, which is the one compare-and-set the API
  offers. The file is read back and must carry our token.
- While held, a heartbeat re-writes the file every third of the lease with a later expiry, so a
  long apply keeps it and a crashed one loses it within one lease (default 15 minutes).
- A file whose expiry has passed is deleted and the acquire retried. So is one whose holder
  ran on this host and is gone (``Holder.liveness``: a killed apply's lease is taken over at
  once, with a log line, instead of blocking every apply until it expires). Two waiters can
  both see it stale; the read-back of the token makes the loser notice and wait again.
- Release deletes the file only if it still holds our token.
- ``reconciler unlock`` deletes it whoever holds it (``unlock``), refusing a holder alive on
  this host unless forced.
"""

from __future__ import annotations

import base64
import contextlib
import threading
import time
from types import TracebackType
from typing import Self

from databricks.sdk.errors import NotFound, ResourceConflict
from databricks.sdk.service.workspace import ImportFormat

from reconciler.adapters.databricks.sdk import WorkspaceClient
from reconciler.apply.holder import Holder, Liveness
from reconciler.apply.lock import POLL_SECONDS, busy_error
from reconciler.model.errors import ApplyError
from reconciler.runtime.logs import get_logger

LOCK_DIR = "/Shared/.reconciler/locks"
DEFAULT_LEASE = 900.0


def lock_path(project: str, target: str) -> str:
    return f"{LOCK_DIR}/{project}.{target}.json"


class WorkspaceLock:
    def __init__(
        self,
        client: WorkspaceClient,
        *,
        project: str,
        target: str,
        timeout: float = 0.0,
        lease: float = DEFAULT_LEASE,
    ) -> None:
        self.client = client
        self.path = lock_path(project, target)
        self.target = target
        self.timeout = timeout
        self.lease = lease
        self.holder: Holder | None = None
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def _write(self, holder: Holder, *, overwrite: bool) -> None:
        content = base64.b64encode(holder.to_json().encode()).decode()
        self.client.workspace.import_(
            self.path, content=content, format=ImportFormat.AUTO, overwrite=overwrite
        )

    def read(self) -> Holder | None:
        """The holder of the lease; None when there is none (or it cannot be parsed)."""
        text = self._read_text()
        return Holder.from_json(text) if text is not None else None

    def _read_text(self) -> str | None:
        try:
            with self.client.workspace.download(self.path) as stream:
                return bytes(stream.read()).decode(errors="replace")
        except NotFound:
            return None

    def _try_acquire(self) -> tuple[Holder | None, bool]:
        """Our holder when we got the lock, else None; and whether to try again at once (an
        expired lease was just removed)."""
        mine = Holder.me(expires_in=self.lease)
        try:
            self._write(mine, overwrite=False)
        except ResourceConflict:
            current = self.read()
            if current is None:
                return None, True
            if current.expired():
                self._delete_if(current.token)
                return None, True
            state, reason = current.liveness()
            if state is Liveness.DEAD:
                get_logger(__name__).warning(
                    "apply lock taken over: its holder is gone",
                    target=self.target,
                    holder=current.describe(),
                    reason=reason,
                )
                self._delete_if(current.token)
                return None, True
            return None, False
        current = self.read()
        return (mine if current is not None and current.token == mine.token else None), False

    def _delete_if(self, token: str) -> None:
        current = self.read()
        if current is not None and current.token == token:
            with contextlib.suppress(NotFound):
                self.client.workspace.delete(self.path)

    def __enter__(self) -> Self:
        self.client.workspace.mkdirs(LOCK_DIR)
        started = time.monotonic()
        while True:
            got, again = self._try_acquire()
            if got is not None:
                self.holder = got
                break
            waited = time.monotonic() - started
            if again and waited < self.timeout + 5:
                continue
            if waited >= self.timeout:
                raise busy_error(self.target, self.read(), waited, self.path, lease=True)
            time.sleep(min(max(POLL_SECONDS, 1.0), max(0.0, self.timeout - waited)))
        self._beat = threading.Thread(target=self._heartbeat, name="lock-heartbeat", daemon=True)
        self._beat.start()
        return self

    def unlock(self, *, force: bool = False) -> tuple[Holder | None, str] | None:
        """Release the lease whoever holds it (``reconciler unlock``): the holder it had (None
        when unreadable) and its liveness, or None when there was no lease.

        A holder still running on this host is refused unless ``force``.
        """
        text = self._read_text()
        if text is None:
            return None
        current = Holder.from_json(text)
        if current is None:
            self._delete()
            return None, "the lease file could not be read"
        state, reason = current.liveness()
        if state is Liveness.ALIVE and not force:
            raise ApplyError(
                f"target {self.target!r} is locked by {current.describe()}, and {reason};"
                " not released",
                hint="wait for that apply to finish or stop it; --force releases the lease"
                " anyway (the running apply then goes on unlocked)",
            )
        self._delete_if(current.token)
        return current, f"forced: {reason}" if state is Liveness.ALIVE else reason

    def _delete(self) -> None:
        with contextlib.suppress(NotFound):
            self.client.workspace.delete(self.path)

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.lease / 3):
            holder = self.holder
            if holder is None:
                return
            renewed = Holder.me(expires_in=self.lease)
            renewed = Holder(**{**holder.__dict__, "expires": renewed.expires})
            try:
                current = self.read()
                if current is None or current.token != holder.token:
                    return
                self._write(renewed, overwrite=True)
                self.holder = renewed
            except Exception:  # a missed beat is retried at the next one
                continue

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
        if self.holder is not None:
            self._delete_if(self.holder.token)
            self.holder = None
