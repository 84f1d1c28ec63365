"""Hot reload: a changed profile document takes effect on the next call, without a restart."""

from __future__ import annotations

import time

from service_harness import Harness, document, profile

from simulator.app import Simulator


def fast_sim(doc, **kw):
    kw = {
        "details_delay_s": 0.1,
        "recording_delay_s": 0.1,
        "transcript_delay_s": 0.2,
        "event_speed": 400.0,
        **kw,
    }
    return Simulator(seed=5, config_document=doc, **kw)


def test_system_queue_signal_reloads_within_a_second_and_subscribes_new_queues(tmp_path):
    out = tmp_path / "out"
    common = {
        "ProcessingDelaySeconds": 0,
        "TranscriptExportEnabled": False,
        "AudioFileTemplate": "{Conversation.Id}.{FileExtension}",
    }
    with fast_sim(document(profile("P", out, Queues=["Sales"], AudioFormat="WAV", **common))) as sim:
        harness = Harness(sim, tmp_path).start()
        try:
            first = harness.deps.config_holder["snapshot"]
            topics_before = harness.service.status()["topics"]
            before = sim.inject_call(kind="inbound_simple", queue_name="Support", duration_s=20)
            assert sim.wait_until_published(before.conversation_id, 10)
            time.sleep(0.5)
            assert harness.job_state(before.conversation_id) is None  # Support not in scope yet

            sim.set_config_document(
                document(profile("P", out, Queues=["Sales", "Support"], AudioFormat="MP3", **common))
            )
            started = time.monotonic()
            harness.client.create_callback(sim.org.system_queue.id)
            assert harness.wait(lambda: harness.deps.config_holder["snapshot"].version > first.version, 5)
            took = time.monotonic() - started
            assert took < 1.0, f"reload took {took:.2f} s"
            assert harness.wait(lambda: harness.service.status()["topics"] == topics_before + 1, 5)
            assert harness.subscribed(5)

            after = sim.inject_call(kind="inbound_simple", queue_name="Support", duration_s=20)
            assert harness.wait_done([after.conversation_id]) == {after.conversation_id: "done"}
            files = harness.files_for(after.conversation_id)
            assert [p.suffix for p in files] == [".mp3"] * len(after.recordings)
        finally:
            harness.stop()


def test_broken_document_keeps_the_last_good_configuration(tmp_path, caplog):
    out = tmp_path / "out"
    good = document(
        profile(
            "P",
            out,
            Queues=["Sales"],
            AudioFormat="WAV",
            ProcessingDelaySeconds=0,
            TranscriptExportEnabled=False,
        )
    )
    with fast_sim(good) as sim:
        harness = Harness(sim, tmp_path).start()
        try:
            version = harness.deps.config_holder["snapshot"].version
            sim.set_config_document("{ this is not json")
            harness.client.create_callback(sim.org.system_queue.id)
            assert harness.wait(lambda: "keeping the last good configuration" in caplog.text, 5)
            assert harness.deps.config_holder["snapshot"].version == version
            call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=15)
            assert harness.wait_done([call.conversation_id]) == {call.conversation_id: "done"}
        finally:
            harness.stop()
