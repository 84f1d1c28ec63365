"""Issue 7 end to end: the service exports, pauses and resumes with the license file, and exports the
conversations that finished while it was unlicensed."""

from __future__ import annotations

import time

from service_harness import Harness, document, profile

from licensing.demo import write_demo_license
from service.license_check import LICENSE_FILE, LicenseChecker
from simulator.app import Simulator


def test_hot_replaced_license_pauses_and_resumes_exports(tmp_path, caplog):
    out = tmp_path / "out"
    license_dir = tmp_path / "install"
    license_path = write_demo_license(license_dir / LICENSE_FILE)
    valid = license_path.read_bytes()
    doc = document(
        profile(
            "P",
            out,
            Queues=["Sales"],
            AudioFormat="WAV",
            ProcessingDelaySeconds=0,
            TranscriptExportEnabled=False,
            AudioFileTemplate="{Conversation.Id}.{FileExtension}",
        )
    )
    with Simulator(
        seed=21, config_document=doc, details_delay_s=0.1, recording_delay_s=0.1, event_speed=300.0
    ) as sim:
        harness = Harness(sim, tmp_path)
        checker = LicenseChecker(license_dir, api_url=sim.api_url, server_time=harness.client.get_date)
        harness.deps.license_checker = checker
        harness.start()
        try:
            licensed = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=20)
            assert harness.wait_done([licensed.conversation_id]) == {licensed.conversation_id: "done"}

            # tamper with the license (an editor's save: several writes) -> unlicensed within seconds
            tampered = valid.replace(b"DEMO", b"DEMX", 1)
            with open(license_path, "wb") as f:
                f.write(tampered[: len(tampered) // 2])
                f.flush()
                time.sleep(0.3)
                f.write(tampered[len(tampered) // 2 :])
            assert harness.wait(lambda: not harness.service.status().get("licensed"), 10)
            held = [
                sim.inject_call(kind=k, queue_name="Sales", duration_s=20)
                for k in ("inbound_simple", "blind_transfer")
            ]
            assert harness.wait(lambda: all(harness.job_state(c.conversation_id) == "held" for c in held), 30)
            time.sleep(1.0)
            assert all(harness.files_for(c.conversation_id) == [] for c in held)

            # a valid license again -> the held conversations are exported
            license_path.write_bytes(valid)
            states = harness.wait_done([c.conversation_id for c in held], timeout=60)
            assert set(states.values()) == {"done"}, states
            assert all(harness.files_for(c.conversation_id) for c in held)
            assert "tampered" in caplog.text.lower()
        finally:
            harness.stop()
