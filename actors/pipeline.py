"""The pipeline: a pool of DSP actors, the Writer and the Writeback actor, under one supervisor.

* Each DspActor owns one worker *process*, so audio work runs on every core instead of being
  serialised by the GIL. `DspRouter` spreads jobs by outstanding audio seconds and keeps long
  calls off the first worker, so one 2-hour call never holds up short calls behind it.
* The Writer writes files exactly once (ledger-backed; atomic, conflict strategy, metadata) in its
  helper threads.
* The Writeback actor writes a conversation's status to Genesys Cloud in its helper thread.
None of them retries: a failure is replied, and the export's state machine decides (one layer of
retries). Replies go back by name through the directory; a request whose reply is lost (a restart
of either side) is sent again by the export after its deadline.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pykka

from actors.base import BackgroundDone, Supervised
from actors.directory import Directory
from actors.supervisor import ChildSpec, RestartPolicy, Supervisor, schedule
from export.steps import with_priority
from export.write_once import write_once
from export.writeback import SchemaRetry
from genesys.ratelimit import Priority
from messages.pipeline import FileWritten, PipelineReply, PipelineRequest

if TYPE_CHECKING:
    from actors.root import Deps

logger = logging.getLogger(__name__)

LONG_CALL_S = 20 * 60
"""Recordings longer than this go to the 'long lane' (every DSP worker but the first) when there are several."""


class DspRouter:
    """Chooses a DSP actor for a job: least outstanding audio seconds, long calls kept off dsp-0."""

    def __init__(self, count: int) -> None:
        self.names = [f"dsp-{i}" for i in range(max(1, count))]
        self._load = dict.fromkeys(self.names, 0.0)
        self._lock = threading.Lock()

    def pick(self, expected_seconds: float) -> str:
        with self._lock:
            candidates = self.names
            if expected_seconds > LONG_CALL_S and len(self.names) > 1:
                candidates = self.names[1:]
            name = min(candidates, key=lambda n: self._load[n])
            self._load[name] += max(1.0, expected_seconds)
            return name

    def done(self, name: str, expected_seconds: float) -> None:
        with self._lock:
            self._load[name] = max(0.0, self._load.get(name, 0.0) - max(1.0, expected_seconds))

    def load(self) -> dict[str, float]:
        with self._lock:
            return dict(self._load)


def ignore_interrupts() -> None:
    """Worker-process initializer: Ctrl+C / Ctrl+Break are for the main process only."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "SIGBREAK"):
        signal.signal(signal.SIGBREAK, signal.SIG_IGN)


def _run_work(work: Any) -> tuple[Any, float]:
    """Runs in the worker process: prepare the sources (probe, merge mono pairs) or process one."""
    from export.commands import PrepareSources

    started = time.perf_counter()
    if isinstance(work, PrepareSources):
        from export.steps import prepare_sources

        work.work_dir.mkdir(parents=True, exist_ok=True)
        return prepare_sources(work.files, work.work_dir), time.perf_counter() - started
    from audio.export import export_recording

    work.work_dir.mkdir(parents=True, exist_ok=True)
    outputs = export_recording(
        work.source,
        work.recording,
        work.details,
        work.options,
        work.work_dir,
        speakers=list(work.speakers) or None,
    )
    return tuple(outputs), time.perf_counter() - started


@dataclass(frozen=True)
class _PoolDone:
    request: PipelineRequest
    future: Future[Any]


WORKER_PRELOAD = ["audio.export", "export.steps"]
"""What every DSP worker imports: loaded once in the fork server, so that a new worker starts in a
fraction of a second instead of importing numpy, SciPy and PyAV again (about a second of CPU each)."""


def worker_context() -> multiprocessing.context.BaseContext:
    """How DSP worker processes start. Never a plain fork of this process (it runs actor threads):
    where the platform has it, a fork server (a clean single-threaded process started once, with
    the DSP modules preloaded, forks each worker); elsewhere (Windows) spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(WORKER_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


class DspActor(Supervised):
    """Owns one worker process; runs PrepareSources and RunDsp work there and replies."""

    def __init__(self, *, supervisor: Any, child_id: str, directory: Directory, router: DspRouter) -> None:
        super().__init__(supervisor=supervisor, child_id=child_id)
        self.directory = directory
        self.router = router
        self.pool: ProcessPoolExecutor | None = None
        self.running = 0

    def setup(self) -> None:
        self.pool = self._new_pool()

    @staticmethod
    def _new_pool() -> ProcessPoolExecutor:
        # Workers ignore Ctrl+C: a console stop (NSSM, a terminal) reaches every process of the group,
        # and only the main process must act on it, draining gracefully while the workers finish what
        # they were given.
        return ProcessPoolExecutor(max_workers=1, mp_context=worker_context(), initializer=ignore_interrupts)

    def teardown(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)

    def handle(self, message: Any) -> Any:
        if isinstance(message, PipelineRequest):
            self._submit(message)
        elif isinstance(message, _PoolDone):
            self._done(message)
        else:
            return super().handle(message)
        return None

    def _submit(self, request: PipelineRequest) -> None:
        assert self.pool is not None
        try:
            future = self.pool.submit(_run_work, request.work)
        except (BrokenProcessPool, RuntimeError) as exc:
            self.pool = self._new_pool()
            self._reply(
                request, PipelineReply(request.request_id, error=WorkerLost(f"DSP worker unavailable: {exc}"))
            )
            return
        self.running += 1
        ref = self.actor_ref
        future.add_done_callback(lambda f: _tell_quietly(ref, _PoolDone(request, f)))

    def _done(self, message: _PoolDone) -> None:
        self.running -= 1
        request, future = message.request, message.future
        self.router.done(self.child_id, getattr(request.work, "expected_seconds", 0.0))
        try:
            result, seconds = future.result()
            reply = PipelineReply(request.request_id, result=result)
            logger.debug(
                "%s: %s %s in %.2f s", self.child_id, request.conversation_id, request.work.key, seconds
            )
        except BrokenProcessPool as exc:
            logger.error(
                "%s: the DSP worker process died while processing conversation %s; starting a new one",
                self.child_id,
                request.conversation_id,
            )
            self.pool = self._new_pool()
            reply = PipelineReply(request.request_id, error=WorkerLost(f"DSP worker process died: {exc}"))
        except Exception as exc:
            reply = PipelineReply(request.request_id, error=exc)
        self._reply(request, reply)

    def _reply(self, request: PipelineRequest, reply: PipelineReply) -> None:
        if not self.directory.tell(request.reply_to, reply):
            logger.debug("%s: %s is gone; dropping its reply", self.child_id, request.reply_to)


class WorkerLost(RuntimeError):
    """The worker process died or could not be started: the work is sent again."""

    resend = True


def _lease_owner(deps: Any) -> str | None:
    """The instance whose job leases fence the writer: only on a shared ledger."""
    cluster = getattr(deps, "cluster", None)
    if cluster is None or not getattr(deps.ledger, "shared", False):
        return None
    return str(cluster.name)


class WriterActor(Supervised):
    """Writes files exactly once (ledger-backed), atomically, with the profile's conflict strategy and
    metadata, in its helper threads. It does not retry: the export decides what a failure means."""

    background_threads = 4

    def __init__(
        self,
        *,
        supervisor: Any,
        child_id: str,
        directory: Directory,
        ledger: Any,
        on_file_written: Any = None,
        owner: str | None = None,
    ) -> None:
        super().__init__(supervisor=supervisor, child_id=child_id)
        self.directory = directory
        self.ledger = ledger
        self.on_file_written = on_file_written
        self.owner = owner  # on a shared ledger: writes are fenced by this instance's job leases

    def handle(self, message: Any) -> Any:
        if isinstance(message, PipelineRequest):
            work = message.work
            self.run_in_background(
                write_once,
                self.ledger,
                message.conversation_id,
                work.profile,
                work.item,
                work.target,
                work.source,
                work.strategy,
                work.metadata,
                owner=self.owner,
                tag=(message, time.perf_counter()),
            )
        elif isinstance(message, BackgroundDone) and isinstance(message.tag, tuple):
            self._written(message.tag[0], message.tag[1], message)
        else:
            return super().handle(message)
        return None

    def _written(self, request: PipelineRequest, started: float, done: BackgroundDone) -> None:
        work = request.work
        if done.error is not None:
            logger.debug(
                "Conversation %s, profile %s: could not write %s: %s",
                request.conversation_id,
                work.profile,
                work.target,
                done.error,
            )
            self.directory.tell(request.reply_to, PipelineReply(request.request_id, error=done.error))
            return
        outcome = done.result
        if outcome.path is not None and outcome.action != "already written":
            duration = f", {work.duration_s:.1f} s audio" if work.duration_s else ""
            logger.info(
                "Conversation %s, profile %s: %s %s (%d bytes%s) in %.2f s",
                request.conversation_id,
                work.profile,
                outcome.action,
                outcome.path,
                outcome.size,
                duration,
                time.perf_counter() - started,
            )
            if self.on_file_written is not None:
                try:
                    self.on_file_written(
                        FileWritten(
                            request.conversation_id,
                            work.profile,
                            work.item,
                            outcome.path,
                            outcome.size,
                            outcome.action,
                        )
                    )
                except Exception:  # an observer must never break the export
                    logger.exception("file-written observer failed")
        elif outcome.path is None:
            logger.info(
                "Conversation %s, profile %s: %s exists; skipped (conflict strategy Ignore)",
                request.conversation_id,
                work.profile,
                work.target,
            )
        self.directory.tell(request.reply_to, PipelineReply(request.request_id, result=outcome))


class WritebackActor(Supervised):
    """Writes a conversation's export status back to Genesys Cloud in its helper thread. It does not
    retry (the export does, with the one backoff policy); it keeps the custom-attributes schema."""

    def __init__(
        self,
        *,
        supervisor: Any,
        child_id: str,
        directory: Directory,
        client: Any,
        may_create_schema: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__(supervisor=supervisor, child_id=child_id)
        self.directory = directory
        self.client = client
        # several instances: only the leader creates the schema (the others find it)
        self.may_create_schema = may_create_schema or (lambda: True)
        self.schema_id: str | None = None
        self.schema_wait: list[PipelineRequest] = []
        self.schema_state = "unknown"
        self.schema_retry = SchemaRetry()

    def setup(self) -> None:
        self._ensure_schema()

    def _ensure_schema(self) -> None:
        from export.writeback import ensure_schema

        self.schema_state = "loading"
        self.run_in_background(ensure_schema, self.client, self.may_create_schema(), tag=("schema",))

    def handle(self, message: Any) -> Any:
        if isinstance(message, PipelineRequest):
            self._start(message)
        elif message == ("retry-schema",):
            self._ensure_schema()
        elif isinstance(message, BackgroundDone) and message.tag == ("schema",):
            self._schema_done(message)
        elif isinstance(message, BackgroundDone):
            self._done(message.tag, message)
        else:
            return super().handle(message)
        return None

    def _schema_done(self, done: BackgroundDone) -> None:
        if done.error is not None:
            delay = self.schema_retry.failed(done.error)
            self.schema_state = "failed"
            schedule(self.actor_ref, delay, ("retry-schema",))
        else:
            self.schema_retry.succeeded()
            self.schema_id, self.schema_state = done.result, "ready"
        waiting, self.schema_wait = self.schema_wait, []
        for request in waiting:
            self._start(request)

    def _start(self, request: PipelineRequest) -> None:
        from export.writeback import write_conversation_status

        if self.schema_state == "loading":
            self.schema_wait.append(request)
            return
        work = request.work
        self.run_in_background(
            with_priority,
            self.client,
            max(request.priority, Priority.WRITEBACK),
            write_conversation_status,
            self.client,
            self.schema_id if getattr(work, "record", True) else None,
            request.conversation_id,
            work.participant_id,
            work.statuses,
            tag=request,
        )

    def _done(self, request: PipelineRequest, done: BackgroundDone) -> None:
        reply = PipelineReply(request.request_id, error=done.error)
        self.directory.tell(request.reply_to, reply)


class PipelineSupervisor(Supervisor):
    def __init__(self, *, deps: Deps, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deps = deps

    def child_specs(self) -> list[ChildSpec]:
        deps = self.deps
        specs = [
            ChildSpec(
                name,
                lambda sup, cid: DspActor.start(
                    supervisor=sup, child_id=cid, directory=deps.directory, router=deps.dsp_router
                ),
            )
            for name in deps.dsp_router.names
        ]
        specs.append(
            ChildSpec(
                "writer",
                lambda sup, cid: WriterActor.start(
                    supervisor=sup,
                    child_id=cid,
                    directory=deps.directory,
                    ledger=deps.ledger,
                    on_file_written=deps.on_file_written,
                    owner=_lease_owner(deps),
                ),
            )
        )
        specs.append(
            ChildSpec(
                "writeback",
                lambda sup, cid: WritebackActor.start(
                    supervisor=sup,
                    child_id=cid,
                    directory=deps.directory,
                    client=deps.client,
                    may_create_schema=lambda: bool(
                        getattr(getattr(deps, "cluster", None), "is_leader", True)
                    ),
                ),
            )
        )
        return specs


def pipeline_policy() -> RestartPolicy:
    return RestartPolicy(max_restarts=10, period_s=60)


def _tell_quietly(ref: pykka.ActorRef[Any], message: Any) -> None:
    try:
        ref.tell(message)
    except pykka.ActorDeadError:
        pass
