"""The apply lock of a Databricks target, kept in the workspace it protects.

Design: a lease file ``/Shared/.reconciler/locks/<project>.<target>.json`` in the workspace
tree holding the holder (user, host, pid, CI run), a random token and an expiry.

- Acquire = ``workspace import`` with ``overwrite=false``: the workspace answers
  RESOURCE_ALREADY_EXISTS when the file exists, which is the one compare-and-set the API
  offers. The file is read back and must carry our token.
- While held, a heartbeat re-writes the file every third of the lease with a later expiry, so a
  long apply keeps it and a crashed one loses it within one lease (default 15 minutes).
- A file whose expiry has passed is deleted and the acquire retried. Two waiters can both see
  it expired; the read-back of the token makes the loser notice and wait again.
- Release deletes the file only if it still holds our token.
"""

from __future__ import annotations

import base64
import contextlib
import threading
import time
from types import TracebackType
from typing import Self

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, ResourceConflict
from databricks.sdk.service.workspace import ImportFormat

from reconciler.apply.lock import POLL_SECONDS, Holder, busy_error

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
        try:
            with self.client.workspace.download(self.path) as stream:
                return Holder.from_json(stream.read().decode())
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
                raise busy_error(self.target, self.read(), waited, self.path)
            time.sleep(min(max(POLL_SECONDS, 1.0), max(0.0, self.timeout - waited)))
        self._beat = threading.Thread(target=self._heartbeat, name="lock-heartbeat", daemon=True)
        self._beat.start()
        return self

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
