"""ExportActor: the thin shell around one conversation's export state machine.

The logic is `export.machine.ConversationExport`; this actor only executes its commands and feeds
the outcomes back: blocking steps (fetching, downloading, rendering) in its helper threads, audio
work to a DSP actor, files to the Writer, status to the Writeback actor. Every request has a
deadline; when it passes, or when the actor doing the work was restarted meanwhile, the machine
sends it again. After every event the machine's durable state goes to the ledger, so a crash, a
restart or a park loses nothing. When the machine has nothing to do but wait, the actor parks the
job in the ledger and stops: waiting holds no export slot.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pykka

from actors.base import BackgroundDone, Supervised
from actors.supervisor import schedule
from export import steps
from export.commands import (
    AdvanceRecordings,
    AdvanceTranscripts,
    Command,
    FetchContext,
    Finish,
    Park,
    PrepareSources,
    RenderTranscripts,
    RunDsp,
    Schedule,
    Work,
    WriteBack,
    WriteFile,
)
from export.events import Event, Expired, Failed, Replied, TimerFired
from export.machine import ConversationExport, JobInfo, MachineSettings
from export.planner import Planner
from genesys.ratelimit import Priority
from messages.pipeline import ExportDone, PipelineReply, PipelineRequest

if TYPE_CHECKING:
    from actors.root import Deps
    from ledger import Job
    from messages.config import ConfigSnapshot

logger = logging.getLogger(__name__)

TARGET_CHECK_S = 1.0
"""How often in-flight pipeline requests are checked for a restarted target (re-sent at once)."""


@dataclass(frozen=True)
class _Deadline:
    request_id: str


@dataclass(frozen=True)
class _Wake:
    at: float


@dataclass(frozen=True)
class _CheckTargets:
    pass


def machine_settings(settings: Any) -> MachineSettings:
    return MachineSettings(
        recoverable_horizon_s=settings.recoverable_horizon_s,
        analytics_wait_s=settings.recording_wait_s,
        recording_wait_s=settings.recording_wait_s,
        no_recording_after_s=settings.no_recording_after_s,
        transcript_wait_s=settings.transcript_wait_s,
        backfill_status_record=getattr(settings, "backfill_writeback", "attributes") == "full",
    )


class ExportActor(Supervised):
    background_threads = 3

    def __init__(
        self,
        *,
        supervisor: pykka.ActorRef[Any] | None,
        child_id: str,
        job: Job,
        snapshot: ConfigSnapshot,
        deps: Deps,
    ) -> None:
        super().__init__(supervisor=supervisor, child_id=child_id)
        self.job = job
        self.deps = deps
        self.cid: str = job.conversation_id
        self.name = f"export:{self.cid}"
        self.work_dir = deps.work_root / self.cid
        self.planner = Planner(
            snapshot, deps.sequences, deps.ledger, channel_layout=deps.settings.channel_layout
        )
        self.machine: ConversationExport | None = None
        self.pending: dict[str, tuple[str, str] | None] = {}  # request id -> (target, urn) for pipeline work
        self.wake_at: float | None = None
        self.saved_context: object = None  # the ConversationData last saved to the ledger
        self.ended = False
        self.started = time.monotonic()
        # live exports first; reconciled and backfilled conversations use the background share of the budget
        background = getattr(job, "source", "live") in ("backfill", "reconciled")
        self.priority = Priority.BACKGROUND if background else Priority.LIVE

    # -- lifecycle ----------------------------------------------------------------------------------
    def setup(self) -> None:
        self.deps.directory.register(self.name, self.actor_ref)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        ledger = self.deps.ledger
        durable, context = ledger.machine(self.cid), ledger.context(self.cid)

        self.machine = ConversationExport(
            JobInfo(
                self.cid, tuple(self.job.queue_ids), self.job.finished_at, getattr(self.job, "source", "live")
            ),
            self.planner,
            ledger,
            self.work_dir,
            machine_settings(self.deps.settings),
            durable=durable,
            context=context,
        )
        if context is not None:
            self.saved_context = self.machine.data
        logger.info(
            "Conversation %s: %s for export (queues %s)",
            self.cid,
            "resumed" if durable else "picked up",
            self.planner.queue_names(tuple(self.job.queue_ids)),
        )
        schedule(self.actor_ref, TARGET_CHECK_S, _CheckTargets())
        self._run(self.machine.start(time.time()))

    def teardown(self) -> None:
        self.deps.directory.unregister(self.name, self.actor_ref)
        if self.machine is not None and self.machine.finished:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    # -- events in ------------------------------------------------------------------------------------
    def handle(self, message: Any) -> Any:
        if isinstance(message, BackgroundDone):
            self._feed(
                Replied(message.tag, message.result)
                if message.error is None
                else Failed(message.tag, message.error)
            )
        elif isinstance(message, PipelineReply):
            if message.request_id in self.pending:
                self.pending.pop(message.request_id, None)
                event = Replied(message.request_id, message.result)
                self._feed(event if message.error is None else Failed(message.request_id, message.error))
        elif isinstance(message, _Deadline):
            self.pending.pop(message.request_id, None)
            self._feed(Expired(message.request_id))
        elif isinstance(message, _Wake):
            if self.wake_at is not None and message.at >= self.wake_at:
                self.wake_at = None
                self._feed(TimerFired())
        elif isinstance(message, _CheckTargets):
            self._check_targets()
            if not self.ended:
                schedule(self.actor_ref, TARGET_CHECK_S, _CheckTargets())
        elif message == "status":
            return (
                {"conversation": self.cid, "in_flight": sorted(w.key for w in self.machine.inflight.values())}
                if self.machine
                else {}
            )
        else:
            return super().handle(message)
        return None

    def _feed(self, event: Event) -> None:
        if self.machine is None or self.ended:
            return
        commands = self.machine.handle(event, time.time())
        self._save()
        self._run(commands)

    def _save(self) -> None:
        assert self.machine is not None
        if self.machine.data is not None and self.machine.data is not self.saved_context:
            self.deps.ledger.save_context(self.cid, self.machine.context_json() or {})
            self.saved_context = self.machine.data
        self.deps.ledger.save_machine(self.cid, self.machine.durable())

    def _check_targets(self) -> None:
        """A pipeline actor that restarted lost its mailbox: send what it had again, now."""
        for request_id, target in list(self.pending.items()):
            if target is None:
                continue
            name, urn = target
            ref = self.deps.directory.get(name)
            if ref is None or ref.actor_urn != urn:
                self.pending.pop(request_id, None)
                self._feed(Expired(request_id, f"{name} restarted"))

    # -- commands out ---------------------------------------------------------------------------------
    def _run(self, commands: list[Command]) -> None:
        for command in commands:
            if isinstance(command, Work):
                self._execute(command)
                schedule(
                    self.actor_ref, max(0.0, command.deadline - time.time()), _Deadline(command.request_id)
                )
            elif isinstance(command, Schedule):
                if self.wake_at is None or command.at < self.wake_at:
                    self.wake_at = command.at
                    schedule(self.actor_ref, max(0.0, command.at - time.time()), _Wake(command.at))
            elif isinstance(command, Park):
                self._end("parked", command.reason, park=command)
            elif isinstance(command, Finish):
                self._end(command.outcome, command.detail)

    def _background(self, fn: Any, *args: Any, tag: str, **kwargs: Any) -> None:
        """Blocking work in a helper thread, its Genesys Cloud requests at this export's priority."""
        self.run_in_background(
            steps.with_priority, self.deps.client, self.priority, fn, *args, tag=tag, **kwargs
        )

    def _execute(self, work: Work) -> None:
        assert self.machine is not None
        deps, data, rid = self.deps, self.machine.data, work.request_id
        if isinstance(work, FetchContext):
            self._background(
                steps.fetch_conversation,
                deps.client,
                self.cid,
                event=deps.ledger.event(self.cid),
                with_users=self.planner.needs_user_documents(),
                tag=rid,
            )
        elif isinstance(work, AdvanceRecordings):
            self._background(
                steps.advance_recordings,
                deps.client,
                data,
                work.format_id,
                work.fetcher_state,
                work.dest_dir,
                no_recording_grace_s=deps.settings.no_recording_after_s,
                tag=rid,
            )
        elif isinstance(work, AdvanceTranscripts):
            self._background(
                steps.advance_transcripts,
                deps.client,
                data,
                work.fetcher_state,
                deadline_s=deps.settings.transcript_wait_s,
                poll_max_s=deps.settings.transcript_poll_max_s,
                tag=rid,
            )
        elif isinstance(work, RenderTranscripts):
            profile = self.planner.profile(work.profile)
            recordings = {
                str(rec["id"]): rec
                for source in self.machine.sources.values()
                for _i, _p, rec, _m in source.get("groups", [])
            }
            self.run_in_background(
                self.planner.render_transcripts,
                data,
                profile,
                list(work.documents),
                list(work.outputs),
                recordings,
                tag=rid,
            )
        elif isinstance(work, PrepareSources | RunDsp):
            seconds = getattr(work, "expected_seconds", 0.0)
            self._send(deps.dsp_router.pick(seconds), work)
        elif isinstance(work, WriteFile):
            self._send("writer", work)
        elif isinstance(work, WriteBack):
            self._send("writeback", work, priority=max(self.priority, Priority.WRITEBACK))

    def _send(self, target: str, work: Work, priority: int = 0) -> None:
        ref = self.deps.directory.get(target)
        self.pending[work.request_id] = (target, ref.actor_urn) if ref is not None else None
        request = PipelineRequest(self.name, self.cid, work, priority)
        if ref is None or not self.deps.directory.tell(target, request):
            # the target is restarting: try again shortly (its deadline would also catch it)
            self.pending[work.request_id] = None
            schedule(self.actor_ref, 0.5, _Deadline(work.request_id))

    def _end(self, outcome: str, detail: str, park: Park | None = None) -> None:
        if self.ended:
            return
        self.ended = True
        assert self.machine is not None
        if park is not None:
            self.deps.ledger.park(self.cid, park.until, park.reason, self.machine.durable())
            logger.debug(
                "Conversation %s: parked until %s (%s)",
                self.cid,
                time.strftime("%H:%M:%S", time.localtime(park.until)),
                park.reason,
            )
        took = time.monotonic() - self.started
        if outcome == "done":
            logger.info("Conversation %s: export complete (%.1f s in this run)", self.cid, took)
        elif outcome == "failed":
            logger.error("Conversation %s: export finished with failures: %s", self.cid, detail)
        if self._supervisor is not None:
            try:
                self._supervisor.tell(ExportDone(self.cid, outcome, detail))
            except Exception:  # pragma: no cover - supervisor gone during shutdown
                pass
        self.stop()
