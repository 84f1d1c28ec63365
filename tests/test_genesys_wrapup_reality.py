"""Wrap-up timing as a real org behaves (issue 11 items 8 and 14): waits persisted in the ledger and
restored after a restart, bounded by the queue's after-call-work settings, ended by the evidence
Genesys gives; ``terminated`` legs, event wrap-up code names and ``v2.system`` messages."""

from __future__ import annotations

import json
import logging
import threading
import time

from genesys_fixtures import make_client, running_sim, wait_for

from export.config_loader import build_snapshot
from genesys.notifications import NotificationListener
from genesys.topics import queue_conversations_topic
from genesys.wrapup import ConversationTracker, Finished
from ledger import Ledger

Q = "q-sales"


def _body(cid: str, *, agent_state: str = "disconnected", wrapup: dict | None = None, **agent_extra) -> dict:
    agent = {
        "id": "p-agent",
        "purpose": "agent",
        "userId": "u-1",
        "queueId": Q,
        "wrapupRequired": True,
        "calls": [{"id": "c-agent", "state": agent_state}],
        **agent_extra,
    }
    if wrapup:
        agent["wrapup"] = wrapup
    return {
        "id": cid,
        "participants": [
            {"id": "p-cust", "purpose": "customer", "calls": [{"id": "c-cust", "state": "disconnected"}]},
            {
                "id": "p-acd",
                "purpose": "acd",
                "queueId": Q,
                "calls": [{"id": "c-acd", "state": "terminated"}],
            },
            agent,
        ],
    }


def test_wrapup_wait_survives_a_restart_through_the_ledger(tmp_path) -> None:
    ledger = Ledger(tmp_path / "ledger.db")
    clock = [1_000_000.0]
    first = ConversationTracker(default_wrapup_timeout_s=600, wrapup_margin_s=30, clock=lambda: clock[0])
    assert first.feed(_body("c1"), topic=f"v2.routing.queues.{Q}.conversations") is None
    updates, dropped = first.take_changes()
    assert set(updates) == {"c1"} and not dropped
    for cid, (state, expires_at) in updates.items():
        ledger.put_pending(cid, json.loads(json.dumps(state)), expires_at)
    assert ledger.pending()[0].expires_at == 1_000_000.0 + 630

    # the process restarts; the wrap-up arrives afterwards
    clock[0] += 100
    second = ConversationTracker(default_wrapup_timeout_s=600, wrapup_margin_s=30, clock=lambda: clock[0])
    for pending in ledger.pending():
        second.restore_pending(pending.conversation_id, pending.state)
    assert second.pending_ids() == ["c1"] and second.next_deadline() == 1_000_630.0
    out = second.feed(_body("c1", wrapup={"code": "Resolved"}), topic=f"v2.routing.queues.{Q}.conversations")
    assert isinstance(out, Finished) and out.reason == "wrapped-up" and out.agent_user_ids == {"u-1"}
    _, dropped = second.take_changes()
    for cid in dropped:
        ledger.drop_pending(cid)
    assert ledger.pending() == []

    # a second restart during a wait whose deadline passed while the service was down: exported at once
    third = ConversationTracker(default_wrapup_timeout_s=600, wrapup_margin_s=30, clock=lambda: clock[0])
    third.feed(_body("c2"), topic=f"v2.routing.queues.{Q}.conversations")
    ((state, _),) = third.take_changes()[0].values()
    clock[0] += 10_000
    fourth = ConversationTracker(clock=lambda: clock[0])
    fourth.restore_pending("c2", state)
    (late,) = fourth.poll()
    assert late.conversation_id == "c2" and late.reason == "wrapup-timeout"


def test_wrapup_wait_is_bounded_by_the_queue_after_call_work_settings() -> None:
    clock = [0.0]
    tracker = ConversationTracker(default_wrapup_timeout_s=3600, wrapup_margin_s=10, clock=lambda: clock[0])
    tracker.queue_acw = {Q: {"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 20_000}}
    tracker.feed(_body("timed"))
    assert tracker.next_deadline() == 30.0  # 20 s ACW + margin, not the 1 h default
    mandatory = ConversationTracker(default_wrapup_timeout_s=3600, wrapup_margin_s=10, clock=lambda: clock[0])
    mandatory.queue_acw = {Q: {"wrapupPrompt": "MANDATORY"}}  # no timeout: the agent may take long
    mandatory.feed(_body("untimed"))
    assert mandatory.next_deadline() == 3610.0
    participant = ConversationTracker(
        default_wrapup_timeout_s=3600, wrapup_margin_s=10, clock=lambda: clock[0]
    )
    participant.queue_acw = {Q: {"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 20_000}}
    participant.feed(_body("own", wrapupPrompt="timeout", wrapupTimeoutMs=5_000))
    assert participant.next_deadline() == 15.0  # the participant's own timed ACW wins


def test_export_on_the_evidence_genesys_gives() -> None:
    topic = f"v2.routing.queues.{Q}.conversations"
    evidence = {
        "code": {"wrapup": {"code": "Resolved"}},
        "endAcwTime": {"endAcwTime": "2026-01-01T10:06:00.000Z"},
        "afterCallWork": {
            "calls": [{"id": "c-agent", "state": "disconnected", "afterCallWork": {"state": "complete"}}]
        },
    }
    for name, extra in evidence.items():
        tracker = ConversationTracker()
        assert isinstance(tracker.feed(_body(name, **extra), topic=topic), Finished), name
    timed_out = ConversationTracker().feed(
        _body("timeout", wrapup={"code": "ININ-WRAP-UP-TIMEOUT"}), topic=topic
    )
    assert isinstance(timed_out, Finished) and timed_out.reason == "wrapup-timeout-code"


def test_queue_acw_settings_reach_the_configuration_snapshot() -> None:
    with running_sim(seed=81) as sim:
        client = make_client(sim)

        class Location:
            datatable, datatable_row, datatable_column = "CallExport Configuration", "config", "Configuration"
            system_queue = "CallExport System"

        doc = json.dumps({"Profiles": [{"Name": "A", "Queues": ["Sales"], "ExportRootPath": "/tmp/x"}]})
        snapshot = build_snapshot(client, Location(), doc, 1)
        sales = sim.org.queue_by_name("Sales")
        assert snapshot.queue_acw[sales.id] == {
            "wrapupPrompt": sales.acw_wrapup_prompt,
            "timeoutMs": sales.acw_timeout_ms,
        }


def test_terminated_legs_and_event_wrapup_code_names_are_understood() -> None:
    with running_sim(seed=82, terminated_fraction=1.0, event_speed=120) as sim:
        client = make_client(sim)
        sales = sim.org.queue_by_name("Sales")
        tracker = ConversationTracker(system_queue_id=sim.org.system_queue.id)
        bodies: list[dict] = []
        outcomes: list = []
        lock = threading.Lock()

        def on_event(topic: str, body: dict) -> None:
            with lock:
                bodies.append(body)
                out = tracker.feed(body, topic=topic)
                if out is not None:
                    outcomes.append(out)

        listener = NotificationListener(client, on_event, heartbeat_period_s=0.5)
        listener.start([queue_conversations_topic(sales.id)])
        try:
            assert listener.wait_connected(10)
            call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=40)
            assert sim.wait_until_published(call.conversation_id, 30)
            assert wait_for(lambda: any(isinstance(o, Finished) for o in outcomes), 10)
        finally:
            assert listener.stop()
        final = bodies[-1]
        acd = next(p for p in final["participants"] if p["purpose"] == "acd")
        assert acd["calls"][0]["state"] == "terminated"  # SDK call state enum; the tracker treats it as ended
        agent = call.agents()[0]
        event_agent = next(p for p in final["participants"] if p["id"] == agent.participant_id)
        if agent.wrapup_code and agent.wrapup_code != "ININ-WRAP-UP-TIMEOUT":
            name = sim.org.wrapup_code_by_id(agent.wrapup_code).name
            assert event_agent["wrapup"]["code"] == name  # "The user configured wrap up code name"


def test_system_messages_on_the_socket_are_not_conversations(caplog) -> None:
    with running_sim(seed=83) as sim:
        client = make_client(sim)
        tracker = ConversationTracker()
        events: list[tuple[str, dict]] = []
        listener = NotificationListener(
            client, lambda t, b: (events.append((t, b)), tracker.feed(b, topic=t)), heartbeat_period_s=0.5
        )
        listener.start([queue_conversations_topic(sim.org.queue_by_name("Sales").id)])
        try:
            assert listener.wait_connected(10)
            puts = len([r for r in sim.requests if r.method == "PUT" and r.path.endswith("/subscriptions")])
            with caplog.at_level(logging.INFO):
                # the client may see its socket open before the simulator has listed it: 0 means not sent
                assert wait_for(
                    lambda: (
                        sim.faults.send_system_message("no_longer_subscribed", "another_channel_subscribed")
                        == 1
                    ),
                    5,
                )
                assert sim.faults.send_system_message("token_revoked") == 1
                assert wait_for(
                    lambda: (
                        len(
                            [
                                r
                                for r in sim.requests
                                if r.method == "PUT" and r.path.endswith("/subscriptions")
                            ]
                        )
                        > puts
                    ),
                    5,
                )  # subscribed again after no_longer_subscribed
                time.sleep(0.3)
        finally:
            assert listener.stop()
        assert events == [] and tracker.active_count == 0
        assert "without a conversation id" not in caplog.text
        assert "system message no_longer_subscribed (another_channel_subscribed)" in caplog.text
