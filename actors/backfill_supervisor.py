"""BackfillSupervisor: the ExportSupervisor of `run.py backfill`, which runs only backfill jobs.

The backfill command shares the ledger with a service that may be running at the same time. Its
supervisor therefore never touches other work: it does not queue again what another process left
running (the service's own start-up does that), and it wakes only jobs of source "backfill" —
claimed in one ledger statement (`Ledger.claim_due`), so a job runs in one process only. Jobs the
command found wait parked for `WAITING_REASON` with a wake-up far in the future, out of reach of
the service's `due()`; a backfill job the export machine parked for a real reason (a transcript not
there yet) wakes at its time in whichever process claims it first.

What this process claimed and has not finished is listed in `claimed` (shared with the command), so
a clean stop hands exactly those back (`Ledger.release`) and the next run resumes them.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from actors.export_supervisor import WAKE_CHECK_S, ExportSupervisor
from actors.supervisor import schedule
from messages.lifecycle import Tick

logger = logging.getLogger(__name__)

SOURCE = "backfill"
WAITING_REASON = "backfill: waiting for its turn"
FAR_FUTURE_S = 100 * 365 * 86400.0


class Claims:
    """Conversation ids this process claimed and has not finished (thread-safe)."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def add(self, ids: list[str]) -> None:
        with self._lock:
            self._ids.update(ids)

    def discard(self, conversation_id: str) -> None:
        with self._lock:
            self._ids.discard(conversation_id)

    def snapshot(self) -> list[str]:
        with self._lock:
            return sorted(self._ids)


def backfill_supervisor(claims: Claims) -> type[ExportSupervisor]:
    """The supervisor class for one backfill run (its claims shared with the command)."""

    class BackfillSupervisor(ExportSupervisor):
        def setup(self) -> None:
            # not super().setup(): the service's jobs (running, queued, held) are not ours to resume
            schedule(self.actor_ref, WAKE_CHECK_S, Tick("wake"))

        def _wake(self) -> None:
            if self.draining or not self.licensed or self.snapshot is None:
                return
            slots = int(self.deps.settings.max_concurrent_exports)
            free = slots - len(self.running) - len(self.queue)
            if free > 0:
                ids = self.deps.ledger.claim_due(SOURCE, time.time(), free, reason=WAITING_REASON)
                claims.add(ids)
                for conversation_id in ids:
                    self._enqueue(conversation_id, self._priority(conversation_id))
            self._pump()

        def _priority(self, conversation_id: str) -> int:
            job = self.deps.ledger.job(conversation_id)
            return job.priority if job is not None else 0

        def _maybe_prefetch(self) -> None:
            return  # the backfill command stores every context it found (no per-call details read)

        def on_child_finished(self, child_id: str, crashed: bool, reason: str | None) -> None:
            super().on_child_finished(child_id, crashed, reason)
            claims.discard(child_id.split(":", 1)[1])

        def _dead_letter(self, conversation_id: str, why: str) -> None:
            super()._dead_letter(conversation_id, why)
            claims.discard(conversation_id)

    return BackfillSupervisor


def far_future(now: float | None = None) -> float:
    return (time.time() if now is None else now) + FAR_FUTURE_S


def describe(status: dict[str, Any]) -> str:
    return f"{status.get('running', 0)} running, {status.get('queued', 0)} queued"
