"""ConversationExport: the export of one conversation, as a thread-free state machine.

The machine takes events (`export.events`: a reply, a failure, an expired request, a timer) and
returns commands (`export.commands`: fetch, download, prepare, run DSP, write, render, write back,
schedule, park, finish). It never blocks, never sleeps and starts no threads; the ExportActor is a thin
shell that executes its commands and feeds the outcomes back. The machine is *level-triggered*: after
every event it looks at the whole state and asks for whatever is missing and not already in flight
or waiting, so a duplicate reply, a late reply for work that was re-sent, or a restart from the
durable state all end up in the same place.

The export of a conversation, per profile that applies to it:

1. context: analytics details, the conversation, recording metadata (waits while analytics lags);
2. audio: the recordings in the source format (waits while Genesys transcodes), prepared (mono
   pairs merged) in the DSP pool, processed (or passed through), written; the audio of every call
   is exported as soon as it can be, whatever its transcript does;
3. transcripts: fetched once the audio is settled (its timelines keep subtitles in sync with the
   exported files), rendered per profile, written; a transcript that is not there yet parks the
   conversation (no slot held) and polls with backoff until the transcript wait runs out;
4. write-back: one status update per conversation when its exports settle (audio done, transcripts
   done or still waiting), and one more only when a late transcript changes it.

Waiting (processing delay, analytics, recordings, transcripts, a share that cannot be written) is a
wake-up time; when nothing is in flight and the next wake-up is further than `park_after_s`, the
machine asks to be parked, so waiting costs no export slot. Failures are classified by
`export.failures.classify`: recoverable ones are retried with backoff until `recoverable_horizon_s`,
bounded ones up to the profile's RetryCount, permanent ones fail their item at once with the cause,
which is written back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from export.arrival import ARRIVALS, ArrivalEstimator
from export.batch_sources import batchable, from_batch
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
from export.durable import OutputView
from export.events import Event, Expired, Failed, Replied, TimerFired
from export.failures import REPORTER, Failure, FailureReporter, classify
from export.steps import ConversationData, NotReady, RecordingsProgress, TranscriptProgress
from export.writeback import KindStatus
from genesys.recordings import recording_expected
from reliability.backoff import SOON

logger = logging.getLogger(__name__)

SETTLED_WRITTEN = ("written", "failed", "empty", "skipped", "split")
MAX_LOST_WORKERS = 4
"""A request whose worker dies this many times is no longer re-sent for free: it counts as a failure."""
INTERIM_WRITEBACK_AFTER_S = 60.0
"""A transcript still missing this long after the first try gets the audio's status written back meanwhile."""


class LedgerView(Protocol):
    def set_profile_status(
        self, conversation_id: str, profile: str, kind: str, status: str, detail: str = ""
    ) -> None: ...


class PlannerView(Protocol):
    @property
    def profiles(self) -> list[Any]: ...
    def profile(self, name: str) -> Any | None: ...
    def applicable(self, data: ConversationData) -> list[Any]: ...
    def already_exported(self, data: ConversationData, profiles: list[Any]) -> set[tuple[str, str]]: ...
    def queue_names(self, queue_ids: tuple[str, ...]) -> str: ...
    def untranscribed(self, data: ConversationData) -> str | None: ...
    def source_format(self, profile: Any) -> tuple[str, bool]: ...
    def audio_options(self, profile: Any) -> Any: ...
    def audio_target(
        self, data: ConversationData, profile: Any, recording: dict[str, Any], output: Any
    ) -> tuple[Path, dict[str, str]]: ...


@dataclass(frozen=True)
class MachineSettings:
    recoverable_horizon_s: float = 24 * 3600.0
    park_after_s: float = 2.0
    analytics_wait_s: float = 3600.0
    recording_wait_s: float = 3600.0
    no_recording_after_s: float = 600.0
    transcript_wait_s: float = 3600.0
    # backfilled conversations: also write the custom-attributes record (a second request per call),
    # or only the participant attributes the duplicate check and the report read ([backfill] writeback)
    backfill_status_record: bool = False


@dataclass(frozen=True)
class JobInfo:
    conversation_id: str
    queue_ids: tuple[str, ...] = ()
    finished_at: float = 0.0
    source: str = "live"  # live | reconciled | operator | backfill


@dataclass
class KindState:
    """One profile's audio or transcript export."""

    status: str | None = None  # None until settled: exported | failed | skipped | disabled | done-before
    detail: str = ""
    files: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def settled(self) -> bool:
        return self.status is not None

    @property
    def reported(self) -> bool:
        """Part of the status written back (disabled and previously exported kinds are not)."""
        return self.status not in ("disabled", "done-before")

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "detail": self.detail,
            "files": self.files,
            "errors": self.errors,
            "items": {k: {f: v for f, v in e.items() if f != "data"} for k, e in self.items.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KindState:
        return cls(
            data.get("status"),
            data.get("detail", ""),
            list(data.get("files", [])),
            list(data.get("errors", [])),
            dict(data.get("items", {})),
        )


@dataclass
class ProfileState:
    name: str
    due_at: float
    audio: KindState = field(default_factory=KindState)
    transcript: KindState = field(default_factory=KindState)
    outputs: list[OutputView] = field(default_factory=list)
    rendered: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "due_at": self.due_at,
            "audio": self.audio.to_json(),
            "transcript": self.transcript.to_json(),
            "outputs": [o.to_json() for o in self.outputs],
            "rendered": self.rendered,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProfileState:
        return cls(
            data["name"],
            float(data["due_at"]),
            KindState.from_json(data["audio"]),
            KindState.from_json(data["transcript"]),
            [OutputView.from_json(o) for o in data.get("outputs", [])],
            bool(data.get("rendered")),
        )


def _new_id() -> str:
    return uuid.uuid4().hex


class ConversationExport:
    """The state machine of one conversation's export (see the module docstring)."""

    VERSION = 1

    def __init__(
        self,
        job: JobInfo,
        planner: PlannerView,
        ledger: LedgerView,
        work_dir: Path,
        settings: MachineSettings | None = None,
        *,
        durable: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
        reporter: FailureReporter = REPORTER,
        new_id: Callable[[], str] = _new_id,
        arrivals: ArrivalEstimator = ARRIVALS,
    ) -> None:
        self.arrivals = arrivals
        self.job = job
        self.cid = job.conversation_id
        self.planner = planner
        self.ledger = ledger
        self.work_dir = work_dir
        self.settings = settings or MachineSettings()
        self.reporter = reporter
        self._new_id = new_id
        # durable state
        self.data: ConversationData | None = None
        self.planned = False
        self.profiles: dict[str, ProfileState] = {}
        self.sources: dict[str, dict[str, Any]] = {}
        self.transcripts: dict[str, Any] = {"status": "idle", "fetcher": {}, "reason": "", "error": None}
        self.failures: dict[str, dict[str, Any]] = {}
        self.waits: dict[str, tuple[float, str]] = {}
        self.written_back: str | None = None
        self.writeback_given_up = False
        self.context_first_at: float | None = None
        self._context_retried = False
        self.resends = 0
        self.outcome: tuple[str, str] | None = None
        self._finish_sent = False
        # in memory only
        self.inflight: dict[str, Work] = {}
        self.documents: tuple[Any, ...] | None = None
        if context is not None:
            self.data = ConversationData(
                context["conversation_id"],
                context["details"],
                context["conversation"],
                tuple(context.get("recordings", ())),
                dict(context.get("user_names", {})),
            )
        if durable:
            self._restore(durable)

    # -- persistence -----------------------------------------------------------------------------
    def durable(self) -> dict[str, Any]:
        """The JSON-able state a parked or restarted export resumes from."""
        return {
            "v": self.VERSION,
            "planned": self.planned,
            "profiles": {n: p.to_json() for n, p in self.profiles.items()},
            "sources": self.sources,
            "transcripts": self.transcripts,
            "failures": self.failures,
            "waits": {k: list(v) for k, v in self.waits.items()},
            "written_back": self.written_back,
            "writeback_given_up": self.writeback_given_up,
            "context_first_at": self.context_first_at,
            "resends": self.resends,
        }

    def context_json(self) -> dict[str, Any] | None:
        if self.data is None:
            return None
        return {
            "conversation_id": self.data.conversation_id,
            "details": self.data.details,
            "conversation": self.data.conversation,
            "recordings": list(self.data.recordings),
            "user_names": self.data.user_names,
        }

    def _restore(self, d: dict[str, Any]) -> None:
        if d.get("v") != self.VERSION:
            logger.warning("Conversation %s: saved export state of another version; starting over", self.cid)
            return
        self.planned = bool(d.get("planned")) and self.data is not None
        self.profiles = {n: ProfileState.from_json(p) for n, p in d.get("profiles", {}).items()}
        self.sources = dict(d.get("sources", {}))
        self.transcripts = dict(d.get("transcripts", self.transcripts))
        self.failures = dict(d.get("failures", {}))
        self.waits = {k: (float(v[0]), str(v[1])) for k, v in d.get("waits", {}).items()}
        self.written_back = d.get("written_back")
        self.writeback_given_up = bool(d.get("writeback_given_up"))
        self.context_first_at = d.get("context_first_at")
        self.resends = int(d.get("resends", 0))
        for profile in self.profiles.values():
            # rendered transcripts are not kept (they can be large): render again
            if not profile.transcript.settled and profile.rendered:
                profile.rendered = False
                profile.transcript.items = {
                    k: v for k, v in profile.transcript.items.items() if v.get("state") == "written"
                }
            for kind in (profile.audio, profile.transcript):
                for item in kind.items.values():
                    if (
                        item.get("state") == "write"
                        and item.get("source")
                        and not Path(item["source"]).exists()
                    ):
                        item["state"] = "lost"  # the work file is gone (another machine, cleaned up)
        if self.transcripts.get("status") == "ready":
            self.transcripts["status"] = "idle"  # the documents were in memory: fetch them again

    # -- entry points ------------------------------------------------------------------------------
    @property
    def _learns(self) -> bool:
        """Live calls teach (and use) when Genesys Cloud's documents arrive; old calls do not."""
        return self.job.source in ("live", "reconciled") and self.job.finished_at > 0

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    def start(self, now: float) -> list[Command]:
        if self.context_first_at is None:
            self.context_first_at = now
            delays = [p.processing_delay_seconds for p in self.planner.profiles] or [0]
            due = self.job.finished_at + min(delays)
            expected = self.job.finished_at + self.arrivals.first_wait("analytics") if self._learns else 0.0
            if self.data is None and max(due, expected) > now:
                reason = "processing delay" if due >= expected else "analytics details expected later"
                self.waits["context"] = (max(due, expected), reason)
        return self._advance(now)

    def handle(self, event: Event, now: float) -> list[Command]:
        if self.finished and self._finish_sent:
            return []
        if isinstance(event, Replied):
            work = self._take(event.request_id)
            if work is not None:
                self._replied(work, event.result, now)
        elif isinstance(event, Failed):
            work = self._take(event.request_id)
            if work is not None:
                self._failed(work, event.error, now)
        elif isinstance(event, Expired):
            work = self._take(event.request_id)
            if work is not None:
                self.resends += 1
                logger.info(
                    "Conversation %s: %s got no reply (%s); sending it again",
                    self.cid,
                    work.key,
                    event.reason,
                )
        elif isinstance(event, TimerFired):
            pass
        return self._advance(now)

    def _take(self, request_id: str) -> Work | None:
        for key, work in self.inflight.items():
            if work.request_id == request_id:
                del self.inflight[key]
                return work
        return None  # a late or duplicate reply for work that was re-sent or is done: ignored

    # -- the level-triggered core --------------------------------------------------------------------
    def _advance(self, now: float) -> list[Command]:
        commands: list[Command] = []
        if self.finished:
            if self._finish_sent or self.outcome is None:
                return commands
            self._finish_sent = True
            return [Finish(*self.outcome)]
        if self.data is None:
            self._want(commands, "context", now, lambda rid, key: FetchContext(rid, key, now + 300.0))
        else:
            if not self.planned:
                self._plan(now)
                if self.finished:
                    return self._advance(now)
            for profile in list(self.profiles.values()):
                self._advance_audio(commands, profile, now)
            self._advance_transcripts(commands, now)
            if self._layout_waiting():  # the transcript may have just settled what they wait for
                for profile in list(self.profiles.values()):
                    self._advance_audio(commands, profile, now)
            self._advance_writeback(commands, now)
            if self._all_done():
                self._finish()
                return [*commands, *self._advance(now)]
        commands.extend(self._wait_command(now))
        return commands

    def _want(self, commands: list[Command], key: str, now: float, build: Callable[[str, str], Work]) -> None:
        """Issue the work for `key` unless it is in flight or waiting for a later time."""
        if key in self.inflight:
            return
        wait = self.waits.get(key)
        if wait is not None and wait[0] > now:
            return
        self.waits.pop(key, None)
        work = build(self._new_id(), key)
        self.inflight[key] = work
        commands.append(work)

    def _wait_command(self, now: float) -> list[Command]:
        future = [(at, reason) for at, reason in self.waits.values() if at > now]
        if not future:
            if not self.inflight and not self.finished:
                # nothing in flight and nothing to wait for, yet not done: never stall silently
                logger.error(
                    "Conversation %s: export has nothing to do but is not finished; retrying", self.cid
                )
                return [Park(now + 60.0, "stalled")]
            return []
        at, reason = min(future)
        if not self.inflight and at - now > self.settings.park_after_s:
            return [Park(at, reason)]
        return [Schedule(at)]

    # -- context and plan ----------------------------------------------------------------------------
    def _plan(self, now: float) -> None:
        assert self.data is not None
        self.planned = True
        applicable = self.planner.applicable(self.data)
        if not applicable:
            logger.info("Conversation %s: no active profile applies; nothing to export", self.cid)
            self.outcome = ("out_of_scope", "")
            return
        if any(from_batch(r) for r in self.data.recordings) and not batchable(applicable):
            # a profile needs the recording metadata a batch result lacks: every profile asks one by one
            logger.info(
                "Conversation %s: a profile needs recording metadata; not using the batch download", self.cid
            )
            kept = tuple(r for r in self.data.recordings if not from_batch(r))
            self.data = dataclasses.replace(self.data, recordings=kept)
        already = self.planner.already_exported(self.data, applicable)
        for profile in applicable:
            state = ProfileState(profile.name, self.job.finished_at + profile.processing_delay_seconds)
            for kind, enabled in (
                ("audio", profile.audio_export_enabled),
                ("transcript", profile.transcript_export_enabled),
            ):
                target = state.audio if kind == "audio" else state.transcript
                if not enabled:
                    target.status = "disabled"
                elif (profile.name, kind) in already:
                    target.status = "done-before"
            if state.audio.settled and state.transcript.settled:
                logger.info("Conversation %s: profile %s already exported; skipping", self.cid, profile.name)
                continue
            self.profiles[profile.name] = state
        if not self.profiles:
            self.outcome = ("already_exported", "")

    # -- audio ---------------------------------------------------------------------------------------
    def _advance_audio(self, commands: list[Command], state: ProfileState, now: float) -> None:
        kind = state.audio
        if kind.settled:
            return
        profile = self.planner.profile(state.name)
        if profile is None:
            self._settle(state, "audio", "skipped", "the profile is no longer active")
            return
        if now < state.due_at:
            self.waits[f"due:{state.name}"] = (state.due_at, "processing delay")
            return
        self.waits.pop(f"due:{state.name}", None)
        fmt, passthrough = self.planner.source_format(profile)
        source = self.sources.setdefault(fmt, {"status": "fetch", "fetcher": {}})
        if source["status"] == "fetch":
            self._want(
                commands,
                f"recordings:{fmt}",
                now,
                lambda rid, key: AdvanceRecordings(
                    rid,
                    key,
                    now + 900.0,
                    format_id=fmt,
                    fetcher_state=dict(source.get("fetcher") or {}),
                    dest_dir=self.work_dir / f"source-{fmt.lower()}",
                ),
            )
            return
        if source["status"] == "prepare":
            files = tuple((rec, Path(path)) for rec, path in source["files"])
            self._want(
                commands,
                f"prepare:{fmt}",
                now,
                lambda rid, key: PrepareSources(
                    rid,
                    key,
                    now + 300.0 + 0.2 * self._seconds(files),
                    format_id=fmt,
                    files=files,
                    work_dir=self.work_dir,
                ),
            )
            return
        if source["status"] == "failed":
            self._settle(state, "audio", "failed", source.get("error") or "the recordings could not be had")
            return
        # ready: one export source per recording (mono pairs merged)
        for rid, reason in source.get("unavailable", []):
            if f"audio:{rid}" not in kind.items:
                kind.items[f"audio:{rid}"] = {"state": "failed", "recording": rid, "error": reason}
                kind.errors.append(f"recording {rid}: {reason}")
        for item, path, recording, merged in source.get("groups", []):
            # a batch result is in the recording's original codec: always re-encoded
            direct = (
                passthrough and not from_batch(recording) and not (merged and profile.audio_format != "WAV")
            )
            kind.items.setdefault(
                item,
                {"state": "write" if direct else "dsp", "recording": str(recording["id"]), "source": path},
            )
        if not kind.items:
            logger.info("Conversation %s, profile %s: no call recording to export", self.cid, state.name)
            self._settle(state, "audio", "skipped", source.get("note") or "no recording")
            return
        for item, entry in list(kind.items.items()):
            if entry["state"] == "lost":  # a work file that is gone: start that recording again
                self._restart_source(fmt, "a work file was missing")
                return
            if entry["state"] == "layout-wait":
                self._layout_wait(state, item, entry)
            if entry["state"] == "dsp":
                self._want_dsp(commands, state, profile, fmt, item, entry, now)
            elif entry["state"] == "write":
                self._want_audio_write(commands, state, profile, fmt, item, entry, now)
        if all(e["state"] in SETTLED_WRITTEN for e in kind.items.values()):
            written = [e for e in kind.items.values() if e["state"] == "written"]
            if kind.errors:
                self._settle(state, "audio", "failed", "; ".join(kind.errors))
            elif not written:
                self._settle(state, "audio", "skipped", "the segment filter leaves no audio")
            else:
                self._settle(state, "audio", "exported", "")

    def _recording(self, fmt: str, recording_id: str) -> dict[str, Any]:
        for _item, _path, recording, _merged in self.sources.get(fmt, {}).get("groups", []):
            if str(recording["id"]) == recording_id:
                return recording
        return {"id": recording_id}

    @staticmethod
    def _seconds(files: Any) -> float:
        from export.output_plan import expected_seconds

        return sum(expected_seconds(rec) for rec, _ in files)

    def _want_dsp(
        self,
        commands: list[Command],
        state: ProfileState,
        profile: Any,
        fmt: str,
        item: str,
        entry: dict[str, Any],
        now: float,
    ) -> None:
        from export.output_plan import expected_seconds

        recording = self._recording(fmt, entry["recording"])
        seconds = expected_seconds(recording)

        def build(rid: str, key: str) -> Work:
            return RunDsp(
                rid,
                key,
                now + 120.0 + 0.5 * seconds,  # sized from the work: at least 2x real time on a busy machine
                profile=state.name,
                item=item,
                source=Path(entry["source"]),
                recording=recording,
                details=self.data.details if self.data is not None else None,
                options=self.planner.audio_options(profile),
                expected_seconds=seconds,
                work_dir=self.work_dir / f"dsp-{rid}",
                speakers=self._speakers(),
            )

        self._want(commands, f"dsp:{state.name}:{item}", now, build)

    def _speakers(self) -> tuple[tuple[str, int, int], ...]:
        """The transcripts' phrase times by side (more evidence for the channel layout), when known."""
        from audio.channel_detect import speaker_spans

        return tuple(span for doc in self.documents or () for span in speaker_spans(doc))

    # -- channel layout: waiting for the transcript's speaker times -----------------------------------
    def _layout_waiting(self) -> bool:
        return any(
            e.get("state") == "layout-wait" for p in self.profiles.values() for e in p.audio.items.values()
        )

    def _layout_evidence_coming(self) -> bool:
        """Whether a transcript (its speaker times) may still come: a profile wants it and it is not
        settled; or it is here and the DSP ran without it."""
        status = self.transcripts["status"]
        if status == "ready":
            return bool(self._speakers())
        return status in ("idle", "fetch") and bool(self._transcripts_needed())

    def _layout_wait(self, state: ProfileState, item: str, entry: dict[str, Any]) -> None:
        """A one-side export whose channels could not be told apart waits for the transcript: its
        speaker times are evidence the media alone may lack (a short IVR and queue). Once it is there the
        DSP runs again with it; when none comes, the item fails with the detection's reason."""
        status = self.transcripts["status"]
        if status == "ready" and self._speakers():
            entry["state"] = "dsp"
            entry["with_speakers"] = True
            logger.info(
                "Conversation %s, profile %s: telling %s's channels apart again with the transcript's "
                "speaker times",
                self.cid,
                state.name,
                item,
            )
        elif status in ("none", "failed", "ready"):
            why = self.transcripts.get("reason") or self.transcripts.get("error") or "no speaker times"
            self._item_failed(
                state, "audio", item, f"{entry.get('layout_error')} (no transcript to tell them apart: {why})"
            )

    def _want_audio_write(
        self,
        commands: list[Command],
        state: ProfileState,
        profile: Any,
        fmt: str,
        item: str,
        entry: dict[str, Any],
        now: float,
    ) -> None:
        key = f"write:{state.name}:{item}"
        if key in self.inflight:
            return
        assert self.data is not None
        if entry.get("target") is None:
            recording = self._recording(fmt, entry["recording"])
            view = next((o for o in state.outputs if o.item == item), None)
            try:
                target, metadata = self.planner.audio_target(self.data, profile, recording, view)
            except Exception as exc:  # a template that cannot render for this call fails only this file
                self._item_failed(state, "audio", item, classify(exc).message)
                return
            entry["target"], entry["metadata"] = str(target), metadata

        def build(rid: str, key: str) -> Work:
            return WriteFile(
                rid,
                key,
                now + 600.0,
                profile=state.name,
                item=item,
                target=Path(entry["target"]),
                source=Path(entry["source"]),
                strategy=profile.conflict_strategy,
                metadata=dict(entry.get("metadata") or {}),
                duration_s=entry.get("duration"),
            )

        self._want(commands, key, now, build)

    def _restart_source(self, fmt: str, why: str) -> None:
        logger.info("Conversation %s: fetching the %s recordings again (%s)", self.cid, fmt, why)
        self.sources[fmt] = {"status": "fetch", "fetcher": {}}
        for state in self.profiles.values():
            profile = self.planner.profile(state.name)
            if profile is None or state.audio.settled or self.planner.source_format(profile)[0] != fmt:
                continue
            state.audio.items = _kept_items(state.audio.items)
            state.audio.errors = []
            state.outputs = [
                o for o in state.outputs if state.audio.items.get(o.item, {}).get("state") == "written"
            ]

    # -- transcripts ---------------------------------------------------------------------------------
    def _transcripts_needed(self) -> list[ProfileState]:
        return [p for p in self.profiles.values() if not p.transcript.settled]

    def _advance_transcripts(self, commands: list[Command], now: float) -> None:
        waiting = self._transcripts_needed()
        if not waiting:
            return
        assert self.data is not None
        status = self.transcripts["status"]
        if status == "idle":
            reason = self._no_transcript_reason()
            if reason is not None:
                self.transcripts.update(status="none", reason=reason)
                status = "none"
        # a profile's transcript waits for its own audio (timelines) and its processing delay
        for p in waiting:
            if now < p.due_at:
                self.waits[f"due:{p.name}"] = (p.due_at, "processing delay")
        ready_profiles = [
            p
            for p in waiting
            if now >= p.due_at and (p.audio.settled or self.planner.profile(p.name) is None)
        ]
        if status in ("none", "failed"):
            for p in waiting:
                detail = self.transcripts.get("error") or self.transcripts.get("reason") or "no transcript"
                self._settle(p, "transcript", "failed" if status == "failed" else "skipped", detail)
            return
        if not ready_profiles and not self._layout_waiting():
            return
        if status in ("idle", "fetch"):
            if status == "idle" and self._learns:
                expected = self.job.finished_at + self.arrivals.first_wait("transcript")
                if expected > now:
                    self.waits["transcripts"] = (expected, "transcript: not expected yet")
            self.transcripts["status"] = "fetch"
            self._want(
                commands,
                "transcripts",
                now,
                lambda rid, key: AdvanceTranscripts(
                    rid, key, now + 300.0, fetcher_state=dict(self.transcripts.get("fetcher") or {})
                ),
            )
            return
        # ready: render and write per profile
        for state in ready_profiles:
            profile = self.planner.profile(state.name)
            if profile is None:
                self._settle(state, "transcript", "skipped", "the profile is no longer active")
                continue
            if not state.rendered:
                self._want(commands, f"render:{state.name}", now, self._render_command(state, now))
                continue
            kind = state.transcript
            for item, entry in kind.items.items():
                if entry["state"] == "write":
                    build = self._transcript_write_command(state, profile, item, entry, now)
                    self._want(commands, f"write:{state.name}:{item}", now, build)
            if all(e["state"] in SETTLED_WRITTEN for e in kind.items.values()):
                if kind.errors:
                    self._settle(state, "transcript", "failed", "; ".join(kind.errors))
                elif not kind.items:
                    self._settle(state, "transcript", "skipped", "nothing left after filtering")
                else:
                    self._settle(state, "transcript", "exported", "")

    def _render_command(self, state: ProfileState, now: float) -> Callable[[str, str], Work]:
        def build(rid: str, key: str) -> Work:
            return RenderTranscripts(
                rid,
                key,
                now + 300.0,
                profile=state.name,
                documents=tuple(self.documents or ()),
                outputs=tuple(state.outputs),
            )

        return build

    @staticmethod
    def _transcript_write_command(
        state: ProfileState, profile: Any, item: str, entry: dict[str, Any], now: float
    ) -> Callable[[str, str], Work]:
        def build(rid: str, key: str) -> Work:
            return WriteFile(
                rid,
                key,
                now + 600.0,
                profile=state.name,
                item=item,
                target=Path(entry["target"]),
                source=entry["data"],
                strategy=profile.conflict_strategy,
                metadata=dict(entry.get("metadata") or {}),
            )

        return build

    def _no_transcript_reason(self) -> str | None:
        assert self.data is not None
        if recording_expected(self.data.details) is False:
            return "the call was not recorded, so it has no transcript"
        untranscribed = self.planner.untranscribed(self.data)
        if untranscribed:
            return f"voice transcription is off on queue(s) {untranscribed}: no transcript will come"
        if self.sources and all(
            s["status"] == "ready" and not s.get("groups") and not s.get("unavailable")
            for s in self.sources.values()
        ):
            return "the call has no recording, so it has no transcript"
        return None

    # -- write-back ----------------------------------------------------------------------------------
    def _statuses(self) -> list[KindStatus]:
        statuses: list[KindStatus] = []
        for state in self.profiles.values():
            profile = self.planner.profile(state.name)
            root = str(profile.destination_root) if profile is not None else ""
            for kind_name, kind in (("audio", state.audio), ("transcript", state.transcript)):
                if kind.settled and not kind.reported:
                    continue
                status = kind.status if kind.settled and kind.status else "pending"
                statuses.append(
                    KindStatus(state.name, kind_name, status, root, tuple(kind.files), kind.detail)
                )
        return statuses

    def _writeback_due(self, now: float) -> bool:
        """The conversation's exports have settled: every audio is settled, and every transcript is
        settled or waiting for Genesys Cloud (not in the middle of being written)."""
        for state in self.profiles.values():
            if not state.audio.settled:
                return False
            if not state.transcript.settled and not self._transcript_waiting_long(now):
                return False
        return True

    def _transcript_waiting_long(self, now: float) -> bool:
        """Genesys Cloud has not produced the transcript for a while (nothing being written)."""
        if self.transcripts["status"] != "fetch" or "transcripts" in self.inflight:
            return False
        fetcher = self.transcripts.get("fetcher") or {}
        first_at = float(fetcher.get("started_at") or fetcher.get("first_at") or now)
        return now - first_at >= INTERIM_WRITEBACK_AFTER_S

    def _advance_writeback(self, commands: list[Command], now: float) -> None:
        if self.writeback_given_up or not self._writeback_due(now):
            return
        statuses = self._statuses()
        if not statuses:
            self.written_back = "nothing"
            return
        fingerprint = _fingerprint(statuses)
        if fingerprint == self.written_back:
            return
        assert self.data is not None
        from export.output_plan import customer_participant_id

        participant = customer_participant_id(self.data)
        self._want(
            commands,
            "writeback",
            now,
            lambda rid, key: WriteBack(
                rid,
                key,
                now + 300.0,
                statuses=tuple(statuses),
                participant_id=participant,
                record=self.job.source != "backfill" or self.settings.backfill_status_record,
            ),
        )

    # -- completion ----------------------------------------------------------------------------------
    def _all_done(self) -> bool:
        if self.inflight or not self.planned:
            return False
        if any(not (p.audio.settled and p.transcript.settled) for p in self.profiles.values()):
            return False
        return self.writeback_given_up or self.written_back in ("nothing", _fingerprint(self._statuses()))

    def _finish(self) -> None:
        failed = [
            f"{p.name}: {'; '.join(p.audio.errors + p.transcript.errors) or p.audio.detail or p.transcript.detail}"
            for p in self.profiles.values()
            if "failed" in (p.audio.status, p.transcript.status)
        ]
        self.outcome = ("failed", " | ".join(failed)) if failed else ("done", "")
        self.waits.clear()

    def _settle(self, state: ProfileState, kind_name: str, status: str, detail: str) -> None:
        kind = state.audio if kind_name == "audio" else state.transcript
        if kind.settled:
            return
        kind.status, kind.detail = status, detail
        kind.files = sorted(
            {
                Path(e["path"]).name
                for e in kind.items.values()
                if e.get("state") == "written" and e.get("path")
            }
        )
        self.ledger.set_profile_status(self.cid, state.name, kind_name, status, detail)
        if status == "failed":
            logger.error(
                "Conversation %s, profile %s: %s export failed: %s", self.cid, state.name, kind_name, detail
            )
        elif status == "skipped":
            logger.info(
                "Conversation %s, profile %s: %s skipped: %s", self.cid, state.name, kind_name, detail
            )

    def _item_failed(self, state: ProfileState, kind_name: str, item: str, error: str) -> None:
        kind = state.audio if kind_name == "audio" else state.transcript
        kind.items.setdefault(item, {})["state"] = "failed"
        kind.items[item]["error"] = error
        kind.errors.append(error)
        logger.error("Conversation %s, profile %s: giving up on %s: %s", self.cid, state.name, item, error)

    # -- replies -------------------------------------------------------------------------------------
    def _succeeded(self, key: str) -> None:
        record = self.failures.pop(key, None)
        if record is not None:
            self.reporter.recovered(record["cause"], f"Conversation {self.cid}: {key} works again")

    def _replied(self, work: Work, result: Any, now: float) -> None:
        missed_at = (self.failures.get(work.key) or {}).get("missed_at")
        self._succeeded(work.key)
        if isinstance(work, FetchContext):
            self.data = result
            if self._learns:
                first = not self._context_retried  # no "not ready" answer before this one
                missed_s = None if missed_at is None else float(missed_at) - self.job.finished_at
                self.arrivals.record("analytics", now - self.job.finished_at, first, missed_s)
            logger.debug("Conversation %s: context fetched", self.cid)
        elif isinstance(work, AdvanceRecordings):
            self._recordings_progress(work, result, now)
        elif isinstance(work, PrepareSources):
            source = self.sources[work.format_id]
            source["groups"] = [[item, str(path), rec, merged] for item, path, rec, merged in result]
            source["status"] = "ready"
        elif isinstance(work, RunDsp):
            self._dsp_done(work, result)
        elif isinstance(work, WriteFile):
            self._written(work, result)
        elif isinstance(work, AdvanceTranscripts):
            self._transcripts_progress(result, now)
        elif isinstance(work, RenderTranscripts):
            self._rendered(work, result)
        elif isinstance(work, WriteBack):
            self.written_back = _fingerprint(list(work.statuses))
            logger.info(
                "Conversation %s: export status written back to Genesys Cloud (%s)",
                self.cid,
                ", ".join(f"{s.profile} {s.kind} {s.status}" for s in work.statuses),
            )

    def _recordings_progress(self, work: AdvanceRecordings, progress: RecordingsProgress, now: float) -> None:
        source = self.sources[work.format_id]
        source["fetcher"] = progress.state
        if progress.waiting_s is not None:
            first_at = float(progress.state.get("first_at") or now)
            if now - first_at > self.settings.recording_wait_s:
                source.update(
                    status="failed",
                    error=f"recordings not ready within {self.settings.recording_wait_s:.0f} s: {progress.reason}",
                )
                return
            self.waits[work.key] = (now + progress.waiting_s, f"recordings: {progress.reason}")
            return
        for rid, reason in progress.unavailable:
            logger.error("Conversation %s: recording %s cannot be exported: %s", self.cid, rid, reason)
        if self.data is not None and not self.data.recordings and progress.files:
            # the recordings step read the recordings (metadata included): the transcripts and file
            # names need them, and the export never asks Genesys Cloud for them again
            self.data = dataclasses.replace(self.data, recordings=tuple(rec for rec, _ in progress.files))
        source.update(
            status="prepare" if progress.files else "ready",
            files=[[rec, str(path)] for rec, path in progress.files],
            unavailable=[list(u) for u in progress.unavailable],
            note=progress.note,
            groups=[],
        )

    def _dsp_done(self, work: RunDsp, outputs: tuple[Any, ...]) -> None:
        state = self.profiles[work.profile]
        kind = state.audio
        entry = kind.items.get(work.item)
        if entry is None or entry["state"] != "dsp":
            return
        if not outputs:
            logger.info(
                "Conversation %s, profile %s: the segment filter leaves no audio in recording %s",
                self.cid,
                work.profile,
                entry["recording"],
            )
            kind.items[work.item] = {**entry, "state": "empty"}
            return
        if not (len(outputs) == 1 and getattr(outputs[0], "segment", None) is None):
            entry["state"] = "split"
        for index, output in enumerate(outputs):
            sub = work.item if entry["state"] != "split" else f"{work.item}:{index + 1}"
            if kind.items.get(sub, {}).get("state") == "written" and sub != work.item:
                continue
            kind.items[sub] = {
                "state": "write",
                "recording": entry["recording"],
                "source": str(output.path),
                "duration": getattr(output, "duration_s", None),
            }
            state.outputs = [o for o in state.outputs if o.item != sub]
            state.outputs.append(OutputView.of(sub, entry["recording"], output))

    def _written(self, work: WriteFile, result: Any) -> None:
        state = self.profiles[work.profile]
        kind = state.audio if work.item.startswith("audio:") else state.transcript
        entry = kind.items.get(work.item)
        if entry is None:
            return
        entry["state"] = "written" if result.path is not None else "skipped"
        entry["path"] = str(result.path) if result.path is not None else None
        entry.pop("data", None)

    def _transcripts_progress(self, progress: TranscriptProgress, now: float) -> None:
        self.transcripts["fetcher"] = progress.state
        if progress.waiting_s is not None:
            self.waits["transcripts"] = (now + progress.waiting_s, f"transcript: {progress.reason}")
            return
        if progress.documents:
            self.documents = tuple(progress.documents)
            if self._learns:
                # found at the first ask unless an ask answered "not there yet" (errors do not count)
                first = not int(progress.state.get("attempts") or 0)
                asked = progress.state.get("started_at")  # the first ask, which missed unless `first`
                missed_s = float(asked) - self.job.finished_at if isinstance(asked, int | float) else None
                self.arrivals.record("transcript", now - self.job.finished_at, first, missed_s)
            self.transcripts.update(status="ready", error=progress.error)
            return
        self.transcripts.update(
            status="failed" if progress.error else "none",
            reason=progress.reason or "no transcript for this conversation",
            error=progress.error,
        )

    def _rendered(
        self, work: RenderTranscripts, rendered: list[tuple[str, Path, bytes, dict[str, str]]]
    ) -> None:
        state = self.profiles[work.profile]
        state.rendered = True
        kind = state.transcript
        for item, target, data, metadata in rendered:
            if kind.items.get(item, {}).get("state") == "written":
                continue
            kind.items[item] = {"state": "write", "target": str(target), "data": data, "metadata": metadata}
        if self.transcripts.get("error"):
            kind.errors.append(str(self.transcripts["error"]))

    # -- failures ------------------------------------------------------------------------------------
    def _failed(self, work: Work, error: BaseException, now: float) -> None:
        if isinstance(error, NotReady):
            self._not_ready(work, error, now)
            return
        if isinstance(work, RunDsp) and self._layout_refused(work, error):
            return
        where = self._where(work)
        failure = classify(error, where=where)
        if failure.kind == "resend":
            lost = self.failures.setdefault(
                work.key, {"attempts": 0, "first_at": now, "cause": failure.cause}
            )
            lost["lost"] = int(lost.get("lost", 0)) + 1
            if lost["lost"] <= MAX_LOST_WORKERS:
                self.resends += 1
                logger.info(
                    "Conversation %s: %s was lost (%s); sending it again", self.cid, work.key, failure.message
                )
                return
            # the work itself kills its worker (a recording that crashes the decoder): a bounded failure
            failure = Failure("bounded", failure.cause, f"{failure.message} ({lost['lost']} times)")
        record = self.failures.setdefault(work.key, {"attempts": 0, "first_at": now, "cause": failure.cause})
        record["attempts"] += 1
        record["cause"] = failure.cause
        attempts = int(record["attempts"])
        line = f"Conversation {self.cid}: {work.key} failed (attempt {attempts}): {failure.message}"
        if failure.kind == "recoverable":
            if now - float(record["first_at"]) < self.settings.recoverable_horizon_s:
                delay = failure.policy.delay(attempts)
                self.waits[work.key] = (now + delay, f"retry after {failure.cause}")
                self.reporter.failed(failure.cause, f"{line}; retrying in {delay:.0f} s")
                return
            message = f"gave up after {self.settings.recoverable_horizon_s / 3600:.0f} h of {failure.cause}: {failure.message}"
        elif failure.kind == "bounded" and attempts <= self._retry_cap(work):
            delay = failure.policy.delay(attempts)
            self.waits[work.key] = (now + delay, f"retry after {failure.cause}")
            logger.warning("%s; retrying in %.0f s", line, delay)
            if isinstance(work, RunDsp) and failure.cause == "media":
                self._restart_source(
                    self._format_of(work.profile), "the downloaded media could not be decoded"
                )
            return
        else:
            message = failure.message
        self.failures.pop(work.key, None)
        self._permanent(work, message)

    def _layout_refused(self, work: RunDsp, error: BaseException) -> bool:
        """A one-side export refused for an undetectable channel layout waits for the transcript's
        speaker times when they may still come (once per item); True when it does."""
        from audio.errors import ChannelLayoutError

        state = self.profiles.get(work.profile)
        entry = state.audio.items.get(work.item) if state is not None else None
        if not isinstance(error, ChannelLayoutError) or entry is None or entry.get("with_speakers"):
            return False
        if work.speakers or not self._layout_evidence_coming():
            return False
        entry["state"] = "layout-wait"
        entry["layout_error"] = str(error)
        logger.info(
            "Conversation %s, profile %s: %s; waiting for the transcript's speaker times",
            self.cid,
            work.profile,
            error,
        )
        return True

    def _not_ready(self, work: Work, error: NotReady, now: float) -> None:
        self._context_retried = True
        first = self.context_first_at if self.context_first_at is not None else now
        if now - first > self.settings.analytics_wait_s:
            self._permanent(work, f"gave up waiting after {self.settings.analytics_wait_s:.0f} s: {error}")
            return
        record = self.failures.setdefault(work.key, {"attempts": 0, "first_at": now, "cause": "not ready"})
        record["attempts"] += 1
        record.setdefault("missed_at", now)  # the first ask that missed (the arrival estimate learns it)
        delay = SOON.delay(int(record["attempts"]))
        self.waits[work.key] = (now + delay, "analytics details not available yet")
        logger.debug("Conversation %s: %s; next try in %.1f s", self.cid, error, delay)

    def _retry_cap(self, work: Work) -> int:
        profile = self.planner.profile(getattr(work, "profile", "") or "")
        if profile is not None:
            return int(profile.retry_count)
        return max((int(p.retry_count) for p in self.planner.profiles), default=3)

    def _format_of(self, profile_name: str) -> str:
        profile = self.planner.profile(profile_name)
        return self.planner.source_format(profile)[0] if profile is not None else "WAV"

    def _where(self, work: Work) -> str:
        if isinstance(work, WriteFile):
            profile = self.planner.profile(work.profile)
            return str(profile.destination_root) if profile is not None else ""
        return ""

    def _permanent(self, work: Work, message: str) -> None:
        if isinstance(work, FetchContext):
            logger.error("Conversation %s: cannot export: %s", self.cid, message)
            self.outcome = ("failed", message)
        elif isinstance(work, AdvanceRecordings | PrepareSources):
            self.sources[work.format_id].update(status="failed", error=message)
        elif isinstance(work, RunDsp | WriteFile):
            state = self.profiles[work.profile]
            self._item_failed(
                state, "audio" if work.item.startswith("audio:") else "transcript", work.item, message
            )
        elif isinstance(work, AdvanceTranscripts):
            self.transcripts.update(status="failed", error=message)
        elif isinstance(work, RenderTranscripts):
            state = self.profiles[work.profile]
            state.rendered = True
            state.transcript.errors.append(message)
            logger.error("Conversation %s, profile %s: transcript: %s", self.cid, work.profile, message)
        elif isinstance(work, WriteBack):
            logger.error("Conversation %s: giving up writing the export status back: %s", self.cid, message)
            self.writeback_given_up = True


def _kept_items(items: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What survives fetching a recording again: written files, and split parents whose every part
    is written (their other parts are produced again)."""
    kept = {k: v for k, v in items.items() if v["state"] == "written"}
    for key, entry in items.items():
        if entry["state"] == "split":
            parts = [k for k in items if k.startswith(key + ":")]
            if parts and all(k in kept for k in parts):
                kept[key] = entry
    return kept


def _fingerprint(statuses: list[KindStatus]) -> str:
    text = json.dumps(
        [[s.profile, s.kind, s.status, list(s.files), s.detail] for s in statuses], sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]
