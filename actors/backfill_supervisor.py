"""BackfillSupervisor: the ExportSupervisor of `run.py backfill`, which runs only backfill jobs.

The backfill command shares the ledger with the service (one SQLite file, or the instances' shared
PostgreSQL database). Its supervisor never touches their work:

* it does not queue again what others left running (the service's start-up does that for its own);
  it runs as a transient instance (`service.cli.transient_membership`: `<instance>~<pid>`, a
  heartbeat, never the leader: the reconciliation sweep and pruning stay with the service);
* it wakes only jobs of source "backfill": those the command found wait parked for `WAITING_REASON`
  with a wake-up far in the future, out of reach of the service's `due()`, and are claimed in one
  ledger transaction (`Ledger.claim_due`) under its instance name; every start is a lease claim as
  in the service (`Ledger.start(owner=...)`), renewed as the service renews its own, so a job runs
  in one process only. On a shared ledger a service instance with free background slots may
  claim a backfill job that waits queued: the lease decides who runs it.

`release_own` hands back what this process claimed or held and did not finish (a clean stop), so the
next run resumes it.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from actors.export_supervisor import WAKE_CHECK_S, ExportSupervisor
from actors.supervisor import Supervisor, schedule
from messages.lifecycle import Tick

if TYPE_CHECKING:
    from ledger.store import Ledger

logger = logging.getLogger(__name__)

SOURCE = "backfill"
WAITING_REASON = "backfill: waiting for its turn"
FAR_FUTURE_S = 100 * 365 * 86400.0


def far_future(now: float | None = None) -> float:
    return (time.time() if now is None else now) + FAR_FUTURE_S


def release_own(ledger: Ledger, owner: str) -> list[str]:
    """Backfill jobs `owner` claimed or ran and did not finish go back to wait for their turn."""
    ids = [j.conversation_id for j in ledger.source_jobs(SOURCE, "queued", "running")]
    return ledger.release(ids, far_future(), WAITING_REASON, owner=owner) if ids else []


def backfill_supervisor() -> type[ExportSupervisor]:
    """The supervisor class of `run.py backfill` (its instance, `deps.cluster`, names its claims)."""

    class BackfillSupervisor(ExportSupervisor):
        def setup(self) -> None:
            # not ExportSupervisor.setup(): the service's jobs (running, queued, held) are not ours
            Supervisor.setup(self)
            self._beat()
            schedule(self.actor_ref, WAKE_CHECK_S, Tick("wake"))

        def _wake_ledger(self) -> None:
            if self.draining or not self.licensed or self.snapshot is None:
                return
            slots = int(self.deps.settings.max_concurrent_exports)
            free = slots - len(self.running) - len(self.queue)
            if free > 0:
                ids = self.deps.ledger.claim_due(
                    SOURCE, time.time(), free, reason=WAITING_REASON, owner=self.me
                )
                for conversation_id in ids:
                    job = self.deps.ledger.job(conversation_id)
                    self._enqueue(conversation_id, job.priority if job is not None else 0)
            self._pump()

        def _maybe_prefetch(self) -> None:
            return  # the backfill command stores every context it found (no per-call details read)

        def _check_budget(self) -> None:
            return  # no bulk read comes here: its jobs never wait for one (the pace stays off)

        def _owner(self) -> str | None:
            return self.me  # outcomes are recorded only while this process holds the job

    return BackfillSupervisor
