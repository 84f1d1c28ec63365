"""A thread-free world for the export state machine: real profiles, real simulator documents, a real
ledger, and a scripted pipeline that answers the machine's commands (with faults on demand)."""

from __future__ import annotations

import errno
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim_world_fixtures import call_of_kind, org

import profiles
from audio.export import AudioOutput
from audio.timemap import ExportTimeline, MediaClock, TimeMap
from export.arrival import ArrivalEstimator
from export.commands import (
    AdvanceRecordings,
    AdvanceTranscripts,
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
from export.events import Expired, Failed, Replied, TimerFired
from export.failures import FailureReporter
from export.machine import ConversationExport, JobInfo, MachineSettings
from export.planner import Planner
from export.steps import ConversationData, RecordingsProgress, TranscriptProgress
from export.write_once import WriteOutcome
from ledger import Ledger
from messages.config import ConfigSnapshot
from simulator import documents
from storage.sequence import SequenceStore
from transcripts.parse import load_transcript

T0 = 1_800_000_000.0


def snapshot(*profile_docs: dict[str, Any]) -> ConfigSnapshot:
    loaded = profiles.load_config(json.dumps({"Profiles": list(profile_docs)}))
    assert not loaded.errors, loaded.errors
    the_org = org()
    queues = {q.id: q.name for q in the_org.all_queues()}
    return ConfigSnapshot(
        version=1,
        config=loaded.config,
        queue_ids={name: qid for qid, name in queues.items()},
        queue_names=queues,
        transcribed_queue_ids=frozenset(queues),
    )


def profile(name: str, root: Path, **keys: Any) -> dict[str, Any]:
    doc = {
        "Name": name,
        "Active": True,
        "DestinationRoot": str(root),
        "DirectoryStructureMode": "NoSubdirectory",
        "Queues": [q.name for q in org().all_queues()],
        "ProcessingDelaySeconds": 0,
        "AudioFileTemplate": "{Conversation.Id}_{Recording.Id}.{FileExtension}",
        "TranscriptionFileTemplate": "{Conversation.Id}_{Transcript.Id}.{FileExtension}",
    }
    doc.update(keys)
    return doc


def conversation_data(kind: str = "inbound_simple") -> tuple[Any, ConversationData]:
    call = call_of_kind(kind)
    the_org = org()
    data = ConversationData(
        call.conversation_id,
        documents.analytics_details(call, the_org),
        documents.conversation(call, the_org),
        tuple(documents.recording_metadata(call, rec, the_org) for rec in call.recordings),
        {},
    )
    return call, data


@dataclass
class World:
    """Answers the machine's commands like the real pipeline would, and records what happened."""

    tmp: Path
    call: Any
    data: ConversationData
    now: float = T0
    fail: dict[str, list[BaseException | str]] = field(default_factory=dict)  # key prefix -> queued faults
    transcript_waits: int = 0  # AdvanceTranscripts answers "not yet" this many times
    transcript_never: bool = False
    no_recording: bool = False
    written: Counter[tuple[str, str]] = field(default_factory=Counter)  # (profile, item) -> real writes
    writebacks: list[tuple[Any, ...]] = field(default_factory=list)
    commands: list[Any] = field(default_factory=list)
    parks: list[Park] = field(default_factory=list)
    late: list[Any] = field(default_factory=list)  # replies held back to deliver late

    def fault_for(self, key: str) -> BaseException | str | None:
        for prefix, faults in self.fail.items():
            if key.startswith(prefix) and faults:
                return faults.pop(0)
        return None

    def answer(self, work: Work) -> Any:
        fault = self.fault_for(work.key)
        if fault == "expire":
            return Expired(work.request_id)
        if fault == "late":  # the reply comes after the re-send: a late duplicate
            self.late.append(Replied(work.request_id, self._result(work)))
            return Expired(work.request_id)
        if isinstance(fault, BaseException):
            return Failed(work.request_id, fault)
        return Replied(work.request_id, self._result(work))

    def _result(self, work: Work) -> Any:
        if isinstance(work, FetchContext):
            return self.data
        if isinstance(work, AdvanceRecordings):
            if self.no_recording:
                return RecordingsProgress(note="no recording appeared", state={"first_at": self.now})
            files = []
            for rec in self.data.recordings:
                path = self.tmp / "src" / f"{rec['id']}.wav"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(b"RIFF" + rec["id"].encode())
                files.append((dict(rec, startTime=rec.get("startTime") or rec["endTime"]), path))
            return RecordingsProgress(files=tuple(files), state={"first_at": self.now})
        if isinstance(work, PrepareSources):
            return tuple((f"audio:{rec['id']}", path, rec, False) for rec, path in work.files)
        if isinstance(work, RunDsp):
            out = work.work_dir / "out.mp3"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(b"ID3" + work.item.encode())
            timeline = ExportTimeline(MediaClock(int(self.now * 1000) - 60_000), TimeMap.identity(60.0))
            return (AudioOutput(out, "MP3", 60.0, timeline, sides=("external", "internal")),)
        if isinstance(work, WriteFile):
            key = (work.profile, work.item)
            if self.written[key]:
                return WriteOutcome(work.target, 1, "already written")
            self.written[key] += 1
            return WriteOutcome(work.target, 1, "written")
        if isinstance(work, AdvanceTranscripts):
            if self.transcript_never:
                first = work.fetcher_state.get("first_at", self.now)
                if self.now - first > 3600:
                    return TranscriptProgress(reason="no transcript within 3600s", state=work.fetcher_state)
                return TranscriptProgress(waiting_s=300.0, reason="404", state={"first_at": first})
            if self.transcript_waits > 0:
                self.transcript_waits -= 1
                first = work.fetcher_state.get("first_at", self.now)
                return TranscriptProgress(waiting_s=30.0, reason="not yet (404)", state={"first_at": first})
            ids = documents.transcript_communication_ids(self.call)
            docs = tuple(
                load_transcript(json.dumps(documents.transcript_document(self.call, org(), c))) for c in ids
            )
            return TranscriptProgress(documents=docs, state=work.fetcher_state)
        if isinstance(work, RenderTranscripts):
            return [
                (f"transcript:{v.item}", self.tmp / "out" / f"{v.item}.vtt", b"WEBVTT", {})
                for v in work.outputs
            ] or [("transcript:c", self.tmp / "out" / "c.vtt", b"WEBVTT", {})]
        if isinstance(work, WriteBack):
            self.writebacks.append(work.statuses)
            return None
        raise AssertionError(f"unexpected {work!r}")


def new_machine(
    tmp: Path,
    snap: ConfigSnapshot,
    data: ConversationData,
    ledger: Ledger,
    *,
    durable: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    settings: MachineSettings | None = None,
    finished_at: float = T0,
) -> ConversationExport:
    planner = Planner(snap, SequenceStore(tmp / "seq"), ledger)
    return ConversationExport(
        JobInfo(data.conversation_id, (), finished_at),
        planner,
        ledger,
        tmp / "work",
        settings or MachineSettings(),
        durable=durable,
        context=context,
        reporter=FailureReporter(),
        arrivals=ArrivalEstimator(),
    )


def drive(
    machine: ConversationExport,
    world: World,
    *,
    max_steps: int = 2000,
    on_park: Callable[[ConversationExport, Park], ConversationExport] | None = None,
) -> tuple[ConversationExport, Finish]:
    """Run the machine against the world until it finishes; parks restore a new machine from the
    durable state (as a wake-up by the scheduler would) unless `on_park` says otherwise."""
    queue = list(machine.start(world.now))
    timer: float | None = None
    for _ in range(max_steps):
        if not queue:  # nothing to execute now: time passes until the armed timer
            if timer is None:
                raise AssertionError("the machine stalled: no command, no timer and not finished")
            world.now, timer = max(world.now, timer), None
            queue.extend(machine.handle(TimerFired(), world.now))
            continue
        command = queue.pop(0)
        world.commands.append(command)
        if isinstance(command, Finish):
            return machine, command
        if isinstance(command, Park):
            world.parks.append(command)
            assert command.until > world.now
            assert not any(isinstance(c, Work) for c in queue), "parked with work in flight"
            queue.clear()  # the actor stops: anything after the park is for the next run
            timer = None
            durable, context = machine.durable(), machine.context_json()
            json.dumps(durable)  # must be JSON-able: it goes to the ledger
            world.now = command.until
            machine = (
                on_park(machine, command)
                if on_park
                else new_machine(
                    world.tmp,
                    machine.planner.snapshot,
                    world.data,
                    machine.ledger,
                    durable=durable,
                    context=context,
                )  # type: ignore[attr-defined]
            )
            queue = list(machine.start(world.now))
            continue
        if isinstance(command, Schedule):
            timer = command.at if timer is None else min(timer, command.at)
            continue
        event = world.answer(command)
        queue.extend(machine.handle(event, world.now))
        while world.late:
            queue.extend(machine.handle(world.late.pop(0), world.now))
    raise AssertionError("the machine did not finish")


def storage_error(code: int = errno.EACCES) -> OSError:
    from storage.write import DestinationError

    cause = OSError(code, "Permission denied" if code == errno.EACCES else "error")
    try:
        raise DestinationError("cannot write /share/x.wav") from cause
    except DestinationError as exc:
        return exc
