from __future__ import annotations

import threading

from ledger import Ledger


def test_jobs_are_durable_ordered_and_deduplicated(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    assert ledger.add_job("c1", ("q1",), 1.0)
    assert ledger.add_job("c2", ("q2",), 2.0)
    assert not ledger.add_job("c1", ("q1",), 1.0)
    ledger.set_state("c1", "running")
    ledger.close()
    reopened = Ledger(tmp_path / "l.sqlite3")
    resumed = reopened.requeue_unfinished()
    assert [j.conversation_id for j in resumed] == ["c1", "c2"]
    assert resumed[0].attempts == 1
    reopened.set_state("c1", "done")
    assert [j.conversation_id for j in reopened.jobs("queued")] == ["c2"]


def test_outputs_keep_planned_path_until_written(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    ledger.record_output("c", "P", "audio:r1", "planned", "/x/a.wav")
    ledger.record_output("c", "P", "audio:r1", "written", size=10)
    rec = ledger.output("c", "P", "audio:r1")
    assert (rec.path, rec.status, rec.bytes) == ("/x/a.wav", "written", 10)
    ledger.set_profile_status("c", "P", "audio", "exported")
    assert ledger.profile_status("c", "P", "audio") == "exported"
    assert ledger.profile_status("c", "P", "transcript") is None


def test_concurrent_writers(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")

    def add(n):
        for i in range(50):
            ledger.add_job(f"c{n}-{i}", (), float(i))

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ledger.jobs()) == 200


def test_pending_conversations_survive_a_reopen(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    ledger.put_pending("c1", {"queues": ["q1"], "agents": {"u1": "connected"}}, 100.0)
    ledger.put_pending("c2", {"queues": ["q2"]}, 200.0)
    ledger.put_pending("c1", {"queues": ["q1"], "agents": {"u1": "wrapup"}}, 150.0)
    ledger.drop_pending("c2")
    ledger.close()
    again = Ledger(tmp_path / "ledger.sqlite3")
    (only,) = again.pending()
    assert (only.conversation_id, only.state["agents"], only.expires_at) == ("c1", {"u1": "wrapup"}, 150.0)
