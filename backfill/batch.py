"""Batch recording downloads between finding a backfilled call and exporting it.

When every profile of the backfill can do without per-call recording metadata
(`export.batch_sources.batchable`), a call the backfill records waits parked for `BATCH_REASON`
instead of its turn to export. This stage collects such calls into batch requests of up to 100
conversations (`genesys.bulk.BatchDownloadFetcher`: one submission and a few polls per batch, against
at least one recordings request per call one by one), downloads the results, stores each call's
recording document (made of its batch result) in the job's context and then lets the export take its
turn (`WAITING_REASON`). A call whose batch result cannot stand in for the metadata (an error, archived,
two recordings) gets its turn unchanged and is exported one by one, which also reports archived and
deleted recordings with their state. Nothing is lost to an interruption: calls still parked for
`BATCH_REASON` are collected again by the next run (`resume`).

Downloads run ahead of the exports by at most `max_ahead` calls (disk space), and the stage's requests
go at background priority like the rest of the backfill.
"""

from __future__ import annotations

import itertools
import logging
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actors.backfill_supervisor import WAITING_REASON, far_future
from export.batch_sources import attach_batch_recordings, discard_outcome_files, remove_batch_files
from genesys.bulk import BatchDownloadFetcher, Ready
from genesys.recordings import Failed, Waiting
from genesys.rest import BATCH_MAX_ITEMS
from reliability.backoff import POLL, Backoff

if TYPE_CHECKING:
    from genesys.rest import GenesysClient

logger = logging.getLogger(__name__)

BATCH_REASON = "backfill: batch recording download"


class BatchStage:
    """Calls waiting for their batch download (see the module docstring); stepped by the backfill's
    main loop, never sleeping."""

    def __init__(
        self,
        client: GenesysClient,
        ledger: Any,
        dest_dir: Path,
        *,
        batch_size: int = BATCH_MAX_ITEMS,
        max_in_flight: int = 2,
        max_ahead: int = 2 * BATCH_MAX_ITEMS,
        poll: Backoff = POLL,
    ) -> None:
        self.client = client
        self.poll = poll
        self.ledger = ledger
        self.dest_dir = dest_dir
        self.batch_size = max(1, min(batch_size, BATCH_MAX_ITEMS))
        self.max_in_flight = max(1, max_in_flight)
        self.max_ahead = max(self.batch_size, max_ahead)
        self.pending: dict[str, None] = {}  # in arrival order (an ordered set: a run may hold 100,000)
        self.in_flight: list[tuple[list[str], BatchDownloadFetcher, float]] = []  # ids, engine, next step
        self.ahead: set[str] = set()  # downloaded, handed to the exports, not finished yet
        self.enabled = True
        self.batched = 0  # calls whose recording came from a batch
        self.fallbacks = 0  # calls handed to the one-by-one path

    # -- intake ---------------------------------------------------------------------------------------
    def add(self, conversation_id: str) -> None:
        """A call the backfill recorded (parked for `BATCH_REASON` by the caller)."""
        if not self.enabled:
            self._release([conversation_id], batched=False)
            return
        self.pending[conversation_id] = None

    def resume(self, jobs: dict[str, Any]) -> int:
        """Calls an earlier run left parked for their batch download (`jobs`: id -> ledger job)."""
        found = [
            cid for cid, job in jobs.items() if job.state == "parked" and job.park_reason == BATCH_REASON
        ]
        for cid in found:
            self.add(cid)
        return len(found)

    def finished(self, conversation_id: str) -> None:
        """The call's export finished: its downloaded file is not needed any more."""
        self.ahead.discard(conversation_id)
        remove_batch_files(self.dest_dir, conversation_id)

    @property
    def busy(self) -> bool:
        return bool(self.pending or self.in_flight)

    # -- the step -------------------------------------------------------------------------------------
    def step(self, *, flush: bool, now: float | None = None) -> float:
        """Start batches (full ones, or what is left once discovery is over: `flush`), step the ones
        that are due, hand over what finished. Returns the delay until the next step is useful."""
        now = time.monotonic() if now is None else now
        room = self.max_ahead - len(self.ahead) - sum(len(ids) for ids, _, _ in self.in_flight)
        while (
            self.enabled
            and self.pending
            and len(self.in_flight) < self.max_in_flight
            and (len(self.pending) >= self.batch_size or flush)
            and room >= min(self.batch_size, len(self.pending))
        ):
            ids = list(itertools.islice(self.pending, self.batch_size))
            for cid in ids:
                del self.pending[cid]
            room -= len(ids)
            self.dest_dir.mkdir(parents=True, exist_ok=True)
            fetcher = BatchDownloadFetcher(
                self.client, [(cid, None) for cid in ids], self.dest_dir, poll=self.poll
            )
            self.in_flight.append((ids, fetcher, now))
        delays = [1.0]
        for entry in list(self.in_flight):
            ids, fetcher, due = entry
            if due > now:
                delays.append(due - now)
                continue
            result = fetcher.step()
            if isinstance(result, Waiting):
                index = self.in_flight.index(entry)
                self.in_flight[index] = (ids, fetcher, now + result.delay_s)
                delays.append(result.delay_s)
                continue
            self.in_flight.remove(entry)
            if isinstance(result, Failed):
                self._failed(ids, fetcher, result)
            else:
                assert isinstance(result, Ready)
                self._settle(ids, fetcher)
        if not self.enabled and self.pending:
            self._release(list(self.pending), batched=False)
            self.pending.clear()
        return max(0.0, min(delays))

    def _settle(self, ids: list[str], fetcher: BatchDownloadFetcher) -> None:
        outcomes = fetcher.outcomes()
        used, fallback = [], []
        for cid in ids:
            why = attach_batch_recordings(self.ledger, cid, outcomes)
            if why is None:
                used.append(cid)
            else:
                logger.info("Conversation %s: exported one by one (%s)", cid, why)
                fallback.append(cid)
        logger.info(
            "Batch download: %d of %d call(s) downloaded for %d API request(s); %d exported one by one",
            len(used),
            len(ids),
            fetcher.requests,
            len(fallback),
        )
        self._release(used, batched=True)
        self._release(fallback, batched=False)

    def _failed(self, ids: list[str], fetcher: BatchDownloadFetcher, result: Failed) -> None:
        discard_outcome_files(fetcher.outcomes())
        if result.permanent:
            self.enabled = False
            logger.warning(
                "Batch recording downloads are not possible (%s): the backfill asks for each call's "
                "recordings one by one",
                result.reason,
            )
        else:
            logger.warning(
                "Batch download of %d call(s) failed (%s): they are exported one by one",
                len(ids),
                result.reason,
            )
        self._release(ids, batched=False)

    def _release(self, ids: list[str], *, batched: bool) -> None:
        """The calls take their turn to export."""
        for cid in ids:
            self.ledger.park(cid, far_future(), WAITING_REASON)
        if batched:
            self.ahead.update(ids)
            self.batched += len(ids)
        else:
            self.fallbacks += len(ids)

    def close(self, *, complete: bool) -> None:
        """The run ends: a complete run's download folder goes (an interrupted one keeps what the
        exports that were handed over may still read)."""
        if complete and not self.busy:
            shutil.rmtree(self.dest_dir, ignore_errors=True)
