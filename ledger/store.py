"""The durable export ledger (SQLite): work lives here, never only in a mailbox.

* `jobs`: one row per finished conversation, written before any actor sees it. States:
  `queued` → `running` → `done` | `failed`; `held` while the service is unlicensed.
  On start-up every job that is not done or failed is queued again (resume after a crash).
* `outputs`: one row per file a profile produces for a conversation (`item` is a stable key such as
  `audio:<recording id>` or `transcript:<communication id>:<recording id>`). The target path is
  recorded *before* writing (`planned`) and confirmed after (`written`/`skipped`), so a restart
  does not write the same file twice.
* `profile_status`: per (conversation, profile, kind) the final status that was written back.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    conversation_id TEXT PRIMARY KEY,
    queue_ids TEXT NOT NULL,
    finished_at REAL NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    seq INTEGER NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS outputs (
    conversation_id TEXT NOT NULL,
    profile TEXT NOT NULL,
    item TEXT NOT NULL,
    path TEXT,
    status TEXT NOT NULL,
    bytes INTEGER,
    updated_at REAL NOT NULL,
    PRIMARY KEY (conversation_id, profile, item)
);
CREATE TABLE IF NOT EXISTS pending (
    conversation_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    expires_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS profile_status (
    conversation_id TEXT NOT NULL,
    profile TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (conversation_id, profile, kind)
);
"""


@dataclass(frozen=True)
class Job:
    conversation_id: str
    queue_ids: tuple[str, ...]
    finished_at: float
    state: str
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class PendingConversation:
    """A conversation seen in a watched queue that is not over and wrapped up yet (the tracker's
    state for it, JSON-able), kept so that a restart keeps waiting for it."""

    conversation_id: str
    state: dict[str, Any]
    expires_at: float


@dataclass(frozen=True)
class OutputRecord:
    item: str
    path: str | None
    status: str
    bytes: int | None


class Ledger:
    """Thread-safe; every method is one short transaction."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- jobs --------------------------------------------------------------------
    def add_job(
        self, conversation_id: str, queue_ids: tuple[str, ...], finished_at: float, state: str = "queued"
    ) -> bool:
        """Record a finished conversation; False if it is already known (duplicates are ignored)."""
        with self._tx() as db:
            row = db.execute("SELECT state FROM jobs WHERE conversation_id=?", (conversation_id,)).fetchone()
            if row is not None:
                return False
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs").fetchone()[0]
            db.execute(
                "INSERT INTO jobs VALUES (?, ?, ?, ?, 0, NULL, ?, ?)",
                (conversation_id, json.dumps(list(queue_ids)), finished_at, state, seq, time.time()),
            )
            return True

    def set_state(self, conversation_id: str, state: str, error: str | None = None) -> None:
        with self._tx() as db:
            bump = 1 if state == "running" else 0
            db.execute(
                "UPDATE jobs SET state=?, last_error=COALESCE(?, last_error), attempts=attempts+?, updated_at=? "
                "WHERE conversation_id=?",
                (state, error, bump, time.time(), conversation_id),
            )

    def job(self, conversation_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute(
                "SELECT conversation_id, queue_ids, finished_at, state, attempts, last_error FROM jobs "
                "WHERE conversation_id=?",
                (conversation_id,),
            ).fetchone()
        return _job(row) if row else None

    def jobs(self, *states: str) -> list[Job]:
        """Jobs in the given states, oldest first (all jobs when no state is given)."""
        query = "SELECT conversation_id, queue_ids, finished_at, state, attempts, last_error FROM jobs"
        params: tuple[str, ...] = ()
        if states:
            query += f" WHERE state IN ({','.join('?' * len(states))})"
            params = states
        with self._lock:
            rows = self._db.execute(query + " ORDER BY seq", params).fetchall()
        return [_job(r) for r in rows]

    def requeue_unfinished(self) -> list[Job]:
        """After a restart: jobs that were queued or running are queued again, in order."""
        with self._tx() as db:
            db.execute("UPDATE jobs SET state='queued' WHERE state='running'")
        return self.jobs("queued")

    # -- outputs -----------------------------------------------------------------
    def output(self, conversation_id: str, profile: str, item: str) -> OutputRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT item, path, status, bytes FROM outputs WHERE conversation_id=? AND profile=? AND item=?",
                (conversation_id, profile, item),
            ).fetchone()
        return OutputRecord(*row) if row else None

    def outputs(self, conversation_id: str, profile: str | None = None) -> list[OutputRecord]:
        query = "SELECT item, path, status, bytes FROM outputs WHERE conversation_id=?"
        params: tuple[str, ...] = (conversation_id,)
        if profile is not None:
            query += " AND profile=?"
            params += (profile,)
        with self._lock:
            return [OutputRecord(*r) for r in self._db.execute(query + " ORDER BY item", params)]

    def record_output(
        self,
        conversation_id: str,
        profile: str,
        item: str,
        status: str,
        path: str | None = None,
        size: int | None = None,
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO outputs VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(conversation_id, profile, item) "
                "DO UPDATE SET path=COALESCE(excluded.path, path), status=excluded.status, "
                "bytes=COALESCE(excluded.bytes, bytes), updated_at=excluded.updated_at",
                (conversation_id, profile, item, path, status, size, time.time()),
            )

    # -- profile status ----------------------------------------------------------
    def set_profile_status(
        self, conversation_id: str, profile: str, kind: str, status: str, detail: str = ""
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO profile_status VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(conversation_id, profile, kind) "
                "DO UPDATE SET status=excluded.status, detail=excluded.detail, updated_at=excluded.updated_at",
                (conversation_id, profile, kind, status, detail, time.time()),
            )

    def profile_status(self, conversation_id: str, profile: str, kind: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT status FROM profile_status WHERE conversation_id=? AND profile=? AND kind=?",
                (conversation_id, profile, kind),
            ).fetchone()
        return row[0] if row else None

    # -- conversations not finished yet (the wrap-up tracker's durable memory) -----------
    def put_pending(self, conversation_id: str, state: dict[str, Any], expires_at: float) -> None:
        """Remember (or update) a conversation the tracker waits for; `expires_at` is epoch seconds
        after which it is no longer worth waiting for (the tracker decides what that means)."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO pending VALUES (?, ?, ?, ?) ON CONFLICT(conversation_id) DO UPDATE SET "
                "state=excluded.state, expires_at=excluded.expires_at, updated_at=excluded.updated_at",
                (conversation_id, json.dumps(state), expires_at, time.time()),
            )

    def pending(self) -> list[PendingConversation]:
        """Every conversation the tracker was waiting for, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT conversation_id, state, expires_at FROM pending ORDER BY updated_at"
            ).fetchall()
        return [PendingConversation(r[0], json.loads(r[1]), r[2]) for r in rows]

    def drop_pending(self, conversation_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM pending WHERE conversation_id=?", (conversation_id,))


def _job(row: tuple) -> Job:
    return Job(row[0], tuple(json.loads(row[1])), row[2], row[3], row[4], row[5])
