"""End to end: the real service against the simulator (HTTP, WebSocket, actors, real files)."""

from __future__ import annotations

import json

import soundfile as sf
from service_harness import Harness, document, profile

from simulator.app import Simulator
from storage.metadata import read_metadata


def test_wrapped_up_calls_are_exported_once_with_status_written_back(tmp_path):
    out = tmp_path / "out"
    doc = document(
        profile(
            "Archive",
            out,
            Queues=["Sales"],
            AudioFormat="WAV",
            TranscriptExportEnabled=True,
            TranscriptFormat="RAW",
            ProcessingDelaySeconds=0,
            AudioMetadataAttributes=["Conversation.Id", "Recording.Id"],
            AudioFileTemplate="{Conversation.Id}_{Recording.Id}.{FileExtension}",
            TranscriptionFileTemplate="{Conversation.Id}.{FileExtension}",
        ),
    )
    with Simulator(
        seed=3,
        config_document=doc,
        details_delay_s=0.2,
        recording_delay_s=0.2,
        transcript_delay_s=0.5,
        event_speed=200.0,
    ) as sim:
        harness = Harness(sim, tmp_path).start()
        try:
            calls = [
                sim.inject_call(kind=k, queue_name="Sales", duration_s=40)
                for k in ("inbound_simple", "blind_transfer", "no_recording")
            ]
            ignored = sim.inject_call(kind="inbound_simple", queue_name="Support", duration_s=30)
            states = harness.wait_done([c.conversation_id for c in calls])
            assert set(states.values()) == {"done"}, states
            simple = calls[0]
            files = harness.files_for(simple.conversation_id)
            wavs = [p for p in files if p.suffix == ".wav"]
            assert len(wavs) == len([r for r in simple.recordings]) >= 1
            for path in wavs:
                metadata = read_metadata(path)  # through the operating system (xattr here, ADS on Windows)
                assert metadata["Conversation.Id"] == simple.conversation_id
                assert metadata["Recording.Id"] in path.name
                info = sf.info(path)
                rec = next(r for r in simple.recordings if r.recording_id in path.name)
                assert (
                    abs(info.duration - (rec.end_ms - rec.start_ms - sum(g[1] for g in rec.gaps)) / 1000)
                    < 0.05
                )
            transcript = [p for p in files if p.suffix == ".json"]
            assert (
                transcript
                and json.loads(transcript[0].read_text())["conversationId"] == simple.conversation_id
            )
            attrs = {
                k: v
                for part in sim.participant_attributes(simple.conversation_id).values()
                for k, v in part.items()
            }
            assert attrs["callexport.Archive.audio.status"] == "exported"
            assert attrs["callexport.Archive.transcript.status"] == "exported"
            no_rec = calls[2]
            assert harness.files_for(no_rec.conversation_id) == []
            attrs = {
                k: v
                for part in sim.participant_attributes(no_rec.conversation_id).values()
                for k, v in part.items()
            }
            assert attrs["callexport.Archive.audio.status"] == "skipped"
            assert harness.job_state(ignored.conversation_id) is None  # Support is not watched
        finally:
            harness.stop()


def test_mono_pair_is_merged_and_agent_only_outputs_carry_only_the_agent(tmp_path):
    out = tmp_path / "out"
    doc = document(
        profile(
            "Archive",
            out / "archive",
            Queues=["Sales"],
            AudioFormat="WAV",
            ProcessingDelaySeconds=0,
            TranscriptExportEnabled=False,
            AudioFileTemplate="{Conversation.Id}.{FileExtension}",
        ),
        profile(
            "QA",
            out / "qa",
            Queues=["Sales"],
            AudioFormat="MP3",
            ProcessingDelaySeconds=0,
            ParticipantPurposesToExport=["agent"],
            CallSegmentsToExport=["interact"],
            ConcatenateParticipantSegments=True,
            TranscriptExportEnabled=True,
            TranscriptFormat="VTT",
            AudioFileTemplate="{Conversation.Id}.{FileExtension}",
            TranscriptionFileTemplate="{Conversation.Id}.{FileExtension}",
        ),
    )
    with Simulator(
        seed=4,
        config_document=doc,
        details_delay_s=0.2,
        recording_delay_s=0.2,
        transcript_delay_s=0.3,
        event_speed=300.0,
    ) as sim:
        harness = Harness(sim, tmp_path).start()
        try:
            # IVR and queue audio in the media: what tells the agent's channel from the customer's
            # (audio.channel_detect) when no transcript times are at hand
            pair = sim.inject_call(
                kind="mono_pair", queue_name="Sales", duration_s=40, flow_queue_recording="recorded"
            )
            simple = sim.inject_call(
                kind="inbound_simple", queue_name="Sales", duration_s=40, flow_queue_recording="recorded"
            )
            states = harness.wait_done([pair.conversation_id, simple.conversation_id])
            assert set(states.values()) == {"done"}, states
            merged = harness.files_for(pair.conversation_id, "Archive")
            assert (
                len(merged) == 1 and sf.info(merged[0]).channels == 2
            )  # two mono recordings, one stereo file
            qa_audio = [p for p in harness.files_for(simple.conversation_id, "QA") if p.suffix == ".mp3"]
            assert qa_audio and sf.info(qa_audio[0]).channels == 1  # the agent's track only
            vtt = next(
                p for p in harness.files_for(simple.conversation_id, "QA") if p.suffix == ".vtt"
            ).read_text()
            assert "<v.agent" in vtt and "<v.customer" not in vtt  # no lines whose audio is not in the file
        finally:
            harness.stop()
