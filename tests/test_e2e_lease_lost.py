"""An instance whose lease was taken over (it paused or lost the database longer than the lease)
stops its export at its next renewal and cannot record the outcome; the export finishes once, with
every file written once."""

from __future__ import annotations

from service_harness import Harness, document, profile

from simulator.app import Simulator


def test_an_export_taken_over_by_another_instance_stops_here(tmp_path, pg_url, caplog_info):
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
    with Simulator(seed=81, config_document=doc, heartbeat_s=1.0, event_speed=200.0) as sim:
        h = Harness(sim, tmp_path, ledger_url=pg_url, lease_s=3.0, dsp_workers=1).start()
        ledger = h.deps.ledger
        try:
            call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=150)
            cid = call.conversation_id
            assert h.wait(lambda: h.job_state(cid) == "running", 60)
            # another instance takes the job over (as after this one's lease expired)
            ledger.db.execute(
                "UPDATE jobs SET lease_owner='thief', lease_until=:until WHERE conversation_id=:cid",
                {"until": 4e9, "cid": cid},
            )
            assert h.wait(lambda: "took the export over" in caplog_info.text, 15), caplog_info.text[-3000:]
            assert ledger.job(cid).state == "running" and ledger.job(cid).lease_owner == "thief"
            # the thief dies too: its lease expires and the job comes back here
            ledger.db.execute("UPDATE jobs SET lease_until=1 WHERE conversation_id=:cid", {"cid": cid})
            assert h.wait_done([cid], 90)[cid] == "done"
            files = sorted(p.name for p in out.rglob("*") if p.is_file() and not p.name.startswith("."))
            assert len(files) == len(call.recordings), files
            assert ledger.orphaned_leases() == []
        finally:
            h.stop()


def test_an_expired_lease_that_nobody_took_over_is_taken_back_and_the_export_finishes(
    tmp_path, pg_url, caplog_info
):
    """This instance stalled past its lease; another instance queued the job again (expire_leases)
    but had no slot to claim it. The export here would find its writes fenced: it takes the lease
    back at its next renewal and finishes, every file once."""
    out = tmp_path / "out"
    doc = document(
        profile("QA", out, Queues=["Sales"], AudioFormat="MP3", ReduceNoise=True, ProcessingDelaySeconds=0)
    )
    with Simulator(seed=82, config_document=doc, heartbeat_s=1.0, event_speed=200.0) as sim:
        h = Harness(sim, tmp_path, ledger_url=pg_url, lease_s=3.0, dsp_workers=1).start()
        ledger = h.deps.ledger
        try:
            call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=150)
            cid = call.conversation_id
            assert h.wait(lambda: h.job_state(cid) == "running", 60)
            ledger.db.execute(
                "UPDATE jobs SET state='queued', lease_until=1 WHERE conversation_id=:cid", {"cid": cid}
            )
            assert h.wait(lambda: "holds the lease again" in caplog_info.text, 15), caplog_info.text[-3000:]
            assert h.wait_done([cid], 90)[cid] == "done"
            files = sorted(p.name for p in out.rglob("*") if p.is_file() and not p.name.startswith("."))
            assert len(files) == len(call.recordings), files
            assert ledger.orphaned_leases() == []
        finally:
            h.stop()
