"""Batch recording downloads for the backfill: which profiles can use them, how a conversation's batch
results stand in for its recording metadata, and the stage between finding a call and exporting it,
against the simulator's batch endpoint (real HTTP, real files)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import soundfile
from genesys_fixtures import make_client, requests_to, running_sim

from actors.backfill_supervisor import WAITING_REASON, far_future
from backfill.batch import BATCH_REASON, BatchStage
from export.batch_sources import BATCH_FILE, batch_files, batchable, profile_batchable, recordings_from_batch
from genesys.bulk import BatchOutcome
from ledger import Ledger
from profiles.model import Profile
from reliability.backoff import Backoff

QUICK = Backoff(first_s=0.1, max_s=0.5, jitter=0.0)
PLAIN = "{Conversation.Id}_{Recording.Id}.{FileExtension}"


def test_only_profiles_that_need_no_recording_metadata_can_use_batch_downloads() -> None:
    assert profile_batchable(Profile("a", audio_file_template=PLAIN))
    assert profile_batchable(Profile("m4b", audio_format="M4B", audio_file_template=PLAIN))
    # the default template names the recording's start time: metadata
    assert not profile_batchable(Profile("default"))
    assert not profile_batchable(Profile("user", audio_file_template="{Recording.User.Name}_" + PLAIN))
    assert not profile_batchable(
        Profile("path", audio_file_template=PLAIN, path_template="{Recording.EndTime}")
    )
    assert not profile_batchable(Profile("dsp", audio_file_template=PLAIN, reduce_noise=True))
    assert not profile_batchable(
        Profile("agent", audio_file_template=PLAIN, participant_purposes_to_export=("agent",))
    )
    assert not profile_batchable(
        Profile("chapters", audio_file_template=PLAIN, export_chapters_for_participant_segments=True)
    )
    assert not profile_batchable(Profile("text", audio_file_template=PLAIN, transcript_export_enabled=True))
    assert not profile_batchable(Profile("none", audio_file_template=PLAIN, audio_export_enabled=False))
    assert batchable([Profile("a", audio_file_template=PLAIN), Profile("b", audio_file_template=PLAIN)])
    assert not batchable([Profile("a", audio_file_template=PLAIN), Profile("default")])
    assert not batchable([])


def test_one_downloaded_audio_recording_and_no_error_stands_in_for_the_metadata(tmp_path: Path) -> None:
    path = tmp_path / "c1_r1.ogg"
    path.write_bytes(b"OggS" + b"\0" * 100)
    ok = BatchOutcome("c1", "r1", str(path), "audio/ogg; codecs=opus", 104)
    recordings = recordings_from_batch("c1", [ok, BatchOutcome("c2", "r9", str(path), "audio/ogg", 104)])
    assert recordings == [
        {
            "id": "r1",
            "conversationId": "c1",
            "media": "audio",
            "fileState": "AVAILABLE",
            "contentType": "audio/ogg",
            BATCH_FILE: str(path),
        }
    ]
    assert batch_files(recordings) == ((recordings[0], path),)
    # two recordings (maybe the two sides of one call), an error, a screen recording, nothing: one by one
    assert recordings_from_batch("c1", [ok, BatchOutcome("c1", "r2", str(path), "audio/ogg", 104)]) is None
    assert recordings_from_batch("c1", [BatchOutcome("c1", "r1", error="The recording is archived")]) is None
    assert recordings_from_batch("c1", [BatchOutcome("c1", "r1", str(path), "video/webm", 104)]) is None
    assert recordings_from_batch("c1", []) is None
    # the file is gone (another instance took the export, a cleaned folder): one by one
    path.unlink()
    assert batch_files(recordings) is None
    assert batch_files([{"id": "r1"}]) is None  # metadata from Genesys Cloud: not a batch result


@pytest.fixture(scope="module")
def sim() -> Any:
    with running_sim(seed=37) as s:
        s.history.add(2, 30, kinds=["inbound_simple", "mono_pair", "outbound"], duration_s=8.0)
        s.bulk.batch_item_s = 0.01
        yield s


def record(ledger: Ledger, cids: list[str]) -> None:
    for cid in cids:
        ledger.add_job(cid, (), time.time(), "parked", source="backfill", priority=5)
        ledger.save_context(
            cid,
            {"conversation_id": cid, "details": {}, "conversation": {}, "recordings": [], "user_names": {}},
        )
        ledger.park(cid, far_future(), BATCH_REASON)


def run_stage(stage: BatchStage, *, flush: bool = True, limit_s: float = 60.0) -> None:
    deadline = time.monotonic() + limit_s
    while stage.busy:
        assert time.monotonic() < deadline, "the batch stage did not finish"
        time.sleep(min(0.5, stage.step(flush=flush)))


def test_the_stage_downloads_in_batches_and_hands_every_call_on(sim: Any, tmp_path: Path) -> None:
    client = make_client(sim)
    truths = [sim.history.truth(p.conversation_id) for p in sim.history.plans()]
    cids = [t.conversation_id for t in truths]
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    try:
        record(ledger, cids)
        before = len(requests_to(sim, "/recording/batchrequests"))
        stage = BatchStage(client, ledger, tmp_path / "batch", batch_size=25, poll=QUICK)
        for cid in cids:
            stage.add(cid)
        assert stage.step(flush=False) >= 0 and len(stage.in_flight) == 2  # full batches only, two at a time
        run_stage(stage)
        batch_requests = len(requests_to(sim, "/recording/batchrequests")) - before
        assert batch_requests <= 6 * 3  # submissions and polls: a handful per 25 calls, not one per call
        used = 0
        for t in truths:
            job = ledger.job(t.conversation_id)
            assert job is not None and job.state == "parked" and job.park_reason == WAITING_REASON
            recordings = (ledger.context(t.conversation_id) or {})["recordings"]
            available = t.recorded and t.recording_state == "AVAILABLE"
            if available and len(t.recording_ids) == 1:
                assert [r["id"] for r in recordings] == list(t.recording_ids)
                info = soundfile.info(recordings[0][BATCH_FILE])  # a real recording, in its original codec
                assert info.duration > 1.0
                used += 1
            else:  # the two sides of a mono pair, no recording, archived or deleted: one by one
                assert recordings == [], t
        assert used == stage.batched and stage.fallbacks == len(cids) - used and used >= 10
        assert stage.fallbacks >= 1
        # an export that finished no longer needs its file; a complete run removes the folder
        first = next(
            t.conversation_id for t in truths if (ledger.context(t.conversation_id) or {})["recordings"]
        )
        stage.finished(first)
        assert not list((tmp_path / "batch").glob(f"{first}_*"))
        stage.close(complete=True)
        assert not (tmp_path / "batch").exists()
    finally:
        ledger.close()


def test_batch_downloads_refused_hand_every_call_to_the_one_by_one_path(sim: Any, tmp_path: Path) -> None:
    client = make_client(sim)
    cids = [p.conversation_id for p in sim.history.plans()][:30]
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    sim.faults.forbidden_paths = ["/api/v2/recording/batchrequests"]
    try:
        record(ledger, cids)
        stage = BatchStage(client, ledger, tmp_path / "batch", batch_size=10, poll=QUICK)
        for cid in cids:
            stage.add(cid)
        run_stage(stage)
        assert not stage.enabled and stage.batched == 0 and stage.fallbacks == len(cids)
        for cid in cids:
            job = ledger.job(cid)
            assert job is not None and job.park_reason == WAITING_REASON
            assert (ledger.context(cid) or {})["recordings"] == []
        stage.add("later")  # once refused, later calls go straight to their turn
        assert not stage.pending
    finally:
        sim.faults.reset()
        ledger.close()


def test_calls_left_waiting_for_a_batch_by_an_interrupted_run_are_collected_again(
    sim: Any, tmp_path: Path
) -> None:
    client = make_client(sim)
    cids = [p.conversation_id for p in sim.history.plans()][:5]
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    try:
        record(ledger, cids)
        ledger.park(cids[0], far_future(), WAITING_REASON)  # this one had its turn already
        stage = BatchStage(client, ledger, tmp_path / "batch", poll=QUICK)
        assert stage.resume(ledger.states(cids)) == 4
        assert sorted(stage.pending) == sorted(cids[1:])
    finally:
        ledger.close()
