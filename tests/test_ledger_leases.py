"""Several instances on one ledger: claims, leases, take-over, the leader lease and heartbeats. Each
test runs on both backends (SQLite file, real PostgreSQL server); two `Ledger` objects stand for two
instances (two connection pools)."""

from __future__ import annotations

import threading
import time

from ledger import LEADER, Ledger


def _two(location):  # type: ignore[no-untyped-def]
    return Ledger(location), Ledger(location)


def test_concurrent_claims_never_hand_one_job_to_two_instances(ledger_location):
    a, b = _two(ledger_location)
    for i in range(60):
        a.add_job(f"c{i:02d}", (), float(i))
    got: dict[str, list[str]] = {"a": [], "b": []}

    def worker(name: str, ledger: Ledger) -> None:
        while True:
            jobs = ledger.claim(name, 3, lease_s=30)
            if not jobs:
                return
            got[name].extend(j.conversation_id for j in jobs)

    threads = [threading.Thread(target=worker, args=(n, led)) for n, led in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not set(got["a"]) & set(got["b"])
    assert sorted(got["a"] + got["b"]) == [f"c{i:02d}" for i in range(60)]
    assert all(j.state == "running" and j.attempts == 1 for j in a.jobs())
    assert {j.lease_owner for j in a.jobs()} <= {"a", "b"}
    a.close()
    b.close()


def test_claims_go_by_priority_then_arrival_and_can_keep_to_live_work(ledger_location):
    ledger = Ledger(ledger_location)
    ledger.add_job("bg1", (), 1.0, source="backfill", priority=5)
    ledger.add_job("live1", (), 2.0)
    ledger.add_job("live2", (), 3.0)
    ledger.add_job("bg2", (), 4.0, source="backfill", priority=5)
    assert [j.conversation_id for j in ledger.claim("a", 10, below_priority=5)] == ["live1", "live2"]
    assert [j.conversation_id for j in ledger.claim("a", 1, exclude={"bg1"})] == ["bg2"]
    assert [j.conversation_id for j in ledger.claim("a", 10)] == ["bg1"]
    ledger.close()


def test_a_held_job_is_started_once_and_taken_over_when_its_lease_expires(ledger_location):
    a, b = _two(ledger_location)
    a.add_job("c", (), 1.0)
    job = a.start("c", owner="a", lease_s=0.5)
    assert job is not None and job.lease_owner == "a" and job.attempts == 1
    assert b.start("c", owner="b", lease_s=30) is None  # a holds it
    assert a.renew("a", {"c"}, lease_s=0.5) == {"c"}
    assert b.expire_leases() == []
    time.sleep(0.8)  # a "dies": no renewal
    assert [j.conversation_id for j in b.orphaned_leases()] == ["c"]
    assert b.expire_leases() == [("c", "a")]
    taken = b.claim("b", 5, lease_s=30)
    assert [j.conversation_id for j in taken] == ["c"] and taken[0].unclean_starts == 2
    assert a.renew("a", {"c"}, lease_s=30) == set()  # a learns it lost the job
    assert not a.set_state("c", "done", owner="a")  # and cannot decide its outcome any more
    assert a.job("c").state == "running"
    assert b.set_state("c", "done", owner="b")
    done = a.job("c")
    assert done.state == "done" and done.lease_until is None
    assert b.orphaned_leases() == []
    a.close()
    b.close()


def test_a_restarted_instance_requeues_only_its_own_running_jobs(ledger_location):
    a, b = _two(ledger_location)
    for cid in ("x", "y", "z"):
        a.add_job(cid, (), 1.0)
    assert a.start("x", owner="a", lease_s=30) is not None
    assert b.start("y", owner="b", lease_s=30) is not None
    requeued = a.requeue_unfinished(owner="a")
    assert [j.conversation_id for j in requeued] == ["x", "z"]
    assert a.job("y").state == "running" and a.job("y").lease_owner == "b"
    a.close()
    b.close()


def test_parking_releases_the_lease_and_a_woken_job_is_claimed_by_one_instance(ledger_location):
    a, b = _two(ledger_location)
    a.add_job("c", (), 1.0)
    a.start("c", owner="a", lease_s=30)
    a.park("c", time.time() - 1, "transcript", {"step": 2})
    parked = b.job("c")
    assert parked.state == "parked" and parked.lease_until is None and parked.lease_owner == "a"
    woken = a.due(time.time()) + b.due(time.time())
    assert woken == ["c"]
    assert len(a.claim("a", 5) + b.claim("b", 5)) == 1
    a.close()
    b.close()


def test_one_leader_at_a_time_and_the_role_moves_when_its_lease_expires(ledger_location):
    a, b = _two(ledger_location)
    assert a.acquire_lease(LEADER, "a", 0.5)
    assert not b.acquire_lease(LEADER, "b", 0.5)
    assert a.acquire_lease(LEADER, "a", 0.5)  # renewal
    assert b.lease_holder() == "a"
    time.sleep(0.7)
    assert b.lease_holder() is None
    assert b.acquire_lease(LEADER, "b", 5)
    assert not a.acquire_lease(LEADER, "a", 5)
    b.release_lease(LEADER, "b")  # a clean stop hands the role over at once
    assert a.acquire_lease(LEADER, "a", 5)
    a.close()
    b.close()


def test_heartbeats_list_live_instances_with_their_figures(ledger_location):
    a, b = _two(ledger_location)
    a.add_job("p", (), 1.0)
    a.start("p", owner="a")
    a.park("p", time.time() + 60, "transcript")
    a.heartbeat("a", host="h1", pid=11, version="1.0", running=2, requests_per_minute=120.0, budget=300)
    b.heartbeat("b", host="h2", pid=22, version="1.0", running=0)
    a.acquire_lease(LEADER, "a", 30)
    live = a.instances(live_within=30)
    assert [(i.name, i.host, i.running, i.parked, i.leader) for i in live] == [
        ("a", "h1", 2, 1, True),
        ("b", "h2", 0, 0, False),
    ]
    assert live[0].requests_per_minute == 120.0 and live[0].budget == 300
    b.leave("b")
    assert [i.name for i in a.instances(live_within=30)] == ["a"]
    assert [i.name for i in a.instances()] == ["a", "b"]
    a.leave("a")
    assert a.lease_holder() is None
    assert a.forget_instance("b") and [i.name for i in a.instances()] == ["a"]
    a.close()
    b.close()


def test_instances_starting_together_migrate_the_schema_once(ledger_location):
    opened: list[Ledger] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            opened.append(Ledger(ledger_location))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(opened) == 4
    assert opened[0].add_job("c", (), 1.0) and not opened[1].add_job("c", (), 1.0)
    for ledger in opened:
        ledger.close()


def test_membership_elects_one_leader_and_a_transient_instance_never_leads(ledger_location):
    from ledger.cluster import Membership

    a, b, c = Ledger(ledger_location), Ledger(ledger_location), Ledger(ledger_location)
    one = Membership(a, "one", lease_s=3)
    two = Membership(b, "two", lease_s=3)
    oneshot = Membership(c, "one~123", lease_s=3, may_lead=False)
    assert oneshot.beat() == (not c.shared)  # SQLite: the one instance leads without asking
    assert one.beat(running=2, requests_per_minute=30.0, budget=300)
    assert two.beat() == (not b.shared)
    if a.shared:
        assert a.lease_holder() == "one" and not oneshot.is_leader
        one.leave()  # a clean stop hands the role over at once
        assert two.beat() and b.lease_holder() == "two"
        assert {i.name for i in c.instances(live_within=30)} == {"two", "one~123"}
    for ledger in (a, b, c):
        ledger.close()
