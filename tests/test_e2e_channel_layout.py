"""End to end: the service finds the agent's channel whatever the org's channel layout, and refuses a
QA agent-only file it cannot make safely, while the other profiles of the call are still exported."""

from __future__ import annotations

import numpy as np
import soundfile as sf
from service_harness import Harness, document, profile

from simulator.app import Simulator
from simulator.audio_synth import render_recording

SR = 8000


def _agent_spans(call, rec) -> list[tuple[int, int]]:
    """Media sample spans of the agents' interact segments (what the QA file keeps)."""
    out = []
    for p in call.agents():
        for s in p.segments:
            if s.segment_type == "interact":
                out += [
                    (round(a * SR / 1000), round(b * SR / 1000))
                    for a, b in rec.wall_span_to_media(s.start_ms, s.end_ms)
                ]
    return sorted(out)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    a, b = a[:n].astype(float), b[:n].astype(float)
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def test_agent_only_files_carry_the_agent_in_either_layout_and_mixed_channels_are_refused(tmp_path):
    out = tmp_path / "out"
    doc = document(
        profile(
            "Archive",
            out / "archive",
            Queues=["Sales"],
            AudioFormat="WAV",
            ProcessingDelaySeconds=0,
            AudioFileTemplate="{Conversation.Id}.{FileExtension}",
        ),
        profile(
            "QA",
            out / "qa",
            Queues=["Sales"],
            AudioFormat="WAV",
            ProcessingDelaySeconds=0,
            ParticipantPurposesToExport=["agent"],
            CallSegmentsToExport=["interact"],
            ConcatenateParticipantSegments=True,
            AudioFileTemplate="{Conversation.Id}.{FileExtension}",
        ),
    )
    with Simulator(
        seed=11, config_document=doc, details_delay_s=0.2, recording_delay_s=0.2, event_speed=300.0
    ) as sim:
        harness = Harness(sim, tmp_path).start()
        try:
            calls = {
                layout: sim.inject_call(
                    kind="inbound_simple",
                    queue_name="Sales",
                    duration_s=45,
                    channel_layout=layout,
                    flow_queue_recording="recorded",
                )
                for layout in ("standard", "swapped", "mixed")
            }
            states = harness.wait_done([c.conversation_id for c in calls.values()])
            assert states[calls["standard"].conversation_id] == "done", states
            assert states[calls["swapped"].conversation_id] == "done", states
            assert states[calls["mixed"].conversation_id] == "failed", states
            for layout in ("standard", "swapped"):
                call = calls[layout]
                rec = call.recordings[0]
                truth = (render_recording(call, rec, SR) * 32767).astype(np.int16)
                agent, customer = (0, 1) if layout == "swapped" else (1, 0)
                (qa,) = harness.files_for(call.conversation_id, "QA")
                y = sf.read(qa, dtype="int16")[0]
                assert y.ndim == 1
                spans = _agent_spans(call, rec)
                want = np.concatenate([truth[a:b, agent] for a, b in spans])
                other = np.concatenate([truth[a:b, customer] for a, b in spans])
                assert abs(len(y) - len(want)) <= 2 * len(spans)
                assert _correlation(y, want) > 0.99 and abs(_correlation(y, other)) < 0.2, layout
            mixed = calls["mixed"]
            assert harness.files_for(mixed.conversation_id, "QA") == []
            (archive,) = harness.files_for(mixed.conversation_id, "Archive")  # the other profile's file
            assert sf.info(archive).channels == 2
            attrs = {
                k: v
                for part in sim.participant_attributes(mixed.conversation_id).values()
                for k, v in part.items()
            }
            assert attrs["callexport.Archive.audio.status"] == "exported"
            assert attrs["callexport.QA.audio.status"] == "failed"
        finally:
            harness.stop()
