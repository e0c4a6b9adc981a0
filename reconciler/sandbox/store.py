"""SQLite state of a sandbox workspace: one JSON document per object, keyed by (collection, key).

Each request runs in one ``BEGIN IMMEDIATE`` transaction under a process lock, so concurrent
writes serialize and none is lost; the immediate lock also serializes two processes sharing a
state directory. State survives restarts because it is only ever in the database file.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DB_FILE = "sandbox.db"

Doc = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (collection, key)
)
"""


class Tx:
    """Reads and writes inside one transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get(self, collection: str, key: str) -> Doc | None:
        row = self._conn.execute(
            "SELECT doc FROM objects WHERE collection = ? AND key = ?", (collection, key)
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def put(self, collection: str, key: str, doc: Doc) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO objects (collection, key, doc) VALUES (?, ?, ?)",
            (collection, key, json.dumps(doc, sort_keys=True)),
        )

    def delete(self, collection: str, key: str) -> bool:
        cur = self._conn.execute(
            "DELETE FROM objects WHERE collection = ? AND key = ?", (collection, key)
        )
        return cur.rowcount > 0

    def scan(
        self,
        collection: str,
        *,
        prefix: str = "",
        after: str | None = None,
        limit: int | None = None,
    ) -> list[tuple[str, Doc]]:
        """Objects in key order, optionally only keys starting with ``prefix`` and > ``after``."""
        sql = "SELECT key, doc FROM objects WHERE collection = ?"
        args: list[Any] = [collection]
        if prefix:
            sql += " AND key >= ? AND key < ?"
            args += [prefix, prefix + "\U0010ffff"]
        if after is not None:
            sql += " AND key > ?"
            args.append(after)
        sql += " ORDER BY key"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [(k, dict(json.loads(d))) for k, d in self._conn.execute(sql, args)]

    def count(self, collection: str, *, prefix: str = "") -> int:
        return len(self.scan(collection, prefix=prefix))

    def next_id(self, name: str) -> int:
        """A counter that never repeats (survives deletes and restarts)."""
        doc = self.get("counters", name) or {"value": 0}
        doc["value"] = int(doc["value"]) + 1
        self.put("counters", name, doc)
        return int(doc["value"])


class Store:
    """The database of one state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.state_dir / DB_FILE
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30.0
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(_SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def reset_state(state_dir: Path) -> bool:
    """Remove a sandbox's state; the next start is a fresh workspace. True if there was any."""
    state_dir = Path(state_dir)
    if not state_dir.exists():
        return False
    found = False
    for path in state_dir.glob(DB_FILE + "*"):
        path.unlink()
        found = True
    if state_dir.is_dir() and not any(state_dir.iterdir()):
        shutil.rmtree(state_dir)
    return found
