"""The backfill run: find, decide, record jobs, export them in-process, follow them to the end.

The main thread steps the discovery engine (no sleeping inside it), turns what it found into ledger
jobs, and every half second reads the ledger for the outcome of the exports it is waiting for; the
export actors run beside it (`actors.backfill_supervisor`). The run's state file is written after
every change of consequence, so an interruption at any point resumes without exporting anything
twice: the ledger's insert-if-absent and per-profile statuses are the guard, the state file only
saves work.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from actors.backfill_supervisor import (
    SOURCE,
    WAITING_REASON,
    backfill_supervisor,
    far_future,
    release_own,
)
from backfill.batch import BATCH_REASON, BatchStage
from backfill.plan import (
    PRIORITY,
    SKIP_DELETED,
    SKIP_EXPORTED,
    SKIP_IN_SERVICE,
    SKIP_KNOWN,
    Decision,
    attributes_of,
    context_for,
    decide,
    ended_at,
    outcome_of,
    run_key,
    skip_label,
)
from backfill.progress import Progress, summary
from export.batch_sources import batchable
from genesys.bulk import DetailsJobRunner, Ready
from genesys.errors import GenesysError
from genesys.recordings import Failed, Waiting
from profiles.scoping import touched_queue_ids

if TYPE_CHECKING:
    from backfill.cli import Inputs
    from genesys.rest import GenesysClient
    from messages.config import ConfigSnapshot
    from service.settings import Settings

logger = logging.getLogger(__name__)

POLL_S = 0.5
LICENSE_CHECK_S = 5.0
SAVE_EVERY_S = 2.0
FINISHED = ("done", "failed")


def queue_filters(queue_ids: list[str]) -> list[dict[str, Any]]:
    from report.collect import MAX_QUEUE_PREDICATES

    if not queue_ids or len(queue_ids) > MAX_QUEUE_PREDICATES:
        return []
    return [
        {
            "type": "or",
            "predicates": [
                {"type": "dimension", "dimension": "queueId", "operator": "matches", "value": q}
                for q in sorted(queue_ids)
            ],
        }
    ]


class Backfill:
    def __init__(
        self,
        settings: Settings,
        client: GenesysClient,
        snapshot: ConfigSnapshot,
        inputs: Inputs,
        stop: threading.Event,
        *,
        progress: Progress | None = None,
    ) -> None:
        from backfill.cli import load_state, open_ledger

        self.settings = settings
        self.client = client
        self.snapshot = snapshot
        self.inputs = inputs
        self.stop = stop
        self.progress = progress or Progress()
        self.ledger = open_ledger(settings)
        key = run_key(inputs.start, inputs.end, inputs.profiles, inputs.queue_names)
        request = {
            "from": inputs.start.isoformat(),
            "to": inputs.end.isoformat(),
            "profiles": inputs.profiles,
            "queues": inputs.queue_names,
        }
        self.file, self.state = load_state(settings, key, request)
        self.owner = ""  # the transient instance's name (set when the exports start)
        self.requests_at_start = 0
        self.found_docs: list[dict[str, Any]] = []  # found, not decided yet
        self.followed_until = 0.0  # finished jobs before this (wall clock) were looked at
        self.service: Any = None
        self.steps = 0  # discovery steps taken (the state file is saved after those that changed it)
        self.saved_signature: tuple[Any, ...] = ()
        self.batch = self._batch_stage(key)

    def _batch_stage(self, key: str) -> BatchStage | None:
        """Batch recording downloads when every profile of the run can do without per-call recording
        metadata (`export.batch_sources`) and the settings allow them."""
        if self.settings.backfill_downloads != "batch":
            return None
        profiles = [p for p in self.snapshot.config.profiles if p.name in self.inputs.profiles]
        if not batchable(profiles):
            logger.info(
                "Backfill: recordings are asked for call by call (a profile needs each recording's "
                "metadata: audio processing, a transcript, or a Recording.* field other than Recording.Id)"
            )
            return None
        return BatchStage(
            self.client, self.ledger, self.settings.state_dir / "backfill" / f"{key}-recordings"
        )

    # -- the run -----------------------------------------------------------------------------------
    def run(self) -> int:
        from backfill.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK

        state = self.state
        resumed = bool(state.tracked or state.skips or state.discovery)
        logger.info(
            "Backfill %s..%s, profiles %s, queues %s: %s",
            self.inputs.start.date(),
            self.inputs.end.date(),
            ", ".join(self.inputs.profiles),
            ", ".join(sorted(self.inputs.queues.values())),
            f"resuming ({summary(state.counts())})" if resumed else "starting",
        )
        self._recover()
        self.requests_at_start = int(getattr(self.client, "request_count", 0))
        runner = self._runner()
        self._start_exports()
        failure: str | None = None
        next_step = next_poll = next_save = next_batch = 0.0
        next_license = time.monotonic() + LICENSE_CHECK_S
        try:
            with self.progress:
                while True:
                    now = time.monotonic()
                    if not state.discovery_done and now >= next_step and not self.stop.is_set():
                        try:
                            delay, failure = self._discover(runner)
                        except GenesysError as exc:  # deciding needed Genesys Cloud (users, a conversation)
                            logger.warning(
                                "Backfill: Genesys Cloud failed while deciding (%s); retrying", exc
                            )
                            delay, failure = 30.0, None
                        next_step = now + delay
                        if failure:
                            break
                    if self.batch is not None and now >= next_batch and not self.stop.is_set():
                        next_batch = now + self._batch_step()
                    if now >= next_poll:
                        self._follow()
                        next_poll = now + POLL_S
                        self.progress.update(state.counts(), discovering=not state.discovery_done)
                    if now >= next_license and state.unfinished():
                        next_license = now + LICENSE_CHECK_S
                        failure = self._unlicensed()
                        if failure:
                            break
                    if now >= next_save:
                        self._save()
                        next_save = now + SAVE_EVERY_S
                    if state.discovery_done and not state.unfinished():
                        break
                    if self.stop.is_set():
                        break
                    self.stop.wait(min(POLL_S, max(0.0, next_step - time.monotonic()) or POLL_S))
                self._stop_exports()
                self._follow()
                counts = state.counts()
                self.progress.update(counts, discovering=not state.discovery_done, force_log=True)
        finally:
            if self.service is not None:
                self._stop_exports()
            self._finish_state()
            if self.batch is not None:
                self.batch.close(complete=self.state.complete)
            self.ledger.close()
            self.client.close()
        self._report()
        if failure:
            logger.error("Backfill stopped: %s (run the same command again to resume)", failure)
            return EXIT_FAILED
        if not (state.discovery_done and not state.unfinished()):
            print(f"backfill: interrupted; {summary(counts)} — run the same command to resume")
            return EXIT_INTERRUPTED
        print(f"backfill: done; {summary(counts)}; {self._requests()} API requests")
        return EXIT_FAILED if counts.failed else EXIT_OK

    def _runner(self) -> DetailsJobRunner:
        if self.state.discovery:
            return DetailsJobRunner.from_state(self.client, self.state.discovery)
        return DetailsJobRunner(
            self.client,
            self.inputs.start,
            self.inputs.end,
            segment_filters=queue_filters(sorted(self.inputs.queues)),
        )

    def _recover(self) -> None:
        """Backfill jobs a backfill process that was killed left claimed or running wait again: on
        SQLite once untouched for two minutes (nothing else resumes them); on a shared ledger the
        service instances take over expired leases and claim waiting jobs themselves. Ones recorded
        but never made claimable (a crash between two writes) become so."""
        from backfill.cli import STALE_AFTER_S

        released: list[str] = []
        if not self.ledger.shared:
            left = [j.conversation_id for j in self.ledger.source_jobs(SOURCE, "queued", "running")]
            released += self.ledger.release(
                left, far_future(), WAITING_REASON, stale_before=time.time() - STALE_AFTER_S
            )
        unfinished = self.state.unfinished()
        for cid, job in self.ledger.states(unfinished).items():
            if job.state == "parked" and job.wake_at is None:
                self.ledger.park(cid, far_future(), WAITING_REASON)
                released.append(cid)
        if released:
            logger.info("Backfill: %d export(s) left by an earlier run will run again", len(released))
        states = self.ledger.states(unfinished)
        if self.batch is not None:
            waiting = self.batch.resume(states)
            if waiting:
                logger.info("Backfill: %d call(s) left waiting for a batch download", waiting)
        else:  # batch downloads switched off since: those calls take their turn one by one
            for cid, job in states.items():
                if job.state == "parked" and job.park_reason == BATCH_REASON:
                    self.ledger.park(cid, far_future(), WAITING_REASON)

    # -- finding -----------------------------------------------------------------------------------
    def _discover(self, runner: DetailsJobRunner) -> tuple[float, str | None]:
        from genesys.ratelimit import Priority

        with self.client.priority(Priority.BACKGROUND):
            if not self.found_docs:
                result = runner.step()
                self.found_docs = runner.take()
            else:  # a failure while deciding: those first (the engine's state was not saved after them)
                result = Waiting(0.0, "deciding what was found")
            self._found()
        self.state.discovery = runner.state()
        self.steps += 1
        if isinstance(result, Ready):
            self.state.discovery_done = True
            logger.info(
                "Backfill: %d conversation(s) found (%d analytics request(s))", runner.found, runner.requests
            )
            self._save()
            return 0.0, None
        if isinstance(result, Waiting):
            return result.delay_s, None
        assert isinstance(result, Failed)
        return 0.0, f"finding the conversations failed: {result.reason}"

    def _unlicensed(self) -> str | None:
        """Exports wait while the service is unlicensed: the backfill says so instead of waiting."""
        status = self.service.status() if self.service is not None else {}
        if status.get("licensed") is False and "not checked yet" not in str(status.get("license_reason")):
            return f"not licensed to export ({status.get('license_reason')})"
        return None

    def _found(self) -> None:
        """Decide and record what discovery found; a Genesys Cloud failure half way leaves the rest in
        `found_docs` for the next attempt (recording a job is idempotent)."""
        docs = self.found_docs
        if not docs:
            return
        decisions: list[tuple[dict[str, Any], Decision]] = []
        for doc in docs:
            cid = str(doc.get("conversationId") or "")
            if not cid or cid in self.state.tracked or cid in self.state.skips:
                continue  # decided before an interruption
            decision = decide(doc, self.snapshot, self.inputs.profiles, set(self.inputs.queues), self.ledger)
            if decision.skip:
                self.state.skips[cid] = (
                    f"{decision.skip}: {decision.detail}" if decision.detail else decision.skip
                )
                continue
            decisions.append((doc, decision))
        users = self._users([doc for doc, _ in decisions])
        for doc, decision in decisions:
            self._record(doc, decision, users)
        self.found_docs = []

    def _users(self, docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        from export.planner import Planner

        planner = Planner(self.snapshot, None, None)  # type: ignore[arg-type]
        if not docs or not planner.needs_user_documents():
            return {}
        ids = sorted({p["userId"] for d in docs for p in d.get("participants") or [] if p.get("userId")})
        return {u["id"]: u for u in self.client.get_users(ids)} if ids else {}

    def _record(self, doc: dict[str, Any], decision: Decision, users: dict[str, dict[str, Any]]) -> None:
        cid = decision.conversation_id
        conversation = None
        if attributes_of(doc) is None:
            # the synchronous query (the part the data lake has not settled) carries no attributes: the
            # written-back status and any attribute a template names come with the conversation
            from genesys.errors import NotFound

            try:
                conversation = self.client.get_conversation(cid)
            except NotFound:
                conversation = None
            if conversation is not None:
                merged = dict(doc)
                merged["participants"] = [
                    {**p, "attributes": a} for p, a in _attributes_by_participant(doc, conversation)
                ]
                again = decide(
                    merged, self.snapshot, self.inputs.profiles, set(self.inputs.queues), self.ledger
                )
                if again.skip:
                    self.state.skips[cid] = f"{again.skip}: {again.detail}"
                    return
        queue_ids = tuple(sorted(touched_queue_ids(doc)))
        if self.ledger.add_job(cid, queue_ids, ended_at(doc), "parked", source=SOURCE, priority=PRIORITY):
            self.ledger.save_context(cid, context_for(doc, users, conversation))
            self._await_turn(cid)
            self.state.tracked[cid] = list(decision.profiles)
            return
        job = self.ledger.job(cid)
        if job is None:
            return
        if job.state not in FINISHED:
            if job.source == SOURCE:
                self.state.tracked[cid] = list(decision.profiles)  # an earlier run's export, not finished
            else:
                self.state.skips[cid] = f"{SKIP_IN_SERVICE}: the job is {job.state}"
            return
        outcome, reason = outcome_of(self.ledger.profile_statuses(cid), decision.profiles, job.last_error)
        if outcome == "exported":
            self.state.skips[cid] = f"{SKIP_EXPORTED}: by an earlier {job.source} export"
            return
        if skip_label(reason) == SKIP_DELETED:
            self.state.skips[cid] = reason  # deleted stays deleted: not asked again
            return
        if job.source != SOURCE:
            self.state.skips[cid] = (
                f"{SKIP_KNOWN}: the {job.source} export ended {job.state} ({reason}); "
                f"`run.py retry --conversation {cid}` tries it again"
            )
            return
        # a backfill export that ended without exporting every profile (a recording archived then, a
        # failure): try again; the profiles already exported stay skipped by the export itself
        logger.info("Conversation %s: exported before without success (%s); trying again", cid, reason)
        self.ledger.restart(cid, "parked")
        self.ledger.save_context(cid, context_for(doc, users, conversation))
        self._await_turn(cid)
        self.state.tracked[cid] = list(decision.profiles)

    # -- exporting ---------------------------------------------------------------------------------
    def _await_turn(self, cid: str) -> None:
        """A recorded call waits for its batch download, or directly for its turn to export."""
        if self.batch is None:
            self.ledger.park(cid, far_future(), WAITING_REASON)
            return
        self.ledger.park(cid, far_future(), BATCH_REASON)
        self.batch.add(cid)

    def _batch_step(self) -> float:
        from genesys.ratelimit import Priority

        assert self.batch is not None
        with self.client.priority(Priority.BACKGROUND):  # the engine turns Genesys' answers into waits
            return self.batch.step(flush=self.state.discovery_done)

    def _start_exports(self) -> None:
        from backfill.cli import backfill_settings
        from service.cli import license_checker_for, transient_membership
        from service.runtime import Service, build_deps

        settings = backfill_settings(self.settings)
        deps = build_deps(settings, self.client, license_checker=license_checker_for(settings, self.client))
        cluster = transient_membership(deps.ledger, settings)  # never the service's name or role
        self.owner = cluster.name
        deps = replace(deps, listener_factory=None, cluster=cluster, export_supervisor=backfill_supervisor())
        self.service = Service(deps)
        self.service.start()

    def _stop_exports(self) -> None:
        service, self.service = self.service, None
        if service is None:
            return
        logger.info(
            "Backfill: stopping the exports (running ones get %.0f s)", self.settings.shutdown_timeout_s
        )
        service.drain(self.settings.shutdown_timeout_s)
        left = release_own(self.ledger, self.owner) if self.owner else []
        if left:
            logger.info("Backfill: %d export(s) handed back to resume on the next run", len(left))

    def _follow(self) -> None:
        """Outcomes of the exports that finished since the last look (a few seconds of overlap: two
        processes' transactions may commit out of order)."""
        now = time.time()
        finished = self.ledger.finished_jobs(SOURCE, self.followed_until - 10.0)
        self.followed_until = now
        for job in finished:
            cid = job.conversation_id
            if cid not in self.state.tracked or cid in self.state.outcomes:
                continue
            profiles = tuple(self.state.tracked[cid])
            outcome, reason = outcome_of(self.ledger.profile_statuses(cid), profiles, job.last_error)
            self.state.outcomes[cid] = [outcome, reason]
            if self.batch is not None:
                self.batch.finished(cid)
            if outcome == "failed":
                logger.warning("Conversation %s: backfill export failed: %s", cid, reason)
            elif outcome == "skipped":
                logger.info("Conversation %s: %s", cid, reason)

    # -- the end -----------------------------------------------------------------------------------
    def _requests(self) -> int:
        return self.state.requests + int(getattr(self.client, "request_count", 0)) - self.requests_at_start

    def _save(self, *, force: bool = False) -> None:
        """Write the state file when something in it changed (it can hold 100,000 calls)."""
        state = self.state
        signature = (
            len(state.tracked),
            len(state.outcomes),
            len(state.skips),
            state.discovery_done,
            self.steps,
        )
        if force or signature != self.saved_signature:
            self.file.save(state)
            self.saved_signature = signature

    def _finish_state(self) -> None:
        self.state.requests = self._requests()
        self.requests_at_start = int(getattr(self.client, "request_count", 0))
        self.state.complete = self.state.discovery_done and not self.state.unfinished()
        self._save(force=True)

    def _report(self) -> None:
        """Per call: what was not exported and why (archived, deleted, failed), with what to do."""
        for cid, (outcome, reason) in sorted(self.state.outcomes.items()):
            if outcome != "exported":
                print(f"  {cid}: {outcome}: {reason}")


def _attributes_by_participant(
    doc: dict[str, Any], conversation: dict[str, Any]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    by_id = {str(p.get("id")): p.get("attributes") or {} for p in conversation.get("participants") or []}
    return [(p, dict(by_id.get(str(p.get("participantId")), {}))) for p in doc.get("participants") or []]
