"""The export state machine, driven without threads or actors: every path, every event in every state."""

from __future__ import annotations

import errno
import json
import random

import pytest
from export_machine_fixtures import (
    T0,
    World,
    conversation_data,
    drive,
    new_machine,
    profile,
    snapshot,
    storage_error,
)

from export.commands import Finish, Park, RunDsp, WriteBack, WriteFile
from export.events import Expired, Replied
from export.machine import MachineSettings
from export.steps import NotReady
from genesys.errors import Forbidden, TransientError
from ledger import Ledger


@pytest.fixture
def ledger(tmp_path):
    led = Ledger(tmp_path / "ledger.sqlite3")
    yield led
    led.close()


def setup(tmp_path, ledger, *profiles, kind="inbound_simple", **world):
    call, data = conversation_data(kind)
    snap = snapshot(*profiles)
    return new_machine(tmp_path, snap, data, ledger), World(tmp_path, call, data, **world)


def audio_items(world):
    return {item for (_, item) in world.written if item.startswith("audio:")}


def test_audio_and_transcript_exported_with_one_writeback(tmp_path, ledger):
    machine, world = setup(
        tmp_path,
        ledger,
        profile("Archive", tmp_path / "out", TranscriptExportEnabled=True, AudioFormat="MP3"),
    )
    machine, finish = drive(machine, world)
    assert finish == Finish("done", "")
    assert len(audio_items(world)) == len(world.call.recordings)
    assert any(item.startswith("transcript:") for (_, item) in world.written)
    assert len(world.writebacks) == 1
    statuses = {(s.kind, s.status) for s in world.writebacks[0]}
    assert statuses == {("audio", "exported"), ("transcript", "exported")}
    assert ledger.profile_status(world.data.conversation_id, "Archive", "audio") == "exported"


def test_four_profiles_are_written_back_in_one_update(tmp_path, ledger):
    profs = [
        profile(f"P{i}", tmp_path / f"out{i}", TranscriptExportEnabled=True, AudioFormat="MP3")
        for i in range(4)
    ]
    machine, world = setup(tmp_path, ledger, *profs)
    _, finish = drive(machine, world)
    assert finish.outcome == "done"
    assert len(world.writebacks) == 1 and len(world.writebacks[0]) == 8
    assert sum(1 for c in world.commands if isinstance(c, WriteBack)) == 1


def test_late_transcript_parks_writes_the_audio_status_then_updates_it_once(tmp_path, ledger):
    machine, world = setup(
        tmp_path,
        ledger,
        profile("Archive", tmp_path / "out", TranscriptExportEnabled=True, AudioFormat="MP3"),
        transcript_waits=5,
    )
    _, finish = drive(machine, world)
    assert finish.outcome == "done"
    assert world.parks and all("transcript" in p.reason for p in world.parks)
    assert [{(s.kind, s.status) for s in wb} for wb in world.writebacks] == [
        {("audio", "exported"), ("transcript", "pending")},
        {("audio", "exported"), ("transcript", "exported")},
    ]
    # the audio was written before the first park: it never waited for the transcript
    first_park = world.commands.index(world.parks[0])
    assert all(
        not isinstance(c, WriteFile) or c.item.startswith("transcript:") for c in world.commands[first_park:]
    )


def test_transcript_that_never_comes_is_skipped_after_the_wait(tmp_path, ledger):
    machine, world = setup(
        tmp_path,
        ledger,
        profile("Archive", tmp_path / "out", TranscriptExportEnabled=True, AudioFormat="MP3"),
        transcript_never=True,
    )
    _, finish = drive(machine, world)
    assert finish.outcome == "done"
    final = {(s.kind, s.status) for s in world.writebacks[-1]}
    assert final == {("audio", "exported"), ("transcript", "skipped")}
    assert world.now - T0 > 3600


def test_a_call_without_recording_is_skipped_for_audio_and_transcript(tmp_path, ledger):
    machine, world = setup(
        tmp_path,
        ledger,
        profile("Archive", tmp_path / "out", TranscriptExportEnabled=True),
        no_recording=True,
    )
    _, finish = drive(machine, world)
    assert finish.outcome == "done"
    assert not world.written
    assert {(s.kind, s.status) for s in world.writebacks[0]} == {
        ("audio", "skipped"),
        ("transcript", "skipped"),
    }


def test_a_dsp_error_is_retried_and_the_export_finishes(tmp_path, ledger):
    machine, world = setup(tmp_path, ledger, profile("Archive", tmp_path / "out", NormalizeLoudness=True))
    world.fail["dsp:"] = [RuntimeError("encoder hiccup"), RuntimeError("encoder hiccup")]
    _, finish = drive(machine, world)
    assert finish.outcome == "done"
    assert sum(1 for c in world.commands if isinstance(c, RunDsp)) == len(world.call.recordings) + 2


def test_a_persistent_dsp_error_fails_only_that_profiles_audio_with_the_cause(tmp_path, ledger):
    machine, world = setup(
        tmp_path,
        ledger,
        profile("QA", tmp_path / "qa", AudioFormat="MP3", NormalizeLoudness=True, RetryCount=2),
        profile("Archive", tmp_path / "out", AudioFormat="WAV"),
    )
    world.fail["dsp:QA"] = [RuntimeError("the encoder crashed")] * 10
    _, finish = drive(machine, world)
    assert finish.outcome == "failed" and "QA" in finish.detail and "Archive" not in finish.detail
    by_profile = {(s.profile, s.kind): s for s in world.writebacks[-1]}
    assert by_profile[("QA", "audio")].status == "failed"
    assert "the encoder crashed" in by_profile[("QA", "audio")].detail
    assert by_profile[("Archive", "audio")].status == "exported"
    assert len(world.fail["dsp:QA"]) == 10 - 3  # the first try and RetryCount (2) retries


def test_an_unwritable_share_is_retried_until_it_heals(tmp_path, ledger):
    machine, world = setup(tmp_path, ledger, profile("Archive", tmp_path / "out"))
    world.fail["write:"] = [storage_error(errno.EACCES)] * 12 + [storage_error(errno.ENOTDIR)] * 3
    _, finish = drive(machine, world)
    assert finish.outcome == "done"
    assert world.parks and all("storage" in p.reason for p in world.parks)
    assert audio_items(world) == {f"audio:{r.recording_id}" for r in world.call.recordings}


def test_an_unwritable_share_beyond_the_horizon_fails_with_the_cause(tmp_path, ledger):
    call, data = conversation_data()
    machine = new_machine(
        tmp_path,
        snapshot(profile("Archive", tmp_path / "out")),
        data,
        ledger,
        settings=MachineSettings(recoverable_horizon_s=1800.0),
    )
    world = World(tmp_path, call, data)
    world.fail["write:"] = [storage_error(errno.EACCES)] * 1000

    def restore(old, park):
        return new_machine(
            tmp_path,
            old.planner.snapshot,
            data,
            ledger,
            durable=old.durable(),
            context=old.context_json(),
            settings=MachineSettings(recoverable_horizon_s=1800.0),
        )

    _, finish = drive(machine, world, on_park=restore)
    assert finish.outcome == "failed" and "gave up after" in finish.detail
    assert world.now - T0 >= 1800


def test_a_missing_permission_fails_at_once(tmp_path, ledger):
    machine, world = setup(tmp_path, ledger, profile("Archive", tmp_path / "out"))
    world.fail["recordings:"] = [Forbidden("GET /api/v2/conversations/{id}/recordings", 403)]
    _, finish = drive(machine, world)
    assert finish.outcome == "failed" and "missing permission" in finish.detail
    assert not world.parks


def test_genesys_outage_is_waited_out(tmp_path, ledger):
    machine, world = setup(tmp_path, ledger, profile("Archive", tmp_path / "out"))
    world.fail["context"] = [TransientError("GET details", 503)] * 6
    world.fail["writeback"] = [TransientError("PATCH attributes", 502)] * 3
    _, finish = drive(machine, world)
    assert finish.outcome == "done" and len(world.writebacks) == 1


def test_a_template_that_cannot_render_fails_only_its_file(tmp_path, ledger):
    machine, world = setup(
        tmp_path,
        ledger,
        profile(
            "Bad",
            tmp_path / "bad",
            DirectoryStructureMode="PathTemplate",
            PathTemplate="/".join(["{Recording.Id}"] * 30),  # longer than any share takes
        ),
        profile("Good", tmp_path / "good"),
    )
    _, finish = drive(machine, world)
    assert finish.outcome == "failed" and "Bad" in finish.detail
    assert {p for (p, _) in world.written} == {"Good"}


def test_analytics_lag_waits_then_gives_up_after_the_bound(tmp_path, ledger):
    machine, world = setup(tmp_path, ledger, profile("Archive", tmp_path / "out"))
    world.fail["context"] = [NotReady("analytics details not available yet")] * 100
    _, finish = drive(machine, world)
    assert finish.outcome == "failed" and "gave up waiting" in finish.detail
    assert world.parks  # the wait held no slot


def test_out_of_scope_and_already_exported(tmp_path, ledger):
    machine, world = setup(tmp_path, ledger, profile("Elsewhere", tmp_path / "out", Queues=["No such queue"]))
    assert drive(machine, world)[1].outcome == "out_of_scope"
    call, data = conversation_data()
    ledger.set_profile_status(data.conversation_id, "Archive", "audio", "exported")
    machine = new_machine(tmp_path, snapshot(profile("Archive", tmp_path / "out")), data, ledger)
    world = World(tmp_path, call, data)
    assert drive(machine, world)[1].outcome == "already_exported"
    assert not world.written


def test_partial_profiles_only_the_missing_one_is_exported(tmp_path, ledger):
    call, data = conversation_data()
    ledger.set_profile_status(data.conversation_id, "A", "audio", "exported")
    snap = snapshot(profile("A", tmp_path / "a"), profile("B", tmp_path / "b"))
    machine = new_machine(tmp_path, snap, data, ledger)
    world = World(tmp_path, call, data)
    assert drive(machine, world)[1].outcome == "done"
    assert {p for (p, _) in world.written} == {"B"}
    assert {s.profile for s in world.writebacks[0]} == {"B"}


def test_lost_replies_are_resent_and_late_duplicates_ignored(tmp_path, ledger):
    machine, world = setup(tmp_path, ledger, profile("Archive", tmp_path / "out", NormalizeLoudness=True))
    world.fail["dsp:"] = ["expire", "late"]
    world.fail["write:"] = ["late", "expire"]
    world.fail["writeback"] = ["late"]
    machine, finish = drive(machine, world)
    assert finish.outcome == "done"
    assert machine.resends == 5
    assert all(n == 1 for n in world.written.values())
    assert len(world.writebacks) == 2  # the late one and the re-send: identical, idempotent


def test_resume_after_a_crash_redoes_only_what_was_not_done(tmp_path, ledger):
    call, data = conversation_data()
    snap = snapshot(profile("Archive", tmp_path / "out", AudioFormat="MP3"))
    machine = new_machine(tmp_path, snap, data, ledger)
    world = World(tmp_path, call, data)
    queue = list(machine.start(world.now))
    while not any(isinstance(c, WriteFile) for c in queue):  # run until the first write is asked for
        command = queue.pop(0)
        queue.extend(machine.handle(world.answer(command), world.now))
    # the process dies here: a new machine from the durable state asks for the writes, not the DSP again
    restored = new_machine(
        tmp_path, snap, data, ledger, durable=machine.durable(), context=machine.context_json()
    )
    again = restored.start(world.now)
    assert any(isinstance(c, WriteFile) for c in again)
    assert not any(isinstance(c, RunDsp) for c in again if c.key.endswith(queue[0].item))  # type: ignore[union-attr]
    queue = again
    while queue:
        command = queue.pop(0)
        if isinstance(command, Finish):
            assert command.outcome == "done"
            break
        if hasattr(command, "request_id"):
            queue.extend(restored.handle(world.answer(command), world.now))


@pytest.mark.parametrize("seed", range(12))
def test_any_mix_of_faults_ends_with_every_file_written_once(tmp_path, ledger, seed):
    """Every event in every state: replies duplicated, lost (re-sent), late, recoverable failures,
    timers at any time, parks and restores: the export still ends done with each file written once."""
    rng = random.Random(seed)
    call, data = conversation_data(rng.choice(["inbound_simple", "multi_recording", "blind_transfer"]))
    snap = snapshot(
        profile("Archive", tmp_path / "out", TranscriptExportEnabled=True),
        profile(
            "QA", tmp_path / "qa", AudioFormat="MP3", TranscriptExportEnabled=True, TranscriptFormat="SRT"
        ),
    )
    machine = new_machine(tmp_path, snap, data, ledger)
    world = World(tmp_path, call, data, transcript_waits=rng.randint(0, 4))
    for prefix in ("context", "recordings", "prepare", "dsp", "write", "transcripts", "render", "writeback"):
        world.fail[prefix] = [
            rng.choice(["expire", "late", TransientError("x", 503), storage_error(), None, None])
            for _ in range(rng.randint(0, 4))
        ]
        world.fail[prefix] = [f for f in world.fail[prefix] if f is not None]
    original = world.answer

    def answer(work):
        event = original(work)
        if isinstance(event, Replied) and rng.random() < 0.2:
            world.late.append(event)  # the same reply delivered twice
        return event

    world.answer = answer  # type: ignore[method-assign]
    machine, finish = drive(machine, world)
    assert finish.outcome == "done", finish
    assert all(n == 1 for n in world.written.values())
    expected_audio = {f"audio:{r.recording_id}" for r in call.recordings}
    for name in ("Archive", "QA"):
        assert {i for (p, i) in world.written if p == name and i.startswith("audio:")} == expected_audio
    json.dumps(machine.durable())


def test_events_after_finish_and_unknown_ids_change_nothing(tmp_path, ledger):
    machine, world = setup(tmp_path, ledger, profile("Archive", tmp_path / "out"))
    machine, finish = drive(machine, world)
    assert machine.handle(Replied("nobody", None), world.now) == []
    assert machine.handle(Expired("nobody"), world.now) == []
    assert machine.finished and finish.outcome == "done"


def test_nothing_to_do_but_wait_parks_instead_of_holding_a_slot(tmp_path, ledger):
    call, data = conversation_data()
    machine = new_machine(
        tmp_path, snapshot(profile("Archive", tmp_path / "out", ProcessingDelaySeconds=300)), data, ledger
    )
    commands = machine.start(T0)
    assert commands == [Park(T0 + 300, "processing delay")]


# -- channel layout: the transcript's speaker times as evidence -------------------------------------------
def qa_profile(root, **keys):
    settings = {
        "AudioFormat": "MP3",
        "ParticipantPurposesToExport": ["agent"],
        "TranscriptExportEnabled": True,
        "TranscriptFormat": "SRT",
    }
    return profile("QA", root, **{**settings, **keys})


def layout_error():
    from audio.errors import ChannelLayoutError

    return ChannelLayoutError("c", "r", "no stretch of the call tells the channels apart")


def dsp_runs(world, name="QA"):
    return [c for c in world.commands if isinstance(c, RunDsp) and c.profile == name]


def test_an_undetectable_layout_waits_for_the_transcript_and_is_detected_with_its_speaker_times(
    tmp_path, ledger
):
    machine, world = setup(tmp_path, ledger, qa_profile(tmp_path / "qa"))
    world.transcript_waits = 2  # the transcript comes after the audio was processed
    world.fail["dsp:QA"] = [layout_error()] * len(world.call.recordings)
    _, finish = drive(machine, world)
    assert finish.outcome == "done", finish
    runs = dsp_runs(world)
    first, again = runs[: len(world.call.recordings)], runs[len(world.call.recordings) :]
    assert all(not r.speakers for r in first)  # the first try had no transcript yet
    assert again and all(r.speakers for r in again)  # then its speaker times went to the detection
    assert {s for r in again for s, _, _ in r.speakers} == {"internal", "external"}
    by_profile = {(s.profile, s.kind): s for s in world.writebacks[-1]}
    assert by_profile[("QA", "audio")].status == "exported"
    assert by_profile[("QA", "transcript")].status == "exported"


def test_an_undetectable_layout_fails_with_the_reason_when_no_transcript_comes(tmp_path, ledger):
    machine, world = setup(tmp_path, ledger, qa_profile(tmp_path / "qa"))
    world.transcript_never = True
    world.fail["dsp:QA"] = [layout_error()] * 10
    _, finish = drive(machine, world)
    assert finish.outcome == "failed"
    by_profile = {(s.profile, s.kind): s for s in world.writebacks[-1]}
    detail = by_profile[("QA", "audio")].detail
    assert "tells the channels apart" in detail and "no transcript to tell them apart" in detail
    assert len(dsp_runs(world)) == len(world.call.recordings)  # refused once per recording: not retried


def test_an_undetectable_layout_without_a_transcript_profile_fails_at_once(tmp_path, ledger):
    machine, world = setup(tmp_path, ledger, qa_profile(tmp_path / "qa", TranscriptExportEnabled=False))
    world.fail["dsp:QA"] = [layout_error()] * 10
    _, finish = drive(machine, world)
    assert finish.outcome == "failed"
    assert not [c for c in world.commands if type(c).__name__ == "AdvanceTranscripts"]
    assert len(dsp_runs(world)) == len(world.call.recordings)
