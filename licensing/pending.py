"""A durable list of the conversations that finished while the service was unlicensed.

SQLite (standard library): every ``add``/``remove`` is one transaction, committed before it returns,
so the list survives a crash or a restart at any point. ``add`` is idempotent (a repeated
notification for the same conversation keeps the first ``finished_at`` and merges queue ids).

``drain()`` returns the entries, oldest first, WITHOUT removing them: hand each one to the export
ledger and only then ``remove()`` it. A crash in between exports a conversation at least once, never
zero times (the export ledger/status write-back makes a repeat harmless).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    conversation_id TEXT PRIMARY KEY,
    queue_ids       TEXT NOT NULL,
    finished_at     TEXT NOT NULL,
    added_at        TEXT NOT NULL,
    seq             INTEGER NOT NULL
)
"""


@dataclass(frozen=True)
class PendingConversation:
    conversation_id: str
    queue_ids: tuple[str, ...]
    finished_at: str  # ISO 8601, as given


class PendingConversations:
    """Thread-safe (one connection behind a lock); usable from the LicenseActor and from tests."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> PendingConversations:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(
        self,
        conversation_id: str,
        queue_ids: Iterable[str] = (),
        finished_at: str | dt.datetime | None = None,
    ) -> bool:
        """Remember a conversation; True if it was new. Logged at INFO with its id."""
        if not conversation_id:
            raise ValueError("conversation_id is empty")
        if isinstance(finished_at, dt.datetime):
            finished = finished_at.isoformat()
        else:
            finished = finished_at or dt.datetime.now(dt.UTC).isoformat()
        queues = sorted(set(queue_ids))
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT queue_ids FROM pending WHERE conversation_id = ?", (conversation_id,)
                ).fetchone()
                if row is None:
                    seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM pending").fetchone()[0]
                    self._db.execute(
                        "INSERT INTO pending VALUES (?, ?, ?, ?, ?)",
                        (
                            conversation_id,
                            json.dumps(queues),
                            finished,
                            dt.datetime.now(dt.UTC).isoformat(),
                            seq,
                        ),
                    )
                else:
                    merged = sorted(set(json.loads(row[0])) | set(queues))
                    self._db.execute(
                        "UPDATE pending SET queue_ids = ? WHERE conversation_id = ?",
                        (json.dumps(merged), conversation_id),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        if row is None:
            logger.info(
                "conversation %s finished while unlicensed: kept for export once licensed", conversation_id
            )
        return row is None

    def drain(self) -> list[PendingConversation]:
        """Every pending conversation, oldest first; they stay until ``remove()``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT conversation_id, queue_ids, finished_at FROM pending ORDER BY seq"
            ).fetchall()
        return [PendingConversation(cid, tuple(json.loads(q)), f) for cid, q, f in rows]

    def remove(self, conversation_id: str) -> bool:
        """Forget a conversation (after it was handed to the export ledger); True if it was there."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM pending WHERE conversation_id = ?", (conversation_id,))
        return cursor.rowcount > 0

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM pending").fetchone()[0])

    def __contains__(self, conversation_id: object) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM pending WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()
        return row is not None
