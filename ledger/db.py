"""The ledger's database connection: SQLAlchemy Core over SQLite (the default) or PostgreSQL.

Statements are plain, portable SQL (`text()` with `:name` parameters) that both backends accept, so
there is one schema and one migration path. Connection handling is SQLAlchemy's:

* SQLite: one connection shared by the process's threads (`StaticPool`), one transaction at a time
  under a lock, each write transaction opened with `BEGIN IMMEDIATE` (a deferred transaction that
  later writes can fail at once with "database is locked" when another process wrote meanwhile); WAL
  journal so that `run.py status` in another process reads while the service writes.
* PostgreSQL: SQLAlchemy's connection pool (psycopg 3 driver), one pooled connection per transaction.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

logger = logging.getLogger(__name__)


class LedgerUnavailable(RuntimeError):
    """The ledger's database cannot be opened or reached (the message names the setting, never a
    password)."""


def unavailable(error: BaseException) -> bool:
    """True when `error` says the ledger's database cannot be reached or used right now (a server
    that is down or restarting, a dropped connection, a locked file): a recoverable condition."""
    from sqlalchemy.exc import DBAPIError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(error, LedgerUnavailable | OperationalError | PoolTimeout):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def redacted(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL: show only its scheme
        return url.split(":", 1)[0] + "://…"


class Database:
    """A SQLAlchemy engine with the transaction discipline the ledger needs."""

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        self._lock = threading.RLock()
        if self.dialect == "sqlite":
            if parsed.database:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(
                url,
                poolclass=StaticPool,
                connect_args={"check_same_thread": False, "timeout": 30},
            )
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        else:
            if parsed.drivername == "postgresql":
                url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
            connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": 10}
            self.engine = create_engine(
                url, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args=connect_args
            )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def skip_locked(self) -> str:
        """The clause that makes concurrent claimers skip each other's rows (PostgreSQL); SQLite has
        one writer at a time (`BEGIN IMMEDIATE`), so it needs none."""
        return "" if self.is_sqlite else " FOR UPDATE SKIP LOCKED"

    def clock(self, conn: Connection) -> float:
        """Now, in epoch seconds, by the database's clock on PostgreSQL (instances on several hosts
        compare lease times on one clock) and by this host's on SQLite (one instance)."""
        if self.is_sqlite:
            return time.time()
        return float(conn.execute(text("SELECT EXTRACT(EPOCH FROM clock_timestamp())")).scalar_one())

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back on an exception."""
        if self.is_sqlite:
            with self._lock, self.engine.begin() as conn:
                yield conn
        else:
            with self.engine.begin() as conn:
                yield conn

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Run one statement in its own transaction; the rows it returns (if any)."""
        with self.transaction() as conn:
            result = conn.execute(text(sql), dict(params or {}))
            return list(result.fetchall()) if result.returns_rows else []

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")
