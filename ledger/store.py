"""The durable export ledger: work lives here, never only in a mailbox.

* `jobs`: one row per finished conversation, written before any actor sees it. States:
  `queued` → `running` → (`parked` → `queued` → `running`)* → `done` | `failed`; `held` while the
  service is unlicensed. A parked job waits for `wake_at` (processing delay, analytics lag, a
  transcript not there yet, a share that cannot be written) and holds no export slot; its state
  machine's durable state (`machine`) and the documents it fetched (`context`) are kept with it, so
  a wake-up — or a restart — resumes where it stopped. Crash and unclean-start counts survive
  restarts, so dead-lettering does too.
* `outputs`: one row per file a profile produces for a conversation (`item` is a stable key such as
  `audio:<recording id>` or `transcript:<communication id>:<item>`). The target path is recorded
  *before* writing (`planned`) and confirmed after (`written`/`skipped`), so a restart or a re-sent
  request does not write the same file twice.
* `profile_status`: per (conversation, profile, kind) the final status that was written back.
* `pending`: conversations the wrap-up tracker waits for (not finished yet).
* Several instances (PostgreSQL): a running job is *leased* by the instance that works it
  (`lease_owner`, `lease_until`, on the database's clock). Claims are conditional updates (and
  `FOR UPDATE SKIP LOCKED` when claiming the next queued jobs), so one job runs on one instance;
  the owner renews its leases while it works; a lease that expired (the instance died) is taken
  over by another instance, which resumes from the job's machine state and its planned and written
  outputs. `instances` holds every instance's heartbeat; `leases` named leases such as the leader's.
  On SQLite the same statements run for the one instance.

Thread-safe; every method is one short transaction.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text

from ledger.db import Database, LedgerUnavailable, redacted, sqlite_url
from ledger.migrations import migrate

logger = logging.getLogger(__name__)

UNFINISHED = ("queued", "running", "parked", "held")
FINISHED = ("done", "failed")

_JOB_COLUMNS = (
    "conversation_id, queue_ids, finished_at, state, attempts, last_error, wake_at, park_reason, "
    "crashes, unclean_starts, source, priority, created_at, updated_at, done_at, lease_owner, lease_until"
)
LEADER = "leader"


@dataclass(frozen=True)
class Job:
    conversation_id: str
    queue_ids: tuple[str, ...]
    finished_at: float
    state: str
    attempts: int
    last_error: str | None
    wake_at: float | None = None
    park_reason: str | None = None
    crashes: int = 0
    unclean_starts: int = 0
    source: str = "live"
    priority: int = 0
    created_at: float | None = None
    updated_at: float | None = None
    done_at: float | None = None
    lease_owner: str | None = None
    lease_until: float | None = None


@dataclass(frozen=True)
class Instance:
    """One instance's last heartbeat (`instances` table)."""

    name: str
    host: str
    pid: int
    version: str
    started_at: float
    heartbeat_at: float
    running: int
    parked: int
    requests_per_minute: float
    budget: int | None
    stopped_at: float | None
    leader: bool = False


@dataclass(frozen=True)
class OutputRecord:
    item: str
    path: str | None
    status: str
    bytes: int | None


@dataclass(frozen=True)
class PendingConversation:
    """A conversation seen in a watched queue that is not over and wrapped up yet (the tracker's
    state for it, JSON-able), kept so that a restart keeps waiting for it."""

    conversation_id: str
    state: dict[str, Any]
    expires_at: float


class Ledger:
    """The ledger of one service (SQLite file) or of several instances (a PostgreSQL URL)."""

    def __init__(self, location: Path | str) -> None:
        url = sqlite_url(location) if isinstance(location, Path) else location
        self.url = url
        self.path = location if isinstance(location, Path) else None
        try:
            self.db = Database(url)
            with self.db.transaction() as conn:
                migrate(conn, str(location) if isinstance(location, Path) else redacted(url))
        except LedgerUnavailable:
            raise
        except Exception as exc:
            from ledger.migrations import LedgerTooNew

            if isinstance(exc, LedgerTooNew):
                raise
            raise LedgerUnavailable(f"cannot open the export ledger at {redacted(url)}: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    @property
    def shared(self) -> bool:
        """True when several instances may share this ledger (PostgreSQL)."""
        return not self.db.is_sqlite

    def _rows(self, sql: str, **params: Any) -> list[Any]:
        return self.db.execute(sql, params)

    # -- jobs --------------------------------------------------------------------
    def add_job(
        self,
        conversation_id: str,
        queue_ids: tuple[str, ...],
        finished_at: float,
        state: str = "queued",
        *,
        source: str = "live",
        priority: int = 0,
        event: dict[str, Any] | None = None,
    ) -> bool:
        """Record a finished conversation; False if it is already known (duplicates are ignored).
        `event` is the notification snapshot that finished it (kept so the export need not read the
        conversation again)."""
        now = time.time()
        with self.db.transaction() as conn:
            seq = conn.execute(text("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs")).scalar_one()
            inserted = conn.execute(
                text(
                    "INSERT INTO jobs (conversation_id, queue_ids, finished_at, state, attempts, seq, "
                    "updated_at, created_at, source, priority, event) VALUES (:cid, :queues, :finished, "
                    ":state, 0, :seq, :now, :now, :source, :priority, :event) "
                    "ON CONFLICT (conversation_id) DO NOTHING RETURNING conversation_id"
                ),
                {
                    "cid": conversation_id,
                    "queues": json.dumps(list(queue_ids)),
                    "finished": finished_at,
                    "state": state,
                    "seq": seq,
                    "now": now,
                    "source": source,
                    "priority": priority,
                    "event": None if event is None else json.dumps(event, separators=(",", ":")),
                },
            ).fetchone()
        return inserted is not None

    def set_state(
        self, conversation_id: str, state: str, error: str | None = None, *, owner: str | None = None
    ) -> bool:
        """Move a job to `state` (done/failed record when it ended; queued/held clear a park). With
        `owner`, only while that instance still holds the job (another instance that took it over
        after a lost lease decides its outcome). Leaving `running` releases the lease."""
        now = time.time()
        done_at = now if state in FINISHED else None
        parked = state == "parked"
        guard = "" if owner is None else " AND (lease_owner IS NULL OR lease_owner = :owner)"
        rows = self._rows(
            "UPDATE jobs SET state=:state, last_error=COALESCE(:error, last_error), updated_at=:now, "
            f"done_at=:done_at, wake_at={'wake_at' if parked else 'NULL'}, "
            f"park_reason={'park_reason' if parked else 'NULL'}, "
            f"unclean_starts={'0' if state in FINISHED else 'unclean_starts'}, "
            f"lease_until={'lease_until' if state == 'running' else 'NULL'} "
            f"WHERE conversation_id=:cid{guard} RETURNING conversation_id",
            state=state,
            error=error,
            now=now,
            done_at=done_at,
            cid=conversation_id,
            owner=owner,
        )
        return bool(rows)

    def restart(self, conversation_id: str, state: str = "queued") -> None:
        """Export a known conversation again from the start (an operator asked): its machine state and
        fetched documents are forgotten; written files and exported statuses still count."""
        self._rows(
            "UPDATE jobs SET state=:state, machine=NULL, context=NULL, wake_at=NULL, park_reason=NULL, "
            "crashes=0, unclean_starts=0, done_at=NULL, updated_at=:now WHERE conversation_id=:cid",
            state=state,
            now=time.time(),
            cid=conversation_id,
        )

    def start(self, conversation_id: str, *, owner: str | None = None, lease_s: float = 60.0) -> Job | None:
        """The job starts running: counted, and counted as unclean until it parks or ends.

        With `owner` it is a claim: the job starts only if it waits (queued, held) or runs under a
        lease that expired or is the owner's own; the owner then holds it for `lease_s` (renewed by
        `renew`). None when another instance holds it (PostgreSQL locks the row, so of two
        instances claiming at once exactly one succeeds)."""
        if owner is None:
            self._rows(
                "UPDATE jobs SET state='running', attempts=attempts+1, unclean_starts=unclean_starts+1, "
                "wake_at=NULL, updated_at=:now WHERE conversation_id=:cid",
                now=time.time(),
                cid=conversation_id,
            )
            return self.job(conversation_id)
        with self.db.transaction() as conn:
            now = self.db.clock(conn)
            row = conn.execute(
                text(
                    "UPDATE jobs SET state='running', attempts=attempts+1, unclean_starts=unclean_starts+1, "
                    "wake_at=NULL, updated_at=:now, lease_owner=:owner, lease_until=:until "
                    "WHERE conversation_id=:cid AND (state IN ('queued', 'held') OR (state='running' AND "
                    "(lease_owner IS NULL OR lease_owner=:owner OR lease_until IS NULL OR lease_until < :now))) "
                    f"RETURNING {_JOB_COLUMNS}"
                ),
                {"now": now, "owner": owner, "until": now + lease_s, "cid": conversation_id},
            ).fetchone()
        return _job(row) if row is not None else None

    def claim(
        self,
        owner: str,
        limit: int,
        *,
        lease_s: float = 60.0,
        below_priority: int | None = None,
        exclude: set[str] | frozenset[str] = frozenset(),
    ) -> list[Job]:
        """Claim up to `limit` queued jobs for `owner` (lowest priority value first, then in arrival
        order), each started as by `start`. Concurrent claimers skip each other's rows
        (`FOR UPDATE SKIP LOCKED`), so no job is claimed twice and nobody waits. `below_priority`
        keeps to jobs of a lower priority value (live work); `exclude` (jobs this instance still
        stops) are left alone."""
        if limit <= 0:
            return []
        clauses = ["state = 'queued'"]
        params: dict[str, Any] = {"owner": owner, "limit": limit + len(exclude)}
        if below_priority is not None:
            clauses.append("priority < :below")
            params["below"] = below_priority
        with self.db.transaction() as conn:
            now = self.db.clock(conn)
            params.update(now=now, until=now + lease_s)
            ids = [
                r[0]
                for r in conn.execute(
                    text(
                        f"SELECT conversation_id FROM jobs WHERE {' AND '.join(clauses)} "
                        f"ORDER BY priority, seq LIMIT :limit{self.db.skip_locked}"
                    ),
                    params,
                )
                if r[0] not in exclude
            ][:limit]
            if not ids:
                return []
            names = ", ".join(f":c{i}" for i in range(len(ids)))
            params.update({f"c{i}": c for i, c in enumerate(ids)})
            rows = conn.execute(
                text(
                    "UPDATE jobs SET state='running', attempts=attempts+1, unclean_starts=unclean_starts+1, "
                    "wake_at=NULL, updated_at=:now, lease_owner=:owner, lease_until=:until "
                    f"WHERE conversation_id IN ({names}) AND state = 'queued' RETURNING {_JOB_COLUMNS}"
                ),
                params,
            ).fetchall()
        order = {cid: i for i, cid in enumerate(ids)}
        return sorted((_job(r) for r in rows), key=lambda j: order[j.conversation_id])

    def renew(
        self, owner: str, conversation_ids: set[str] | None = None, *, lease_s: float = 60.0
    ) -> set[str]:
        """Extend `owner`'s leases of its running jobs (only of `conversation_ids` when given); the
        ids it still holds. A job missing from the answer was taken over after its lease expired."""
        with self.db.transaction() as conn:
            now = self.db.clock(conn)
            rows = conn.execute(
                text(
                    "UPDATE jobs SET lease_until=:until WHERE state='running' AND lease_owner=:owner "
                    "RETURNING conversation_id"
                ),
                {"owner": owner, "until": now + lease_s},
            ).fetchall()
        held = {r[0] for r in rows}
        return held if conversation_ids is None else held & set(conversation_ids)

    def holds(self, conversation_id: str, owner: str) -> bool:
        """Whether `owner` runs `conversation_id` under its lease now (a writer's fence: an instance whose
        lease was taken over must not write the job's files any more)."""
        return bool(
            self._rows(
                "SELECT 1 FROM jobs WHERE conversation_id=:cid AND state='running' AND lease_owner=:owner",
                cid=conversation_id,
                owner=owner,
            )
        )

    def expire_leases(self, now: float | None = None) -> list[tuple[str, str | None]]:
        """Running jobs whose lease expired (their instance died or lost the database) go back to
        `queued` for any instance to claim; (conversation id, former owner) of each."""
        with self.db.transaction() as conn:
            now = self.db.clock(conn) if now is None else now
            rows = conn.execute(
                text(
                    "UPDATE jobs SET state='queued', updated_at=:now WHERE conversation_id IN ("
                    "SELECT conversation_id FROM jobs WHERE state='running' AND lease_until IS NOT NULL "
                    f"AND lease_until < :now{self.db.skip_locked}) AND state='running' "
                    "RETURNING conversation_id, lease_owner"
                ),
                {"now": now},
            ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def orphaned_leases(self, now: float | None = None) -> list[Job]:
        """Running jobs whose lease has expired and that nobody has taken over yet."""
        with self.db.transaction() as conn:
            now = self.db.clock(conn) if now is None else now
            rows = conn.execute(
                text(
                    f"SELECT {_JOB_COLUMNS} FROM jobs WHERE state='running' AND "
                    "(lease_until IS NULL OR lease_until < :now) ORDER BY seq"
                ),
                {"now": now},
            ).fetchall()
        return [_job(r) for r in rows]

    def park(
        self, conversation_id: str, wake_at: float, reason: str, machine: dict[str, Any] | None = None
    ) -> None:
        """The job waits until `wake_at` without holding a slot (a clean stop: not an unclean start)."""
        self._rows(
            "UPDATE jobs SET state='parked', wake_at=:wake, park_reason=:reason, unclean_starts=0, "
            "updated_at=:now, machine=COALESCE(:machine, machine), lease_until=NULL "
            "WHERE conversation_id=:cid",
            wake=wake_at,
            reason=reason,
            now=time.time(),
            machine=None if machine is None else json.dumps(machine),
            cid=conversation_id,
        )

    def due(self, now: float, limit: int = 100) -> list[str]:
        """Parked jobs whose wake-up time has come, moved to `queued` (earliest first)."""
        rows = self._rows(
            "UPDATE jobs SET state='queued', updated_at=:now WHERE conversation_id IN ("
            "SELECT conversation_id FROM jobs WHERE state='parked' AND wake_at <= :now "
            f"ORDER BY wake_at LIMIT :limit{self.db.skip_locked}) AND state='parked' "
            "RETURNING conversation_id, wake_at",
            now=now,
            limit=limit,
        )
        return [r[0] for r in sorted(rows, key=lambda r: r[1] or 0.0)]

    # -- work of one source, claimed by the process that runs it (the backfill command) ----------
    def claim_due(
        self,
        source: str,
        now: float,
        limit: int = 100,
        *,
        reason: str | None = None,
        owner: str | None = None,
    ) -> list[str]:
        """Parked jobs of `source` whose wake-up time has come (or parked for `reason`, whatever their
        wake-up time), moved to `queued` for `owner` (marked as its, no lease yet) in one statement:
        a job is claimed by one process only (PostgreSQL: `SKIP LOCKED`, and the state is checked
        again), earliest first. The service's `due()` never sees jobs parked for `reason` with a far
        wake-up."""
        when = "(wake_at <= :now OR park_reason = :reason)" if reason is not None else "wake_at <= :now"
        params: dict[str, Any] = {
            "now": now,
            "source": source,
            "reason": reason,
            "limit": limit,
            "owner": owner,
        }
        with self.db.transaction() as conn:
            # select, then update by id (as `claim`): an IN (SELECT ... LIMIT) subquery may be run again
            # while the update goes, and hand out more than `limit`
            ids = [
                r[0]
                for r in conn.execute(
                    text(
                        f"SELECT conversation_id FROM jobs WHERE state='parked' AND source=:source AND {when} "
                        f"ORDER BY wake_at, seq LIMIT :limit{self.db.skip_locked}"
                    ),
                    params,
                )
            ]
            if not ids:
                return []
            names = ", ".join(f":c{i}" for i in range(len(ids)))
            params.update({f"c{i}": c for i, c in enumerate(ids)})
            rows = conn.execute(
                text(
                    "UPDATE jobs SET state='queued', updated_at=:now, lease_owner=COALESCE(:owner, lease_owner) "
                    f"WHERE conversation_id IN ({names}) AND state='parked' RETURNING conversation_id"
                ),
                params,
            ).fetchall()
        claimed = {r[0] for r in rows}
        return [cid for cid in ids if cid in claimed]

    def release(
        self,
        conversation_ids: list[str],
        wake_at: float,
        reason: str,
        *,
        stale_before: float | None = None,
        owner: str | None = None,
    ) -> list[str]:
        """Jobs left `queued` or `running` by a process that stopped go back to `parked` (wake at
        `wake_at`, for `reason`); with `owner`, only those it claimed or held (or nobody did), never
        one another instance runs; with `stale_before`, only those not updated since then."""
        released: list[str] = []
        for start in range(0, len(conversation_ids), 500):
            chunk = conversation_ids[start : start + 500]
            names = ", ".join(f":c{i}" for i in range(len(chunk)))
            params: dict[str, Any] = {f"c{i}": c for i, c in enumerate(chunk)}
            params.update(wake=wake_at, reason=reason, now=time.time())
            guard = ""
            if stale_before is not None:
                guard += " AND COALESCE(updated_at, 0) < :stale"
                params["stale"] = stale_before
            if owner is not None:
                guard += " AND (lease_owner IS NULL OR lease_owner = :owner)"
                params["owner"] = owner
            rows = self.db.execute(
                "UPDATE jobs SET state='parked', wake_at=:wake, park_reason=:reason, updated_at=:now, "
                f"lease_until=NULL WHERE conversation_id IN ({names}) AND state IN ('queued', 'running'){guard} "
                "RETURNING conversation_id",
                params,
            )
            released += [r[0] for r in rows]
        return released

    def states(self, conversation_ids: list[str]) -> dict[str, Job]:
        """The jobs of these conversations (absent ones are left out), read 500 at a time."""
        out: dict[str, Job] = {}
        for start in range(0, len(conversation_ids), 500):
            chunk = conversation_ids[start : start + 500]
            names = ", ".join(f":c{i}" for i in range(len(chunk)))
            params = {f"c{i}": c for i, c in enumerate(chunk)}
            for row in self.db.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE conversation_id IN ({names})", params
            ):
                job = _job(row)
                out[job.conversation_id] = job
        return out

    def finished_jobs(self, source: str, since: float) -> list[Job]:
        """Jobs of one source that finished (done or failed) at or after `since`."""
        rows = self._rows(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE source=:source AND state IN ('done', 'failed') "
            "AND done_at >= :since ORDER BY done_at",
            source=source,
            since=since,
        )
        return [_job(r) for r in rows]

    def source_jobs(self, source: str, *states: str) -> list[Job]:
        """Jobs of one source (in the given states), oldest first."""
        query = f"SELECT {_JOB_COLUMNS} FROM jobs WHERE source=:source"
        params: dict[str, Any] = {"source": source}
        if states:
            query += f" AND state IN ({', '.join(f':s{i}' for i in range(len(states)))})"
            params.update({f"s{i}": s for i, s in enumerate(states)})
        return [_job(r) for r in self.db.execute(query + " ORDER BY seq", params)]

    def next_wake(self) -> float | None:
        rows = self._rows("SELECT MIN(wake_at) FROM jobs WHERE state='parked'")
        return rows[0][0] if rows else None

    def record_crash(self, conversation_id: str, error: str) -> int:
        """A crash of this job's export; returns the crash count (it survives restarts)."""
        rows = self._rows(
            "UPDATE jobs SET crashes=crashes+1, last_error=:error, updated_at=:now "
            "WHERE conversation_id=:cid RETURNING crashes",
            error=error,
            now=time.time(),
            cid=conversation_id,
        )
        return int(rows[0][0]) if rows else 0

    def save_machine(self, conversation_id: str, machine: dict[str, Any]) -> None:
        self._rows(
            "UPDATE jobs SET machine=:machine, updated_at=:now WHERE conversation_id=:cid",
            machine=json.dumps(machine),
            now=time.time(),
            cid=conversation_id,
        )

    def machine(self, conversation_id: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT machine FROM jobs WHERE conversation_id=:cid", cid=conversation_id)
        return json.loads(rows[0][0]) if rows and rows[0][0] else None

    def save_context(self, conversation_id: str, context: dict[str, Any]) -> None:
        self._rows(
            "UPDATE jobs SET context=:context WHERE conversation_id=:cid",
            context=json.dumps(context, separators=(",", ":")),
            cid=conversation_id,
        )

    def event(self, conversation_id: str) -> dict[str, Any] | None:
        """The notification snapshot that finished the conversation, if it came through one."""
        rows = self._rows("SELECT event FROM jobs WHERE conversation_id=:cid", cid=conversation_id)
        return json.loads(rows[0][0]) if rows and rows[0][0] else None

    def context(self, conversation_id: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT context FROM jobs WHERE conversation_id=:cid", cid=conversation_id)
        return json.loads(rows[0][0]) if rows and rows[0][0] else None

    def job(self, conversation_id: str) -> Job | None:
        rows = self._rows(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE conversation_id=:cid", cid=conversation_id)
        return _job(rows[0]) if rows else None

    def jobs(self, *states: str) -> list[Job]:
        """Jobs in the given states, oldest first (all jobs when no state is given)."""
        query = f"SELECT {_JOB_COLUMNS} FROM jobs"
        params: dict[str, Any] = {}
        if states:
            names = [f":s{i}" for i in range(len(states))]
            query += f" WHERE state IN ({', '.join(names)})"
            params = {f"s{i}": s for i, s in enumerate(states)}
        return [_job(r) for r in self.db.execute(query + " ORDER BY seq", params)]

    def requeue_unfinished(self, owner: str | None = None) -> list[Job]:
        """After a restart: jobs that were running are queued again; queued ones stay queued, in
        order. Parked jobs keep their wake-up time (nothing waits again from zero). With `owner` (a
        shared ledger) only the jobs that instance was running, and none that others hold now."""
        if owner is None:
            self._rows("UPDATE jobs SET state='queued', lease_until=NULL WHERE state='running'")
        else:
            self._rows(
                "UPDATE jobs SET state='queued', lease_until=NULL WHERE state='running' AND lease_owner=:owner",
                owner=owner,
            )
        return self.jobs("queued")

    def retry(
        self,
        *,
        since: float | None = None,
        conversation_id: str | None = None,
        states: tuple[str, ...] = ("failed",),
    ) -> list[str]:
        """Operator retry: matching jobs wake at once (the running service picks them up)."""
        clauses = []
        params: dict[str, Any] = {"now": time.time()}
        if states:
            clauses.append(f"state IN ({', '.join(f':s{i}' for i in range(len(states)))})")
            params.update({f"s{i}": s for i, s in enumerate(states)})
        if since is not None:
            clauses.append("finished_at >= :since")
            params["since"] = since
        if conversation_id is not None:
            clauses.append("conversation_id = :cid")
            params["cid"] = conversation_id
        where = " AND ".join(clauses) or "1=1"
        rows = self.db.execute(
            "UPDATE jobs SET state='parked', wake_at=:now, park_reason='operator retry', crashes=0, "
            "unclean_starts=0, done_at=NULL, machine=NULL, context=NULL, updated_at=:now "
            f"WHERE {where} AND state <> 'running' "
            "RETURNING conversation_id",
            params,
        )
        return [r[0] for r in rows]

    def counts(self) -> dict[str, int]:
        """Jobs per state."""
        return {r[0]: int(r[1]) for r in self._rows("SELECT state, COUNT(*) FROM jobs GROUP BY state")}

    def parked_by_reason(self) -> dict[str, int]:
        rows = self._rows(
            "SELECT COALESCE(park_reason, ''), COUNT(*) FROM jobs WHERE state='parked' GROUP BY park_reason"
        )
        return {r[0]: int(r[1]) for r in rows}

    def finished_since(self, since: float) -> dict[str, int]:
        rows = self._rows(
            "SELECT state, COUNT(*) FROM jobs WHERE state IN ('done', 'failed') AND done_at >= :since "
            "GROUP BY state",
            since=since,
        )
        return {r[0]: int(r[1]) for r in rows}

    def oldest_waiting(self) -> Job | None:
        rows = self._rows(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE state IN ('queued', 'parked', 'held', 'running') "
            "ORDER BY finished_at, seq LIMIT 1"
        )
        return _job(rows[0]) if rows else None

    def prune(self, older_than: float) -> int:
        """Delete finished jobs (and their outputs and statuses) that ended before `older_than`."""
        with self.db.transaction() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    text(
                        "SELECT conversation_id FROM jobs WHERE state IN ('done', 'failed') AND done_at < :t"
                    ),
                    {"t": older_than},
                )
            ]
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                names = ", ".join(f":c{i}" for i in range(len(chunk)))
                params = {f"c{i}": c for i, c in enumerate(chunk)}
                for table in ("outputs", "profile_status", "jobs"):
                    conn.execute(text(f"DELETE FROM {table} WHERE conversation_id IN ({names})"), params)
        return len(ids)

    # -- outputs -----------------------------------------------------------------
    def output(self, conversation_id: str, profile: str, item: str) -> OutputRecord | None:
        rows = self._rows(
            "SELECT item, path, status, bytes FROM outputs WHERE conversation_id=:cid AND profile=:profile "
            "AND item=:item",
            cid=conversation_id,
            profile=profile,
            item=item,
        )
        return OutputRecord(*rows[0]) if rows else None

    def outputs(self, conversation_id: str, profile: str | None = None) -> list[OutputRecord]:
        query = "SELECT item, path, status, bytes FROM outputs WHERE conversation_id=:cid"
        params: dict[str, Any] = {"cid": conversation_id}
        if profile is not None:
            query += " AND profile=:profile"
            params["profile"] = profile
        return [OutputRecord(*r) for r in self.db.execute(query + " ORDER BY item", params)]

    def record_output(
        self,
        conversation_id: str,
        profile: str,
        item: str,
        status: str,
        path: str | None = None,
        size: int | None = None,
    ) -> None:
        self._rows(
            "INSERT INTO outputs (conversation_id, profile, item, path, status, bytes, updated_at) "
            "VALUES (:cid, :profile, :item, :path, :status, :size, :now) "
            "ON CONFLICT (conversation_id, profile, item) DO UPDATE SET "
            "path=COALESCE(excluded.path, outputs.path), status=excluded.status, "
            "bytes=COALESCE(excluded.bytes, outputs.bytes), updated_at=excluded.updated_at",
            cid=conversation_id,
            profile=profile,
            item=item,
            path=path,
            status=status,
            size=size,
            now=time.time(),
        )

    def record_written_once(
        self, conversation_id: str, profile: str, item: str, path: str, size: int
    ) -> str | None:
        """Record the item written at `path` unless the ledger already has it written elsewhere (two
        instances that both wrote it: exactly one record wins, in one statement); the other path
        then, else None."""
        rows = self._rows(
            "UPDATE outputs SET path=:path, status='written', bytes=:size, updated_at=:now "
            "WHERE conversation_id=:cid AND profile=:profile AND item=:item "
            "AND (status <> 'written' OR path IS NULL OR path = :path) RETURNING item",
            cid=conversation_id,
            profile=profile,
            item=item,
            path=path,
            size=size,
            now=time.time(),
        )
        if rows:
            return None
        record = self.output(conversation_id, profile, item)
        if record is not None and record.status == "written" and record.path:
            return str(record.path)
        self.record_output(conversation_id, profile, item, "written", path, size)
        return None

    # -- profile status ----------------------------------------------------------
    def set_profile_status(
        self, conversation_id: str, profile: str, kind: str, status: str, detail: str = ""
    ) -> None:
        self._rows(
            "INSERT INTO profile_status (conversation_id, profile, kind, status, detail, updated_at) "
            "VALUES (:cid, :profile, :kind, :status, :detail, :now) "
            "ON CONFLICT (conversation_id, profile, kind) DO UPDATE SET status=excluded.status, "
            "detail=excluded.detail, updated_at=excluded.updated_at",
            cid=conversation_id,
            profile=profile,
            kind=kind,
            status=status,
            detail=detail,
            now=time.time(),
        )

    def profile_status(self, conversation_id: str, profile: str, kind: str) -> str | None:
        rows = self._rows(
            "SELECT status FROM profile_status WHERE conversation_id=:cid AND profile=:profile AND kind=:kind",
            cid=conversation_id,
            profile=profile,
            kind=kind,
        )
        return rows[0][0] if rows else None

    def profile_statuses(self, conversation_id: str) -> dict[tuple[str, str], tuple[str, str]]:
        """(profile, kind) -> (status, detail) of one conversation."""
        rows = self._rows(
            "SELECT profile, kind, status, COALESCE(detail, '') FROM profile_status WHERE conversation_id=:cid",
            cid=conversation_id,
        )
        return {(r[0], r[1]): (r[2], r[3]) for r in rows}

    # -- instances and named leases (several instances on one ledger) --------------------------------
    def heartbeat(
        self,
        name: str,
        *,
        host: str,
        pid: int,
        version: str,
        running: int = 0,
        requests_per_minute: float = 0.0,
        budget: int | None = None,
        started_at: float | None = None,
    ) -> None:
        """Record that instance `name` is alive (its figures for `run.py status` and the status line).
        Its parked work is counted from the jobs it parked last."""
        with self.db.transaction() as conn:
            now = self.db.clock(conn)
            parked = conn.execute(
                text("SELECT COUNT(*) FROM jobs WHERE state='parked' AND lease_owner=:name"), {"name": name}
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO instances (name, host, pid, version, started_at, heartbeat_at, running, "
                    "parked, requests_per_minute, budget, stopped_at) VALUES (:name, :host, :pid, :version, "
                    ":started, :now, :running, :parked, :rpm, :budget, NULL) ON CONFLICT (name) DO UPDATE SET "
                    "host=excluded.host, pid=excluded.pid, version=excluded.version, "
                    "started_at=COALESCE(:started_keep, instances.started_at), heartbeat_at=excluded.heartbeat_at, "
                    "running=excluded.running, parked=excluded.parked, "
                    "requests_per_minute=excluded.requests_per_minute, budget=excluded.budget, stopped_at=NULL"
                ),
                {
                    "name": name,
                    "host": host,
                    "pid": pid,
                    "version": version,
                    "started": now if started_at is None else started_at,
                    "started_keep": started_at,
                    "now": now,
                    "running": running,
                    "parked": int(parked),
                    "rpm": float(requests_per_minute),
                    "budget": budget,
                },
            )

    def leave(self, name: str) -> None:
        """A clean stop: the instance is marked stopped and gives up the leader role at once."""
        with self.db.transaction() as conn:
            now = self.db.clock(conn)
            conn.execute(
                text("UPDATE instances SET stopped_at=:now, running=0 WHERE name=:name"),
                {"now": now, "name": name},
            )
            conn.execute(
                text("UPDATE leases SET holder=NULL, expires_at=0 WHERE holder=:name"), {"name": name}
            )

    def instances(self, live_within: float | None = None) -> list[Instance]:
        """Every instance that ever ran on this ledger (only those with a heartbeat in the last
        `live_within` seconds and not stopped, when given), by name; the leader is marked."""
        with self.db.transaction() as conn:
            now = self.db.clock(conn)
            rows = conn.execute(
                text(
                    "SELECT name, host, pid, version, started_at, heartbeat_at, running, parked, "
                    "requests_per_minute, budget, stopped_at FROM instances ORDER BY name"
                )
            ).fetchall()
            leader = self._holder(conn, LEADER, now)
        out = []
        for r in rows:
            if live_within is not None and (r[10] is not None or r[5] < now - live_within):
                continue
            out.append(
                Instance(
                    r[0],
                    r[1],
                    int(r[2]),
                    r[3],
                    r[4],
                    r[5],
                    int(r[6]),
                    int(r[7]),
                    float(r[8]),
                    None if r[9] is None else int(r[9]),
                    r[10],
                    leader=r[0] == leader,
                )
            )
        return out

    def agree(self, key: str, value: str, *, replace: bool = False) -> str:
        """A value every instance must share (recorded by the first, in `meta`): the recorded one,
        which is `value` unless an instance recorded a different one before (`replace` records
        `value` regardless)."""
        action = "UPDATE SET value = excluded.value" if replace else "NOTHING"
        with self.db.transaction() as conn:
            conn.execute(
                text(f"INSERT INTO meta (key, value) VALUES (:key, :value) ON CONFLICT (key) DO {action}"),
                {"key": f"shared:{key}", "value": value},
            )
            return str(
                conn.execute(
                    text("SELECT value FROM meta WHERE key=:key"), {"key": f"shared:{key}"}
                ).scalar_one()
            )

    def forget_instance(self, name: str) -> bool:
        """Remove an instance's heartbeat row (an operator removed the instance for good)."""
        return bool(self._rows("DELETE FROM instances WHERE name=:name RETURNING name", name=name))

    def acquire_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Take or keep the named lease for `ttl_s` seconds: True when `holder` holds it now (it was
        free, expired or already its own). The leader is the holder of the `leader` lease."""
        with self.db.transaction() as conn:
            now = self.db.clock(conn)
            row = conn.execute(
                text(
                    "INSERT INTO leases (name, holder, expires_at, acquired_at) VALUES (:name, :holder, :until, "
                    ":now) ON CONFLICT (name) DO UPDATE SET holder=excluded.holder, expires_at=excluded.expires_at, "
                    "acquired_at=CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at "
                    "ELSE excluded.acquired_at END "
                    "WHERE leases.holder IS NULL OR leases.holder = excluded.holder OR leases.expires_at < :now "
                    "RETURNING holder"
                ),
                {"name": name, "holder": holder, "until": now + ttl_s, "now": now},
            ).fetchone()
        return row is not None and row[0] == holder

    def release_lease(self, name: str, holder: str) -> None:
        self._rows(
            "UPDATE leases SET holder=NULL, expires_at=0 WHERE name=:name AND holder=:holder",
            name=name,
            holder=holder,
        )

    def lease_holder(self, name: str = LEADER) -> str | None:
        """Who holds the named lease now (None when nobody does or it expired)."""
        with self.db.transaction() as conn:
            return self._holder(conn, name, self.db.clock(conn))

    def _holder(self, conn: Any, name: str, now: float) -> str | None:
        row = conn.execute(
            text("SELECT holder, expires_at FROM leases WHERE name=:name"), {"name": name}
        ).fetchone()
        return row[0] if row is not None and row[0] is not None and row[1] >= now else None

    # -- conversations not finished yet (the wrap-up tracker's durable memory) -----------
    def put_pending(self, conversation_id: str, state: dict[str, Any], expires_at: float) -> None:
        """Remember (or update) a conversation the tracker waits for; `expires_at` is epoch seconds
        after which it is no longer worth waiting for (the tracker decides what that means)."""
        self._rows(
            "INSERT INTO pending (conversation_id, state, expires_at, updated_at) "
            "VALUES (:cid, :state, :expires, :now) ON CONFLICT (conversation_id) DO UPDATE SET "
            "state=excluded.state, expires_at=excluded.expires_at, updated_at=excluded.updated_at",
            cid=conversation_id,
            state=json.dumps(state),
            expires=expires_at,
            now=time.time(),
        )

    def pending(self) -> list[PendingConversation]:
        """Every conversation the tracker was waiting for, oldest first."""
        rows = self._rows("SELECT conversation_id, state, expires_at FROM pending ORDER BY updated_at")
        return [PendingConversation(r[0], json.loads(r[1]), r[2]) for r in rows]

    def drop_pending(self, conversation_id: str) -> None:
        self._rows("DELETE FROM pending WHERE conversation_id=:cid", cid=conversation_id)


def _job(row: Any) -> Job:
    return Job(
        conversation_id=row[0],
        queue_ids=tuple(json.loads(row[1])),
        finished_at=row[2],
        state=row[3],
        attempts=int(row[4]),
        last_error=row[5],
        wake_at=row[6],
        park_reason=row[7],
        crashes=int(row[8] or 0),
        unclean_starts=int(row[9] or 0),
        source=row[10] or "live",
        priority=int(row[11] or 0),
        created_at=row[12],
        updated_at=row[13],
        done_at=row[14],
        lease_owner=row[15],
        lease_until=row[16],
    )
