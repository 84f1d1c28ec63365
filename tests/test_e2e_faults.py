"""Faults delay exports but lose none; crashes restart and resume; a restart mid-export exports once."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest
from service_harness import Harness, document, profile

from simulator.app import Simulator
from simulator.documents import transcript_communication_ids

KINDS = (
    "inbound_simple",
    "blind_transfer",
    "consult_transfer",
    "inbound_hold",
    "multi_recording",
    "outbound",
    "conference",
    "no_recording",
    "abandoned",
)


def archive_profile(out: Path, **keys):
    settings = {
        "Queues": ["Sales", "Support"],
        "AudioFormat": "WAV",
        "ProcessingDelaySeconds": 0,
        "TranscriptExportEnabled": True,
        "TranscriptFormat": "RAW",
        "AudioFileTemplate": "{Conversation.Id}_{Recording.Id}.{FileExtension}",
        "TranscriptionFileTemplate": "{Conversation.Id}_{Transcript.Id}.{FileExtension}",
    }
    return profile("Archive", out, **{**settings, **keys})


def expected_files(call) -> int:
    if not call.recordings:
        return 0
    return len(call.recordings) + len(transcript_communication_ids(call))


def files_on_disk(out: Path, conversation_id: str) -> list[Path]:
    return sorted(p for p in out.rglob(f"{conversation_id}*") if p.is_file() and not p.name.startswith("."))


def assert_exported_once(harness, out, calls):
    states = harness.wait_done([c.conversation_id for c in calls], timeout=240)
    assert set(states.values()) == {"done"}, states
    for call in calls:
        on_disk = files_on_disk(out, call.conversation_id)
        assert len(on_disk) == expected_files(call), (call.kind, on_disk)
        if call.recordings:
            attrs = {
                k: v
                for part in harness.sim.participant_attributes(call.conversation_id).values()
                for k, v in part.items()
            }
            assert attrs.get("callexport.Archive.audio.status") == "exported", (call.kind, attrs)


def test_api_and_websocket_faults_lose_no_call(tmp_path):
    out = tmp_path / "out"
    with Simulator(
        seed=11,
        config_document=document(archive_profile(out)),
        heartbeat_s=1.0,
        socket_closing_grace_s=0.5,
        details_delay_s=0.2,
        recording_delay_s=0.3,
        transcript_delay_s=0.5,
        event_speed=300.0,
    ) as sim:
        harness = Harness(sim, tmp_path, heartbeat_s=1.0, reconcile_interval_s=2.0).start()
        try:
            faults = sim.faults
            faults.rate_429, faults.retry_after_s, faults.rate_5xx, faults.extra_202 = 0.15, 1, 0.1, 2
            calls = []

            def inject(n):
                for i in range(n):
                    calls.append(
                        sim.inject_call(
                            kind=KINDS[len(calls) % len(KINDS)],
                            queue_name=("Sales", "Support")[i % 2],
                            duration_s=25,
                        )
                    )

            inject(3)
            faults.drop_websockets()
            inject(2)  # events of these may be lost while the socket is down: reconciliation finds them
            time.sleep(1.0)
            faults.send_socket_closing()
            inject(2)
            faults.revoke_tokens()
            inject(2)
            faults.stop_heartbeats = True
            time.sleep(2.5)  # more than twice the heartbeat period: the listener must reconnect
            faults.stop_heartbeats = False
            inject(2)
            faults.expire_media_urls = True
            time.sleep(1.0)
            faults.expire_media_urls = False
            inject(1)
            assert_exported_once(harness, out, calls)
        finally:
            harness.stop()


def test_crashed_export_actor_restarts_and_resumes(tmp_path, caplog, monkeypatch):
    from export.machine import ConversationExport

    out = tmp_path / "out"
    real_handle = ConversationExport.handle
    crashes = {"n": 0}

    def buggy_handle(self, event, now):  # a bug: the first reply to a download crashes the actor
        if crashes["n"] == 0 and any(w.key.startswith("recordings:") for w in self.inflight.values()):
            crashes["n"] += 1
            raise RuntimeError("injected bug in the export state machine")
        return real_handle(self, event, now)

    monkeypatch.setattr(ConversationExport, "handle", buggy_handle)
    with Simulator(
        seed=12,
        config_document=document(archive_profile(out)),
        details_delay_s=0.2,
        recording_delay_s=1.5,
        transcript_delay_s=0.5,
        event_speed=300.0,
    ) as sim:
        harness = Harness(sim, tmp_path).start()
        try:
            call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=20)
            assert_exported_once(harness, out, [call])
            assert crashes["n"] == 1
            assert "crashed" in caplog.text
            assert harness.deps.ledger.job(call.conversation_id).crashes == 1
        finally:
            harness.stop()


def test_dsp_worker_process_killed_mid_job_is_replaced_and_the_job_retried(tmp_path):
    out = tmp_path / "out"
    doc = document(
        archive_profile(
            out, AudioFormat="MP3", NormalizeLoudness=True, ReduceNoise=True, TranscriptExportEnabled=False
        )
    )
    with Simulator(
        seed=13, config_document=doc, details_delay_s=0.1, recording_delay_s=0.1, event_speed=300.0
    ) as sim:
        harness = Harness(sim, tmp_path).start()
        try:
            call = sim.inject_call(kind="long", queue_name="Sales", duration_s=900)
            # wait until a DSP worker process is busy with it, then kill every worker process
            assert harness.wait(lambda: max(harness.deps.dsp_router.load().values()) > 1, 60)
            time.sleep(1.0)
            workers = multiprocessing.active_children()
            assert workers
            for worker in workers:
                os.kill(worker.pid, signal.SIGKILL)
            states = harness.wait_done([call.conversation_id], timeout=240)
            assert states[call.conversation_id] == "done"
            assert len(files_on_disk(out, call.conversation_id)) == len(call.recordings)
        finally:
            harness.stop()


@pytest.mark.parametrize("kill_after", ["running"])
def test_service_restart_mid_export_exports_once(tmp_path, kill_after):
    out = tmp_path / "out"
    doc = document(archive_profile(out, AudioFormat="MP3", NormalizeLoudness=True))
    with Simulator(
        seed=14,
        config_document=doc,
        details_delay_s=0.1,
        recording_delay_s=0.1,
        transcript_delay_s=1.0,
        event_speed=300.0,
    ) as sim:
        calls = [
            sim.inject_call(kind=k, queue_name="Sales", duration_s=120)
            for k in ("inbound_simple", "multi_recording")
        ]
        first = Harness(sim, tmp_path).start()
        # mid-export: running, or parked waiting for something (both must resume after the restart)
        mid = (kill_after, "parked")
        assert first.wait(lambda: any(first.job_state(c.conversation_id) in mid for c in calls), 120)
        first.service.drain(0.0)  # stop at once: running exports are left to resume
        second = Harness(sim, tmp_path).start()
        try:
            assert_exported_once(second, out, calls)
        finally:
            second.stop()
