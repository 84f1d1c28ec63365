"""A PostgreSQL outage while the service runs: work waits and resumes when the database is back,
like any recoverable error (nothing fails, nothing is lost, nothing is written twice, the service
does not stop)."""

from __future__ import annotations

import time

from service_harness import Harness, document, profile
from sqlalchemy.engine import make_url
from tcp_proxy import TcpProxy

from simulator.app import Simulator


def test_a_database_outage_mid_run_parks_work_and_resumes(tmp_path, pg_url, caplog_info):
    url = make_url(pg_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    out = tmp_path / "out"
    doc = document(profile("Archive", out, Queues=["Sales"], AudioFormat="WAV", ProcessingDelaySeconds=0))
    with Simulator(
        seed=71,
        config_document=doc,
        heartbeat_s=1.0,
        details_delay_s=0.2,
        recording_delay_s=0.2,
        event_speed=200.0,
    ) as sim:
        h = Harness(
            sim, tmp_path, ledger_url=proxied, lease_s=3.0, max_concurrent_exports=3, dsp_workers=1
        ).start()
        try:
            calls = [
                sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=20) for _ in range(6)
            ]
            assert h.wait(lambda: sum(h.job_state(c.conversation_id) == "done" for c in calls) >= 2, 60)
            proxy.cut()
            calls += [
                sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=20) for _ in range(4)
            ]
            time.sleep(6.0)  # longer than the lease: leases expire while the database is away
            proxy.restore()
            states = h.wait_done([c.conversation_id for c in calls], 90)
            assert all(s == "done" for s in states.values()), states
            assert h.service.escalated is None
            for call in calls:
                files = sorted(p.name for p in out.rglob(f"*{call.conversation_id}*"))
                assert len(files) == len(call.recordings), files
            assert h.deps.ledger.orphaned_leases() == []
        finally:
            h.stop()
            proxy.close()
    text = caplog_info.text
    assert "unreachable" in text and "reachable again" in text
