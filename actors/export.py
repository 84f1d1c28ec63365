"""ExportActor: one per finished conversation, for every profile that applies to it.

A state machine over messages. Blocking steps (fetching details, downloads, transcripts) run in
its helper threads (`run_in_background`); CPU work goes to the DSP actors; files go through the
Writer; status goes through the Writeback actor. Nothing is lost when it crashes: the job is the
actor's start arguments, the ledger records every planned and written file, and the supervisor
restarts it with backoff, so the restarted instance resumes where the ledger says.

Audio is exported as soon as it is ready; the transcript when Genesys Cloud has it (it can come
minutes later). Each profile's `RetryCount` bounds the retries of each failing step; waiting for
something Genesys Cloud has not produced yet is bounded by the service's wait settings instead.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actors.base import BackgroundDone, Supervised
from actors.supervisor import schedule
from export import output_plan, steps
from messages.pipeline import (
    DspRequest,
    DspResult,
    ExportDone,
    WritebackRequest,
    WritebackResult,
    WriteRequest,
    WriteResult,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Begin:
    pass


@dataclass(frozen=True)
class _Retry:
    step: tuple[Any, ...]


@dataclass(frozen=True)
class _ProfileDue:
    profile: str


@dataclass
class _ProfileState:
    profile: Any
    due: bool = False
    audio_items: dict[str, str] = field(default_factory=dict)  # item -> "pending" | "written" | "failed"
    audio_files: list[str] = field(default_factory=list)
    audio_errors: list[str] = field(default_factory=list)
    audio_status: str | None = None  # set once written back
    timelines: dict[str, Any] = field(default_factory=dict)  # recording id -> [(AudioOutput, item)]
    transcript_items: dict[str, str] = field(default_factory=dict)
    transcript_files: list[str] = field(default_factory=list)
    transcript_errors: list[str] = field(default_factory=list)
    transcript_status: str | None = None
    transcripts_started: bool = False
    writebacks_pending: int = 0
    planning: bool = False  # items are being added: do not conclude the audio yet


class ExportActor(Supervised):
    background_threads = 3

    def __init__(self, *, supervisor: Any, child_id: str, job: Any, snapshot: Any, deps: Any) -> None:
        super().__init__(supervisor=supervisor, child_id=child_id)
        self.job = job
        self.snapshot = snapshot
        self.deps = deps
        self.conversation_id: str = job.conversation_id
        self.name = f"export:{self.conversation_id}"
        self.data: steps.ConversationData | None = None
        self.profiles: dict[str, _ProfileState] = {}
        self.sources: dict[str, Any] = {}  # format -> "pending" | FetchedRecordings | error
        self.waiting: dict[str, list[str]] = {}  # format -> profiles waiting for it
        self.requests: dict[str, tuple[str, Any]] = {}
        self.attempts: dict[tuple[Any, ...], int] = {}
        self.transcripts: list[Any] | None = None
        self.transcripts_error: str | None = None
        self.transcripts_reason = ""
        self.recordings_full: dict[str, dict[str, Any]] = {}
        self.transcript_fetcher: Any = None
        self.transcript_fetch_running = False
        self.started_wall = time.time()
        self.first_attempt_at = time.monotonic()
        self.work_dir = deps.work_root / self.conversation_id
        self.finished = False

    # -- lifecycle ----------------------------------------------------------------------
    def setup(self) -> None:
        self.deps.directory.register(self.name, self.actor_ref)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.deps.ledger.set_state(self.conversation_id, "running")
        delays = [p.processing_delay_seconds for p in self.snapshot.config.profiles] or [0]
        wait = max(0.0, self.job.finished_at + min(delays) - time.time())
        logger.info(
            "Conversation %s: picked up for export (queues %s)%s",
            self.conversation_id,
            ", ".join(self.snapshot.queue_names.get(q, q) for q in self.job.queue_ids) or "-",
            f", starting in {wait:.0f} s" if wait >= 1 else "",
        )
        schedule(self.actor_ref, wait, _Begin())

    def teardown(self) -> None:
        self.deps.directory.unregister(self.name, self.actor_ref)
        if self.finished:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    # -- dispatch -------------------------------------------------------------------------
    def handle(self, message: Any) -> Any:
        if isinstance(message, _Begin):
            self._fetch_context()
        elif isinstance(message, _Retry):
            self._retry(message.step)
        elif isinstance(message, _ProfileDue):
            self._profile_due(message.profile)
        elif isinstance(message, BackgroundDone):
            self._background_done(message)
        elif isinstance(message, DspResult):
            self._dsp_result(message)
        elif isinstance(message, WriteResult):
            self._write_result(message)
        elif isinstance(message, WritebackResult):
            self._writeback_result(message)
        else:
            return super().handle(message)
        return None

    # -- step: conversation context -----------------------------------------------------------
    def _fetch_context(self) -> None:
        self.run_in_background(
            steps.fetch_conversation, self.deps.client, self.conversation_id, tag=("context",)
        )

    def _retry(self, step: tuple[Any, ...]) -> None:
        kind = step[0]
        if kind == "context":
            self._fetch_context()
        elif kind == "download":
            self._start_download(step[1])
        elif kind == "transcripts":
            self._fetch_transcripts()
        elif kind == "dsp":
            self._send_dsp(*step[1:])

    def _background_done(self, done: BackgroundDone) -> None:
        kind = done.tag[0]
        if kind == "context":
            self._context_done(done)
        elif kind == "download":
            self._download_done(done)
        elif kind == "transcripts":
            self._transcripts_done(done)
        elif kind == "render":
            self._render_done(done)

    def _context_done(self, done: BackgroundDone) -> None:
        if done.error is not None:
            self._step_failed(("context",), done.error, wait_limit_s=self.deps.settings.recording_wait_s)
            return
        self.data = done.result
        applicable = output_plan.applicable_profiles(self.snapshot, self.data)
        if not applicable:
            logger.info("Conversation %s: no active profile applies; nothing to export", self.conversation_id)
            self._finish("out_of_scope")
            return
        already = output_plan.already_exported(self.data, self.deps.ledger, applicable)
        for profile in applicable:
            state = _ProfileState(profile)
            if not profile.audio_export_enabled or (profile.name, "audio") in already:
                state.audio_status = "done-before" if (profile.name, "audio") in already else "disabled"
            if not profile.transcript_export_enabled or (profile.name, "transcript") in already:
                state.transcript_status = (
                    "done-before" if (profile.name, "transcript") in already else "disabled"
                )
            if state.audio_status and state.transcript_status:
                logger.info(
                    "Conversation %s: profile %s already exported; skipping",
                    self.conversation_id,
                    profile.name,
                )
                continue
            self.profiles[profile.name] = state
            delay = max(0.0, self.job.finished_at + profile.processing_delay_seconds - time.time())
            schedule(self.actor_ref, delay, _ProfileDue(profile.name))
        if not self.profiles:
            self._finish("already_exported")

    # -- step: audio ----------------------------------------------------------------------------
    def _profile_due(self, name: str) -> None:
        state = self.profiles[name]
        state.due = True
        if state.audio_status is None:
            fmt, _ = steps.source_format(state.profile)
            self.waiting.setdefault(fmt, []).append(name)
            source = self.sources.get(fmt)
            if source is None:
                self._start_download(fmt)
            elif source != "pending":
                self._source_ready(fmt)
        if state.transcript_status is None:
            self._fetch_transcripts()
            self._maybe_render_transcripts(state)
        self._check_done()

    def _start_download(self, fmt: str) -> None:
        assert self.data is not None
        self.sources[fmt] = "pending"
        self.run_in_background(
            steps.download_recordings,
            self.deps.client,
            self.data,
            fmt,
            self.work_dir / f"source-{fmt.lower()}",
            self.deps.settings.recording_wait_s,
            tag=("download", fmt),
        )

    def _download_done(self, done: BackgroundDone) -> None:
        fmt = done.tag[1]
        if done.error is not None:
            if self._step_failed(("download", fmt), done.error):
                return
            self.sources[fmt] = done.error
            for profile_name in self.waiting.pop(fmt, []):
                state = self.profiles[profile_name]
                self._audio_item_failed(state, "audio:recordings", f"recordings: {done.error}")
            return
        self.sources[fmt] = done.result
        self._source_ready(fmt)

    def _source_ready(self, fmt: str) -> None:
        fetched = self.sources[fmt]
        for note in fetched.unavailable:
            logger.error(
                "Conversation %s: recording %s cannot be exported: %s",
                self.conversation_id,
                note.recording_id,
                note.reason,
            )
        files = {str(rec["id"]): (rec, got.path) for rec, got in fetched.files}
        self.recordings_full.update({rid: rec for rid, (rec, _) in files.items()})
        channels = {rid: output_plan.probe_channels(path) for rid, (_, path) in files.items()}
        for profile_name in self.waiting.pop(fmt, []):
            state = self.profiles[profile_name]
            for note in fetched.unavailable:
                state.audio_items[f"audio:{note.recording_id}"] = "failed"
                state.audio_errors.append(f"recording {note.recording_id}: {note.reason}")
            if not files:
                if not fetched.unavailable:
                    state.audio_status = "no_recording"
                    logger.info(
                        "Conversation %s, profile %s: no call recording to export",
                        self.conversation_id,
                        profile_name,
                    )
                    self._send_writeback(state, "audio", "skipped", detail="no recording")
                else:
                    self._audio_progress(state)
                continue
            state.planning = True
            for group in output_plan.recording_groups([rec for rec, _ in files.values()], channels):
                merged = len(group) > 1
                if merged:  # one mono recording per side: aligned in time and merged into stereo
                    try:
                        path, recording = output_plan.merge_mono_pair(
                            [(files[str(r["id"])][1], files[str(r["id"])][0]) for r in group], self.work_dir
                        )
                    except Exception as exc:  # a bad file affects only this pair
                        self._audio_item_failed(
                            state, f"audio:{group[0]['id']}", f"merging the mono pair: {exc}"
                        )
                        continue
                else:
                    recording, path = files[str(group[0]["id"])]
                item = f"audio:{recording['id']}"
                if item in state.audio_items:
                    continue
                state.audio_items[item] = "pending"
                _, passthrough = steps.source_format(state.profile)
                if merged and passthrough and state.profile.audio_format != "WAV":
                    passthrough = False  # the merged file is WAV: encode it to the profile's format
                if passthrough:
                    self._write_audio(state, item, recording, None, path)
                else:
                    self._send_dsp(profile_name, item, path, recording)
            state.planning = False
            self._audio_progress(state)

    def _send_dsp(self, profile_name: str, item: str, path: Path, recording: dict[str, Any]) -> None:
        state = self.profiles[profile_name]
        request_id = steps.new_request_id()
        target = self.deps.dsp_router.pick(output_plan.expected_seconds(recording))
        request = DspRequest(
            request_id=request_id,
            reply_to=self.name,
            conversation_id=self.conversation_id,
            profile=profile_name,
            source=path,
            recording=recording,
            details=self.data.details if self.data else None,
            options=output_plan.audio_options(state.profile),
            work_dir=self.work_dir / f"dsp-{request_id}",
            expected_seconds=output_plan.expected_seconds(recording),
        )
        self.requests[request_id] = ("dsp", (profile_name, item, path, recording))
        if not self.deps.directory.tell(target, request):
            self.requests.pop(request_id)
            self._step_failed(
                ("dsp", profile_name, item, path, recording), RuntimeError(f"{target} is not running")
            )

    def _dsp_result(self, result: DspResult) -> None:
        entry = self.requests.pop(result.request_id, None)
        if entry is None:
            return
        profile_name, item, path, recording = entry[1]
        state = self.profiles[profile_name]
        if result.error is not None:
            if self._step_failed(("dsp", profile_name, item, path, recording), RuntimeError(result.error)):
                return
            self._audio_item_failed(state, item, result.error)
            return
        outputs = list(result.outputs)
        if not outputs:
            logger.info(
                "Conversation %s, profile %s: the segment filter leaves no audio in recording %s",
                self.conversation_id,
                profile_name,
                recording["id"],
            )
            state.audio_items[item] = "empty"
            self._audio_progress(state)
            return
        state.audio_items.pop(item, None)
        state.planning = True
        planned = []
        for index, output in enumerate(outputs):
            sub_item = item if len(outputs) == 1 and output.segment is None else f"{item}:{index + 1}"
            state.audio_items[sub_item] = "pending"
            state.timelines.setdefault(recording["id"], []).append((output, sub_item))
            planned.append((sub_item, output))
        for sub_item, output in planned:
            self._write_audio(state, sub_item, recording, output, output.path)
        state.planning = False
        self._audio_progress(state)

    def _write_audio(
        self, state: _ProfileState, item: str, recording: dict[str, Any], output: Any, source: Path
    ) -> None:
        assert self.data is not None
        try:
            target, metadata = output_plan.audio_target(
                self.deps, self.snapshot, self.data, state.profile, recording, output
            )
        except Exception as exc:  # a template or path problem affects only this file
            self._audio_item_failed(state, item, f"cannot name the file: {exc}")
            return
        self._send_write(state, item, target, source, metadata, getattr(output, "duration_s", None))

    def _send_write(
        self,
        state: _ProfileState,
        item: str,
        target: Path,
        source: Path | bytes,
        metadata: dict[str, str],
        duration: float | None,
    ) -> None:
        record = self.deps.ledger.output(self.conversation_id, state.profile.name, item)
        if record is not None and record.status in ("written", "skipped"):
            self._item_written(state, item, Path(record.path) if record.path else None)
            return
        if record is not None and record.path:
            planned = Path(record.path)
            if planned.exists():  # written before a crash, not yet confirmed: the rename is atomic
                self.deps.ledger.record_output(
                    self.conversation_id, state.profile.name, item, "written", str(planned)
                )
                self._item_written(state, item, planned)
                return
            target = planned
        self.deps.ledger.record_output(self.conversation_id, state.profile.name, item, "planned", str(target))
        request_id = steps.new_request_id()
        request = WriteRequest(
            request_id=request_id,
            reply_to=self.name,
            conversation_id=self.conversation_id,
            profile=state.profile.name,
            item=item,
            target=target,
            source=source,
            strategy=state.profile.conflict_strategy,
            metadata=metadata,
            duration_s=duration,
        )
        self.requests[request_id] = ("write", (state.profile.name, item))
        if not self.deps.directory.tell("writer", request):
            self.requests.pop(request_id)
            self._item_failed(state, item, "the writer is not running")

    def _write_result(self, result: WriteResult) -> None:
        entry = self.requests.pop(result.request_id, None)
        if entry is None:
            return
        profile_name, item = entry[1]
        state = self.profiles[profile_name]
        if result.error is not None:
            self._item_failed(state, item, result.error)
            return
        self.deps.ledger.record_output(
            self.conversation_id,
            profile_name,
            item,
            "written" if result.path else "skipped",
            str(result.path) if result.path else None,
            result.size,
        )
        self._item_written(state, item, result.path)

    def _item_written(self, state: _ProfileState, item: str, path: Path | None) -> None:
        if item.startswith("audio:"):
            state.audio_items[item] = "written"
            if path is not None:
                state.audio_files.append(path.name)
            self._audio_progress(state)
        else:
            state.transcript_items[item] = "written"
            if path is not None:
                state.transcript_files.append(path.name)
            self._transcript_progress(state)

    def _item_failed(self, state: _ProfileState, item: str, error: str) -> None:
        if item.startswith("audio:"):
            self._audio_item_failed(state, item, error)
        else:
            state.transcript_items[item] = "failed"
            state.transcript_errors.append(error)
            logger.error(
                "Conversation %s, profile %s: %s failed: %s",
                self.conversation_id,
                state.profile.name,
                item,
                error,
            )
            self._transcript_progress(state)

    def _audio_item_failed(self, state: _ProfileState, item: str, error: str) -> None:
        state.audio_items[item] = "failed"
        state.audio_errors.append(error)
        logger.error(
            "Conversation %s, profile %s: giving up on %s: %s",
            self.conversation_id,
            state.profile.name,
            item,
            error,
        )
        self._audio_progress(state)

    def _audio_progress(self, state: _ProfileState) -> None:
        if (
            state.planning
            or state.audio_status is not None
            or any(v == "pending" for v in state.audio_items.values())
        ):
            return
        if any(v == "pending" for v in self._pending_sources_for(state.profile.name)):
            return
        status = "failed" if state.audio_errors else "exported"
        state.audio_status = status
        self._send_writeback(
            state, "audio", status, files=state.audio_files, detail="; ".join(state.audio_errors)
        )
        self._maybe_render_transcripts(state)

    def _pending_sources_for(self, profile_name: str) -> list[str]:
        return ["pending" for waiters in self.waiting.values() for name in waiters if name == profile_name]

    # -- step: transcripts -----------------------------------------------------------------------
    def _fetch_transcripts(self) -> None:
        if self.transcripts is not None or self.transcript_fetch_running:
            return
        assert self.data is not None
        if steps.expects_recordings(self.data) is False:
            # speech analytics transcribes recordings: an unrecorded call never gets a transcript
            self.transcripts, self.transcripts_reason = (
                [],
                "the call was not recorded, so it has no transcript",
            )
            return
        untranscribed = steps.untranscribed_queues(self.data, self.snapshot)
        if untranscribed:
            self.transcripts = []
            self.transcripts_reason = (
                f"voice transcription is off on queue(s) {untranscribed}: no transcript will come"
            )
            return
        if self.transcript_fetcher is None:
            self.transcript_fetcher = steps.transcript_fetcher(
                self.deps.client, self.data, self.deps.settings.transcript_wait_s
            )
        self.transcript_fetch_running = True
        self.run_in_background(
            steps.transcript_step, self.transcript_fetcher, self.conversation_id, tag=("transcripts",)
        )

    def _transcripts_done(self, done: BackgroundDone) -> None:
        self.transcript_fetch_running = False
        if done.error is not None:
            if self._step_failed(("transcripts",), done.error):
                return
            self.transcripts_error = str(done.error)
            self.transcripts = []
        else:
            outcome = done.result
            if outcome.waiting_s is not None:
                logger.debug(
                    "Conversation %s: %s; next try in %.0f s",
                    self.conversation_id,
                    outcome.reason,
                    outcome.waiting_s,
                )
                schedule(self.actor_ref, outcome.waiting_s, _Retry(("transcripts",)))
                return
            self.transcripts = list(outcome.documents)
            self.transcripts_error = outcome.error
            self.transcripts_reason = outcome.reason
        for state in self.profiles.values():
            self._maybe_render_transcripts(state)
        self._check_done()

    def _maybe_render_transcripts(self, state: _ProfileState) -> None:
        if state.transcript_status is not None or state.transcripts_started or not state.due:
            return
        if self.transcripts is None:
            return
        if state.profile.audio_export_enabled and state.audio_status is None:
            return  # wait for the audio's timelines so subtitles follow its cuts
        state.transcripts_started = True
        if not self.transcripts:
            state.transcript_status = "failed" if self.transcripts_error else "no_transcript"
            detail = (
                self.transcripts_error or self.transcripts_reason or "no transcript for this conversation"
            )
            if self.transcripts_error:
                logger.error(
                    "Conversation %s, profile %s: transcript: %s",
                    self.conversation_id,
                    state.profile.name,
                    detail,
                )
            else:
                logger.info(
                    "Conversation %s, profile %s: %s", self.conversation_id, state.profile.name, detail
                )
            self._send_writeback(
                state, "transcript", "failed" if self.transcripts_error else "skipped", detail=detail
            )
            return
        assert self.data is not None
        self.run_in_background(
            output_plan.render_transcripts,
            self.deps,
            self.snapshot,
            self.data,
            state.profile,
            self.transcripts,
            dict(state.timelines),
            dict(self.recordings_full),
            tag=("render", state.profile.name),
        )

    def _render_done(self, done: BackgroundDone) -> None:
        state = self.profiles[done.tag[1]]
        if done.error is not None:
            state.transcript_status = "failed"
            state.transcript_errors.append(str(done.error))
            logger.error(
                "Conversation %s, profile %s: transcript: %s",
                self.conversation_id,
                state.profile.name,
                done.error,
            )
            self._send_writeback(state, "transcript", "failed", detail=str(done.error))
            return
        rendered = list(done.result)
        for rendered_item in rendered:
            state.transcript_items[rendered_item[0]] = "pending"
        for item, target, data, metadata in rendered:
            self._send_write(state, item, target, data, metadata, None)
        if not rendered:
            state.transcript_status = "skipped"
            self._send_writeback(state, "transcript", "skipped", detail="nothing left after filtering")

    def _transcript_progress(self, state: _ProfileState) -> None:
        if state.transcript_status is not None or any(
            v == "pending" for v in state.transcript_items.values()
        ):
            return
        status = "failed" if state.transcript_errors else "exported"
        state.transcript_status = status
        self._send_writeback(
            state,
            "transcript",
            status,
            files=state.transcript_files,
            detail="; ".join(state.transcript_errors),
        )

    # -- step: write-back and completion ------------------------------------------------------------
    def _send_writeback(
        self, state: _ProfileState, kind: str, status: str, files: list[str] | None = None, detail: str = ""
    ) -> None:
        request_id = steps.new_request_id()
        request = WritebackRequest(
            request_id=request_id,
            reply_to=self.name,
            conversation_id=self.conversation_id,
            profile=state.profile.name,
            kind=kind,
            status=status,
            root=str(state.profile.destination_root),
            files=tuple(files or ()),
            detail=detail,
            participant_id=output_plan.customer_participant_id(self.data) if self.data else None,
        )
        self.deps.ledger.set_profile_status(self.conversation_id, state.profile.name, kind, status, detail)
        state.writebacks_pending += 1
        if kind == "audio":  # the audio is settled: the transcript no longer waits for its timelines
            self._maybe_render_transcripts(state)
        self.requests[request_id] = ("writeback", (state.profile.name,))
        if not self.deps.directory.tell("writeback", request):
            self.requests.pop(request_id)
            state.writebacks_pending -= 1
            logger.error(
                "Conversation %s: the write-back actor is not running; status not written back",
                self.conversation_id,
            )
        self._check_done()

    def _writeback_result(self, result: WritebackResult) -> None:
        entry = self.requests.pop(result.request_id, None)
        if entry is None:
            return
        state = self.profiles[entry[1][0]]
        state.writebacks_pending -= 1
        self._check_done()

    def _check_done(self) -> None:
        if self.finished or self.data is None:
            return
        if any(
            s.audio_status is None or s.transcript_status is None or s.writebacks_pending > 0
            for s in self.profiles.values()
        ):
            return
        failed = [
            f"{s.profile.name}: {'; '.join(s.audio_errors + s.transcript_errors)}"
            for s in self.profiles.values()
            if s.audio_errors or s.transcript_errors
        ]
        self._finish("failed" if failed else "done", " | ".join(failed))

    def _finish(self, outcome: str, detail: str = "") -> None:
        self.finished = True
        took = time.time() - self.started_wall
        if outcome == "done":
            logger.info("Conversation %s: export complete in %.1f s", self.conversation_id, took)
        elif outcome == "failed":
            logger.error("Conversation %s: export finished with failures: %s", self.conversation_id, detail)
        if self._supervisor is not None:
            try:
                self._supervisor.tell(ExportDone(self.conversation_id, outcome, detail))
            except Exception:  # pragma: no cover - supervisor gone during shutdown
                pass
        self.stop()

    # -- retries ---------------------------------------------------------------------------------
    def _step_failed(
        self, step: tuple[Any, ...], error: BaseException, wait_limit_s: float | None = None
    ) -> bool:
        """Schedule a retry of `step` if allowed; False when the caller must give up."""
        if isinstance(error, steps.NotReady) and wait_limit_s is not None:
            if time.monotonic() - self.first_attempt_at < wait_limit_s:
                logger.debug("Conversation %s: %s; waiting", self.conversation_id, error)
                schedule(self.actor_ref, error.retry_after_s, _Retry(step))
                return True
            logger.error(
                "Conversation %s: gave up waiting after %.0f s: %s", self.conversation_id, wait_limit_s, error
            )
            if step[0] == "context":
                self._finish("failed", str(error))
            return False
        retry_limit = max((p.retry_count for p in self.snapshot.config.profiles), default=3)
        if step[0] == "dsp":
            retry_limit = self.profiles[step[1]].profile.retry_count
        attempts = self.attempts.get(step, 0) + 1
        self.attempts[step] = attempts
        if attempts <= retry_limit and output_plan.is_retryable(error):
            delay = min(60.0, 0.5 * 2 ** (attempts - 1))
            logger.warning(
                "Conversation %s: %s failed (attempt %d of %d), retrying in %.1f s: %s",
                self.conversation_id,
                step[0],
                attempts,
                retry_limit + 1,
                delay,
                error,
            )
            schedule(self.actor_ref, delay, _Retry(step))
            return True
        logger.error("Conversation %s: %s failed, giving up: %s", self.conversation_id, step[0], error)
        if step[0] == "context":
            self._finish("failed", f"{step[0]}: {error}")
        return False
