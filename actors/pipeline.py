"""The pipeline: a pool of DSP actors, the Writer and the Writeback actor, under one supervisor.

* Each DspActor owns one worker *process*, so audio work runs on every core instead of being
  serialised by the GIL. `DspRouter` spreads jobs by outstanding audio seconds and keeps long
  calls off the first worker, so one 2-hour call never holds up short calls behind it.
* The Writer writes files (atomic, conflict strategy, metadata) in its helper threads.
* The Writeback actor writes status to Genesys Cloud in its helper thread, retrying transient errors.
Replies go back by name through the directory; a requester that was restarted meanwhile asks again.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import pykka

from actors.base import BackgroundDone, Supervised
from actors.directory import Directory
from actors.supervisor import ChildSpec, RestartPolicy, Supervisor, schedule
from messages.pipeline import (
    DspRequest,
    DspResult,
    WritebackRequest,
    WritebackResult,
    WriteRequest,
    WriteResult,
)

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


def _run_dsp(request: DspRequest) -> tuple[tuple[Any, ...], float]:
    """Runs in the worker process."""
    from audio.export import export_recording

    started = time.perf_counter()
    request.work_dir.mkdir(parents=True, exist_ok=True)
    outputs = export_recording(
        request.source, request.recording, request.details, request.options, request.work_dir
    )
    return tuple(outputs), time.perf_counter() - started


@dataclass(frozen=True)
class _DspDone:
    request: DspRequest
    future: Future[Any]


class DspActor(Supervised):
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
        # spawn: never fork a process that runs actor threads. Workers ignore Ctrl+C: a console stop
        # (NSSM, a terminal) reaches every process of the group, and only the main process must act
        # on it, draining gracefully while the workers finish what they were given.
        return ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=ignore_interrupts
        )

    def teardown(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)

    def handle(self, message: Any) -> Any:
        if isinstance(message, DspRequest):
            self._submit(message)
        elif isinstance(message, _DspDone):
            self._done(message)
        else:
            return super().handle(message)
        return None

    def _submit(self, request: DspRequest) -> None:
        assert self.pool is not None
        try:
            future = self.pool.submit(_run_dsp, request)
        except (BrokenProcessPool, RuntimeError) as exc:
            self._reply(request, DspResult(request.request_id, error=f"DSP worker unavailable: {exc}"))
            self.pool = self._new_pool()
            return
        self.running += 1
        ref = self.actor_ref
        future.add_done_callback(lambda f: _tell_quietly(ref, _DspDone(request, f)))

    def _done(self, message: _DspDone) -> None:
        self.running -= 1
        request, future = message.request, message.future
        self.router.done(self.child_id, request.expected_seconds)
        try:
            outputs, seconds = future.result()
            result = DspResult(request.request_id, outputs=outputs, seconds=seconds)
            logger.debug("%s: %s processed in %.2f s", self.child_id, request.conversation_id, seconds)
        except BrokenProcessPool as exc:
            logger.error(
                "%s: the DSP worker process died while processing conversation %s; starting a new one",
                self.child_id,
                request.conversation_id,
            )
            self.pool = self._new_pool()
            result = DspResult(request.request_id, error=f"DSP worker process died: {exc}")
        except Exception as exc:
            result = DspResult(request.request_id, error=f"{type(exc).__name__}: {exc}")
        self._reply(request, result)

    def _reply(self, request: DspRequest, result: DspResult) -> None:
        if not self.directory.tell(request.reply_to, result):
            logger.debug("%s: %s is gone; dropping its DSP result", self.child_id, request.reply_to)


class WriterActor(Supervised):
    """Writes files atomically with the profile's conflict strategy and metadata."""

    background_threads = 4

    def __init__(
        self, *, supervisor: Any, child_id: str, directory: Directory, on_file_written: Any = None
    ) -> None:
        super().__init__(supervisor=supervisor, child_id=child_id)
        self.directory = directory
        self.on_file_written = on_file_written

    def handle(self, message: Any) -> Any:
        if isinstance(message, WriteRequest):
            self.run_in_background(_write, message, tag=message)
        elif isinstance(message, BackgroundDone) and isinstance(message.tag, WriteRequest):
            self._written(message.tag, message)
        else:
            return super().handle(message)
        return None

    def _written(self, request: WriteRequest, done: BackgroundDone) -> None:
        if done.error is not None:
            logger.error(
                "Conversation %s, profile %s: could not write %s: %s",
                request.conversation_id,
                request.profile,
                request.target,
                done.error,
            )
            result = WriteResult(request.request_id, request.item, None, "failed", error=str(done.error))
        else:
            result, took = done.result
            if result.path is not None:
                duration = f", {request.duration_s:.1f} s audio" if request.duration_s else ""
                logger.info(
                    "Conversation %s, profile %s: %s %s (%d bytes%s) in %.2f s",
                    request.conversation_id,
                    request.profile,
                    result.action,
                    result.path,
                    result.size,
                    duration,
                    took,
                )
                if self.on_file_written is not None:
                    try:
                        self.on_file_written(request, result)
                    except Exception:  # an observer must never break the export
                        logger.exception("file-written observer failed")
            else:
                logger.info(
                    "Conversation %s, profile %s: %s exists; skipped (conflict strategy Ignore)",
                    request.conversation_id,
                    request.profile,
                    request.target,
                )
        self.directory.tell(request.reply_to, result)


def _write(request: WriteRequest) -> tuple[WriteResult, float]:
    from storage.write import write_file

    started = time.perf_counter()
    outcome = write_file(request.target, request.source, request.strategy, metadata=request.metadata)
    result = WriteResult(
        request.request_id,
        request.item,
        outcome.path,
        outcome.action,
        size=outcome.bytes_written,
        metadata_mechanism=str(getattr(outcome, "metadata", "") or ""),
    )
    return result, time.perf_counter() - started


@dataclass(frozen=True)
class _WritebackRetry:
    request: WritebackRequest
    attempt: int


class WritebackActor(Supervised):
    """Writes export status back to Genesys Cloud; transient failures are retried with backoff."""

    max_attempts = 8

    def __init__(self, *, supervisor: Any, child_id: str, directory: Directory, client: Any) -> None:
        super().__init__(supervisor=supervisor, child_id=child_id)
        self.directory = directory
        self.client = client
        self.schema_id: str | None = None
        self.schema_wait: list[tuple[WritebackRequest, int]] = []
        self.schema_state = "unknown"

    def setup(self) -> None:
        self._ensure_schema()

    def _ensure_schema(self) -> None:
        from export.writeback import ensure_schema

        self.schema_state = "loading"
        self.run_in_background(ensure_schema, self.client, tag=("schema",))

    def handle(self, message: Any) -> Any:
        if isinstance(message, WritebackRequest):
            self._start(message, 1)
        elif isinstance(message, _WritebackRetry):
            self._start(message.request, message.attempt)
        elif message == ("retry-schema",):
            self._ensure_schema()
        elif isinstance(message, BackgroundDone) and message.tag == ("schema",):
            self._schema_done(message)
        elif isinstance(message, BackgroundDone):
            self._done(*message.tag, message)
        else:
            return super().handle(message)
        return None

    def _schema_done(self, done: BackgroundDone) -> None:
        if done.error is not None:
            logger.warning(
                "Could not find or create the custom attributes schema (%s); status goes to participant "
                "attributes only until it can",
                done.error,
            )
            self.schema_state = "failed"
            schedule(self.actor_ref, 60.0, ("retry-schema",))
        else:
            self.schema_id = done.result
            self.schema_state = "ready"
        waiting, self.schema_wait = self.schema_wait, []
        for request, attempt in waiting:
            self._start(request, attempt)

    def _start(self, request: WritebackRequest, attempt: int) -> None:
        from export.writeback import write_status

        if self.schema_state == "loading":
            self.schema_wait.append((request, attempt))
            return
        self.run_in_background(write_status, self.client, self.schema_id, request, tag=(request, attempt))

    def _done(self, request: WritebackRequest, attempt: int, done: BackgroundDone) -> None:
        if done.error is None:
            logger.info(
                "Conversation %s, profile %s: %s status '%s' written back to Genesys Cloud",
                request.conversation_id,
                request.profile,
                request.kind,
                request.status,
            )
            self.directory.tell(request.reply_to, WritebackResult(request.request_id))
            return
        from export.output_plan import is_retryable

        if attempt < self.max_attempts and is_retryable(done.error):
            delay = min(60.0, 0.5 * 2 ** (attempt - 1))
            logger.warning(
                "Conversation %s, profile %s: status write-back failed (attempt %d), retrying in %.1f s: %s",
                request.conversation_id,
                request.profile,
                attempt,
                delay,
                done.error,
            )
            schedule(self.actor_ref, delay, _WritebackRetry(request, attempt + 1))
            return
        logger.error(
            "Conversation %s, profile %s: giving up writing the %s status back: %s",
            request.conversation_id,
            request.profile,
            request.kind,
            done.error,
        )
        self.directory.tell(request.reply_to, WritebackResult(request.request_id, error=str(done.error)))


class PipelineSupervisor(Supervisor):
    def __init__(self, *, deps: Any, **kwargs: Any) -> None:
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
                    on_file_written=deps.on_file_written,
                ),
            )
        )
        specs.append(
            ChildSpec(
                "writeback",
                lambda sup, cid: WritebackActor.start(
                    supervisor=sup, child_id=cid, directory=deps.directory, client=deps.client
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
