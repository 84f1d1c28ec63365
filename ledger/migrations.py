"""The ledger's versioned schema: one list of migrations for SQLite and PostgreSQL.

`meta` records the schema version and the callexport version that last migrated it. A ledger
without `meta` but with a `jobs` table is version 1 (the layout before versioning), so an existing
state directory keeps working: it is migrated in place. A ledger whose schema is newer than this
code knows stops the service with `LedgerTooNew` instead of being misread.

Every statement is portable SQL: TEXT, BIGINT and DOUBLE PRECISION columns, `ON CONFLICT` upserts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from importlib import metadata

from sqlalchemy import Connection, inspect, text

logger = logging.getLogger(__name__)


class LedgerTooNew(RuntimeError):
    """The state directory (or database) was written by a newer callexport."""


def app_version() -> str:
    try:
        return metadata.version("callexport")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


_V1 = [
    """CREATE TABLE IF NOT EXISTS jobs (
        conversation_id TEXT PRIMARY KEY,
        queue_ids TEXT NOT NULL,
        finished_at DOUBLE PRECISION NOT NULL,
        state TEXT NOT NULL,
        attempts BIGINT NOT NULL DEFAULT 0,
        last_error TEXT,
        seq BIGINT NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS outputs (
        conversation_id TEXT NOT NULL,
        profile TEXT NOT NULL,
        item TEXT NOT NULL,
        path TEXT,
        status TEXT NOT NULL,
        bytes BIGINT,
        updated_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (conversation_id, profile, item)
    )""",
    """CREATE TABLE IF NOT EXISTS profile_status (
        conversation_id TEXT NOT NULL,
        profile TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        detail TEXT,
        updated_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (conversation_id, profile, kind)
    )""",
]

_V2 = [
    # parked work: when to wake it and why it waits; the state machine's durable state and the
    # documents it fetched (so a wake-up does not fetch them again); crash and start counts that
    # survive restarts (dead-lettering); where the job came from and its priority
    "ALTER TABLE jobs ADD COLUMN wake_at DOUBLE PRECISION",
    "ALTER TABLE jobs ADD COLUMN park_reason TEXT",
    "ALTER TABLE jobs ADD COLUMN crashes BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE jobs ADD COLUMN unclean_starts BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE jobs ADD COLUMN source TEXT NOT NULL DEFAULT 'live'",
    "ALTER TABLE jobs ADD COLUMN priority BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE jobs ADD COLUMN machine TEXT",
    "ALTER TABLE jobs ADD COLUMN context TEXT",
    "ALTER TABLE jobs ADD COLUMN created_at DOUBLE PRECISION",
    "ALTER TABLE jobs ADD COLUMN done_at DOUBLE PRECISION",
    "UPDATE jobs SET created_at = updated_at WHERE created_at IS NULL",
    "UPDATE jobs SET done_at = updated_at WHERE state IN ('done', 'failed') AND done_at IS NULL",
    """CREATE TABLE IF NOT EXISTS pending (
        conversation_id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL
    )""",
    # one index per query the service makes (see ledger/store.py)
    "CREATE INDEX IF NOT EXISTS jobs_state_seq ON jobs (state, seq)",
    "CREATE INDEX IF NOT EXISTS jobs_state_wake ON jobs (state, wake_at)",
    "CREATE INDEX IF NOT EXISTS jobs_done_at ON jobs (done_at)",
    "CREATE INDEX IF NOT EXISTS jobs_finished_at ON jobs (finished_at)",
    "CREATE INDEX IF NOT EXISTS pending_updated ON pending (updated_at)",
]

_V3 = [
    # the notification snapshot that finished the conversation: participants, communications and
    # attributes the export would otherwise read again from Genesys Cloud (the org's API budget)
    "ALTER TABLE jobs ADD COLUMN event TEXT",
]

_V4 = [
    # several instances on one PostgreSQL ledger (the same tables serve the one SQLite instance): a
    # running job is leased by the instance that works it (`lease_owner` until `lease_until`, renewed
    # while it works, taken over when it expires); the instances' heartbeats; named leases such as the
    # leader's (the one instance that runs the singletons: reconciliation sweep, pruning)
    "ALTER TABLE jobs ADD COLUMN lease_owner TEXT",
    "ALTER TABLE jobs ADD COLUMN lease_until DOUBLE PRECISION",
    "CREATE INDEX IF NOT EXISTS jobs_claim ON jobs (state, priority, seq)",
    "CREATE INDEX IF NOT EXISTS jobs_lease ON jobs (state, lease_until)",
    """CREATE TABLE IF NOT EXISTS instances (
        name TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid BIGINT NOT NULL,
        version TEXT NOT NULL,
        started_at DOUBLE PRECISION NOT NULL,
        heartbeat_at DOUBLE PRECISION NOT NULL,
        running BIGINT NOT NULL DEFAULT 0,
        parked BIGINT NOT NULL DEFAULT 0,
        requests_per_minute DOUBLE PRECISION NOT NULL DEFAULT 0,
        budget BIGINT,
        stopped_at DOUBLE PRECISION
    )""",
    """CREATE TABLE IF NOT EXISTS leases (
        name TEXT PRIMARY KEY,
        holder TEXT,
        expires_at DOUBLE PRECISION NOT NULL,
        acquired_at DOUBLE PRECISION
    )""",
]

MIGRATIONS: list[list[str] | Callable[[Connection], None]] = [_V1, _V2, _V3, _V4]
LATEST = len(MIGRATIONS)
MIGRATION_LOCK = 0x63616C6C  # "call": the advisory lock key that serialises migrations


def current_version(conn: Connection) -> int:
    tables = set(inspect(conn).get_table_names())
    if "meta" in tables:
        row = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'")).fetchone()
        return int(row[0]) if row else 0
    return 1 if "jobs" in tables else 0


def written_by(conn: Connection) -> str:
    row = conn.execute(text("SELECT value FROM meta WHERE key = 'written_by'")).fetchone()
    return str(row[0]) if row else "an unknown version"


def migrate(conn: Connection, where: str) -> int:
    """Bring the schema to `LATEST` inside the caller's transaction; returns the version found.

    On PostgreSQL a transaction-scoped advisory lock makes instances that start together migrate one
    after the other (the second finds the schema current)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    found = current_version(conn)
    if found > LATEST:
        raise LedgerTooNew(
            f"the export ledger in {where} has schema version {found}, written by callexport "
            f"{written_by(conn)}; this is callexport {app_version()} (schema version {LATEST}). "
            "Start the newer version again, or point state_dir/ledger_url at a new location."
        )
    if found < LATEST:
        conn.execute(text("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"))
        for version in range(found + 1, LATEST + 1):
            step = MIGRATIONS[version - 1]
            if callable(step):
                step(conn)
            else:
                for statement in step:
                    conn.execute(text(statement))
            _set_meta(conn, "schema_version", str(version))
        _set_meta(conn, "written_by", app_version())
        _set_meta(conn, "migrated_at", f"{time.time():.3f}")
        if found:
            logger.info("Export ledger in %s migrated from schema version %d to %d", where, found, LATEST)
    return found


def _set_meta(conn: Connection, key: str, value: str) -> None:
    conn.execute(
        text(
            "INSERT INTO meta (key, value) VALUES (:key, :value) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        ),
        {"key": key, "value": value},
    )
