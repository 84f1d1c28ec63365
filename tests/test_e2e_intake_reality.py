"""The real service's intake against the simulator (issue 11 items 8, 9 and 11): a wrap-up wait taken
back after a restart, the reconciliation cursor in the state directory, configuration-signal
callbacks disconnected once read."""

from __future__ import annotations

import dataclasses
import json
import logging

from service_harness import Harness, document, profile

from simulator.app import Simulator


def _doc(out) -> str:
    return document(
        profile(
            "Archive",
            out,
            Queues=["Sales"],
            AudioFormat="WAV",
            ProcessingDelaySeconds=0,
            TranscriptExportEnabled=False,
            AudioFileTemplate="{Conversation.Id}_{Recording.Id}.{FileExtension}",
        )
    )


def test_wrapup_wait_is_taken_back_after_a_restart_and_the_late_wrapup_exports_the_call(tmp_path) -> None:
    with Simulator(
        seed=91,
        config_document=_doc(tmp_path / "out"),
        details_delay_s=0.2,
        recording_delay_s=0.2,
        event_speed=4.0,
        heartbeat_s=1.0,
        screen_recording_fraction=0,
    ) as sim:
        original = sim.generate

        def slow_wrapup(**kw):  # the agent wraps up 24 s (6 s real) after the call
            call = original(**kw)
            parts = tuple(
                dataclasses.replace(
                    p,
                    wrapup_required=True,
                    wrapup_submitted_ms=call.end_ms + 24_000,
                    wrapup_code=sim.org.wrapup_codes[0].id,
                    wrapup_timeout_ms=None,
                )
                if p.purpose == "agent"
                else p
                for p in call.participants
            )
            return dataclasses.replace(call, participants=parts)

        sim.generate = slow_wrapup
        settings = {"reconcile_lookback_s": 1.0, "reconcile_interval_s": 3600.0}
        first = Harness(sim, tmp_path, **settings).start()
        call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=12)
        cid = call.conversation_id
        try:
            # the call is over, the agent is in after-call work: the wait is in the ledger
            assert first.wait(lambda: cid in [p.conversation_id for p in first.deps.ledger.pending()], 30)
            assert first.job_state(cid) is None
        finally:
            first.service.drain(0.0)  # the service stops while it waits
        assert sim.wait_until_published(cid, 30)  # the wrap-up happens while nobody listens
        cursor = json.loads((tmp_path / "state" / "reconcile.json").read_text())
        assert cursor["resume_from"].endswith("Z")  # where the next sweep resumes (no ledger needed)
        second = Harness(sim, tmp_path, **settings).start()
        try:
            assert second.wait_done([cid]) == {cid: "done"}
            assert second.deps.ledger.pending() == []
            assert len(second.files_for(cid)) == len(call.recordings)
        finally:
            second.stop()


def test_configuration_signal_callback_is_disconnected_once_read(tmp_path, caplog) -> None:
    with Simulator(seed=92, config_document=_doc(tmp_path / "out"), heartbeat_s=1.0) as sim:
        harness = Harness(sim, tmp_path).start()
        try:
            caplog.set_level(logging.INFO)
            created = harness.client.create_callback(sim.org.system_queue.id)
            cid = created["conversation"]["id"]
            assert harness.wait(
                lambda: f"signalled on the system queue (conversation {cid})" in caplog.text, 10
            )
            assert harness.wait(lambda: "endTime" in sim.callbacks[cid], 10)  # the queue stays clean
            patches = [
                r for r in sim.requests if r.method == "PATCH" and r.path.endswith(f"/callbacks/{cid}")
            ]
            assert [r.json for r in patches] == [{"state": "disconnected"}]
            assert all(
                c["state"] == "disconnected"
                for p in sim.callbacks[cid]["participants"]
                for c in p["callbacks"]
            )

            # without the permission the callback stays, the service says why and goes on
            sim.faults.forbidden_paths = {"/api/v2/conversations/callbacks/"}
            second = harness.client.create_callback(sim.org.system_queue.id)["conversation"]["id"]
            assert harness.wait(lambda: "conversation:communication:disconnect" in caplog.text, 10)
            assert "endTime" not in sim.callbacks[second]
        finally:
            sim.faults.reset()
            harness.stop()
