from __future__ import annotations

import threading

from ledger import Ledger


def test_jobs_are_durable_ordered_and_deduplicated(ledger_location):
    ledger = Ledger(ledger_location)
    assert ledger.add_job("c1", ("q1",), 1.0)
    assert ledger.add_job("c2", ("q2",), 2.0)
    assert not ledger.add_job("c1", ("q1",), 1.0)
    ledger.start("c1")
    ledger.close()
    reopened = Ledger(ledger_location)
    resumed = reopened.requeue_unfinished()
    assert [j.conversation_id for j in resumed] == ["c1", "c2"]
    assert resumed[0].attempts == 1
    reopened.set_state("c1", "done")
    assert [j.conversation_id for j in reopened.jobs("queued")] == ["c2"]


def test_outputs_keep_planned_path_until_written(ledger_location):
    ledger = Ledger(ledger_location)
    ledger.record_output("c", "P", "audio:r1", "planned", "/x/a.wav")
    ledger.record_output("c", "P", "audio:r1", "written", size=10)
    rec = ledger.output("c", "P", "audio:r1")
    assert (rec.path, rec.status, rec.bytes) == ("/x/a.wav", "written", 10)
    ledger.set_profile_status("c", "P", "audio", "exported")
    assert ledger.profile_status("c", "P", "audio") == "exported"
    assert ledger.profile_status("c", "P", "transcript") is None


def test_concurrent_writers(ledger_location):
    ledger = Ledger(ledger_location)

    def add(n):
        for i in range(50):
            ledger.add_job(f"c{n}-{i}", (), float(i))

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ledger.jobs()) == 200
    ledger.close()


def test_pending_conversations_survive_a_reopen(ledger_location):
    ledger = Ledger(ledger_location)
    ledger.put_pending("c1", {"queues": ["q1"], "agents": {"u1": "connected"}}, 100.0)
    ledger.put_pending("c2", {"queues": ["q2"]}, 200.0)
    ledger.put_pending("c1", {"queues": ["q1"], "agents": {"u1": "wrapup"}}, 150.0)
    ledger.drop_pending("c2")
    ledger.close()
    again = Ledger(ledger_location)
    (only,) = again.pending()
    assert (only.conversation_id, only.state["agents"], only.expires_at) == ("c1", {"u1": "wrapup"}, 150.0)


V1_SCHEMA = """
CREATE TABLE jobs (conversation_id TEXT PRIMARY KEY, queue_ids TEXT NOT NULL, finished_at REAL NOT NULL,
    state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, seq INTEGER NOT NULL,
    updated_at REAL NOT NULL);
CREATE TABLE outputs (conversation_id TEXT NOT NULL, profile TEXT NOT NULL, item TEXT NOT NULL, path TEXT,
    status TEXT NOT NULL, bytes INTEGER, updated_at REAL NOT NULL, PRIMARY KEY (conversation_id, profile, item));
CREATE TABLE profile_status (conversation_id TEXT NOT NULL, profile TEXT NOT NULL, kind TEXT NOT NULL,
    status TEXT NOT NULL, detail TEXT, updated_at REAL NOT NULL, PRIMARY KEY (conversation_id, profile, kind));
"""


def test_a_state_directory_of_the_unversioned_layout_is_migrated_in_place(tmp_path):
    import sqlite3

    from ledger import SCHEMA_VERSION

    path = tmp_path / "ledger.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(V1_SCHEMA)
    old.execute("INSERT INTO jobs VALUES ('c1', '[\"q1\"]', 5.0, 'running', 1, NULL, 1, 6.0)")
    old.execute("INSERT INTO jobs VALUES ('c2', '[]', 7.0, 'done', 1, NULL, 2, 8.0)")
    old.execute("INSERT INTO outputs VALUES ('c1', 'P', 'audio:r1', '/x/a.wav', 'written', 10, 6.0)")
    old.commit()
    old.close()
    ledger = Ledger(path)
    assert [j.conversation_id for j in ledger.requeue_unfinished()] == ["c1"]
    assert ledger.job("c2").done_at == 8.0
    assert ledger.output("c1", "P", "audio:r1").path == "/x/a.wav"
    version = ledger.db.execute("SELECT value FROM meta WHERE key='schema_version'")[0][0]
    assert int(version) == SCHEMA_VERSION
    ledger.close()
    Ledger(path).close()  # opening a current ledger again changes nothing


def test_a_ledger_written_by_a_newer_version_is_refused_with_a_clear_message(ledger_location):
    import pytest

    from ledger import SCHEMA_VERSION, LedgerTooNew

    path = ledger_location
    ledger = Ledger(path)
    ledger.db.execute("UPDATE meta SET value=:v WHERE key='schema_version'", {"v": str(SCHEMA_VERSION + 1)})
    ledger.db.execute("UPDATE meta SET value='9.9.9' WHERE key='written_by'")
    ledger.close()
    with pytest.raises(LedgerTooNew, match="9.9.9"):
        Ledger(path)


def test_parked_jobs_wake_at_their_time_and_keep_their_machine_state(ledger_location):
    ledger = Ledger(ledger_location)
    for cid in ("a", "b", "c"):
        ledger.add_job(cid, (), 1.0)
        ledger.start(cid)
    ledger.park("a", 100.0, "transcript", {"step": 3})
    ledger.park("b", 50.0, "storage")
    assert ledger.job("a").unclean_starts == 0 and ledger.job("c").unclean_starts == 1
    assert ledger.parked_by_reason() == {"transcript": 1, "storage": 1}
    assert ledger.next_wake() == 50.0
    assert ledger.due(49.0) == []
    assert ledger.due(150.0) == ["b", "a"]
    assert ledger.machine("a") == {"step": 3}
    assert ledger.job("a").state == "queued"
    ledger.close()
    reopened = Ledger(ledger_location)
    assert [j.conversation_id for j in reopened.requeue_unfinished()] == ["a", "b", "c"]


def test_crash_counts_survive_a_restart(ledger_location):
    ledger = Ledger(ledger_location)
    ledger.add_job("c", (), 1.0)
    assert ledger.record_crash("c", "boom") == 1
    ledger.close()
    assert Ledger(ledger_location).record_crash("c", "boom") == 2


def test_operator_retry_wakes_failed_jobs_and_prune_forgets_old_finished_ones(ledger_location):
    ledger = Ledger(ledger_location)
    for cid, finished in (("old", 10.0), ("new", 20.0), ("ok", 20.0)):
        ledger.add_job(cid, (), finished)
    ledger.set_state("old", "failed", "share down")
    ledger.set_state("new", "failed", "share down")
    ledger.set_state("ok", "done")
    assert ledger.retry(since=15.0) == ["new"]
    assert ledger.job("new").state == "parked" and ledger.job("new").park_reason == "operator retry"
    assert ledger.counts() == {"failed": 1, "parked": 1, "done": 1}
    ledger.record_output("ok", "P", "audio:1", "written", "/x")
    import time

    assert ledger.prune(time.time() + 1) == 2  # "old" (failed) and "ok" (done); "new" is waiting again
    assert ledger.job("ok") is None and ledger.outputs("ok") == []
    assert ledger.job("new") is not None
