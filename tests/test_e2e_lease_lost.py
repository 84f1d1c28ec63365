"""An instance whose lease was taken over (it paused or lost the database longer than the lease)
stops its export at its next renewal and cannot record the outcome; the export finishes once, with
every file written once. One whose expired lease nobody took over takes it back and finishes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from service_harness import Harness, document, profile

from simulator.app import Simulator


@contextmanager
def exporting(tmp_path: Path, pg_url: str, seed: int) -> Iterator[tuple[Harness, Any, Any]]:
    """One instance on the shared ledger (3-s leases) exporting a 150-s call through the DSP; yields
    (harness, ledger, call) once the job runs; afterwards every recording is one file."""
    out = tmp_path / "out"
    doc = document(
        profile(
            "QA",
            out,
            Queues=["Sales"],
            AudioFormat="MP3",
            ReduceNoise=True,
            NormalizeLoudness=True,
            ProcessingDelaySeconds=0,
        )
    )
    with Simulator(seed=seed, config_document=doc, heartbeat_s=1.0, event_speed=200.0) as sim:
        h = Harness(sim, tmp_path, ledger_url=pg_url, lease_s=3.0, dsp_workers=1).start()
        try:
            call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=150)
            assert h.wait(lambda: h.job_state(call.conversation_id) == "running", 60)
            yield h, h.deps.ledger, call
            assert h.wait_done([call.conversation_id], 90)[call.conversation_id] == "done"
            files = sorted(p.name for p in out.rglob("*") if p.is_file() and not p.name.startswith("."))
            assert len(files) == len(call.recordings), files
            assert h.deps.ledger.orphaned_leases() == []
        finally:
            h.stop()


def test_an_export_taken_over_by_another_instance_stops_here(tmp_path, pg_url, caplog_info):
    with exporting(tmp_path, pg_url, 81) as (h, ledger, call):
        cid = call.conversation_id
        # another instance takes the job over (as after this one's lease expired)
        ledger.db.execute(
            "UPDATE jobs SET lease_owner='thief', lease_until=:until WHERE conversation_id=:cid",
            {"until": 4e9, "cid": cid},
        )
        assert h.wait(lambda: "took the export over" in caplog_info.text, 15), caplog_info.text[-3000:]
        assert ledger.job(cid).state == "running" and ledger.job(cid).lease_owner == "thief"
        # the thief dies too: its lease expires and the job comes back here
        ledger.db.execute("UPDATE jobs SET lease_until=1 WHERE conversation_id=:cid", {"cid": cid})


def test_an_expired_lease_that_nobody_took_over_is_taken_back_and_the_export_finishes(
    tmp_path, pg_url, caplog_info
):
    """This instance stalled past its lease; another instance queued the job again (expire_leases)
    but had no slot to claim it. The export here would find its writes fenced: it takes the lease
    back at its next renewal and finishes, every file once."""
    with exporting(tmp_path, pg_url, 82) as (h, ledger, call):
        ledger.db.execute(
            "UPDATE jobs SET state='queued', lease_until=1 WHERE conversation_id=:cid",
            {"cid": call.conversation_id},
        )
        assert h.wait(lambda: "holds the lease again" in caplog_info.text, 15), caplog_info.text[-3000:]
