"""ConversationTracker: the "over and wrapped up" rule from hand-written snapshots (both shapes)."""

from __future__ import annotations

import random

from genesys.wrapup import ConfigSignal, ConversationTracker, Finished

Q = "q-sales"
SYS = "q-system"


def conv_shape(
    cid: str,
    *,
    agent_state: str,
    customer_state: str,
    wrapup: bool,
    required: bool = True,
    extra_agent: dict | None = None,
    queue: str = Q,
) -> dict:
    """A `v2.routing.queues.{id}.conversations` body: state in participant.calls[]."""
    customer = {
        "id": "p-cust",
        "purpose": "customer",
        "calls": [{"id": "c-cust", "state": customer_state}],
        **({"endTime": "2026-01-01T10:05:00Z"} if customer_state == "disconnected" else {}),
    }
    acd = {
        "id": "p-acd",
        "purpose": "acd",
        "queueId": queue,
        "calls": [{"id": "c-acd", "state": "disconnected", "disconnectType": "transfer"}],
        "endTime": "2026-01-01T10:01:00Z",
    }
    agent = {
        "id": "p-agent",
        "purpose": "agent",
        "userId": "u-1",
        "queueId": queue,
        "wrapupRequired": required,
        "calls": [{"id": "c-agent", "state": agent_state}],
        **({"endTime": "2026-01-01T10:05:00Z"} if agent_state == "disconnected" else {}),
        **({"wrapup": {"code": "Resolved", "durationSeconds": 3}} if wrapup else {}),
        **(extra_agent or {}),
    }
    return {"id": cid, "participants": [customer, acd, agent]}


def calls_shape(
    cid: str, *, agent_state: str, wrapup: bool, required: bool = True, timeout_ms: int | None = None
) -> dict:
    """A `...conversations.calls` body: flat participant state, queue as a reference."""
    agent = {
        "id": "p-agent",
        "purpose": "agent",
        "state": agent_state,
        "user": {"id": "u-2"},
        "queue": {"id": Q},
        "wrapupRequired": required,
    }
    if timeout_ms:
        agent["wrapupTimeoutMs"] = timeout_ms
        agent["wrapupPrompt"] = "timeout"
    if wrapup:
        agent["wrapup"] = {"code": "Sale", "durationSeconds": 2}
    return {
        "id": cid,
        "participants": [
            {
                "id": "p-cust",
                "purpose": "customer",
                "state": "disconnected" if agent_state == "disconnected" else "connected",
            },
            {"id": "p-acd", "purpose": "acd", "state": "disconnected", "queue": {"id": Q}},
            agent,
        ],
    }


def test_finishes_once_after_wrapup_conversations_shape() -> None:
    t = ConversationTracker()
    assert (
        t.feed(conv_shape("c1", agent_state="connected", customer_state="connected", wrapup=False), now=0)
        is None
    )
    assert (
        t.feed(
            conv_shape("c1", agent_state="disconnected", customer_state="disconnected", wrapup=False), now=1
        )
        is None
    )
    out = t.feed(
        conv_shape("c1", agent_state="disconnected", customer_state="disconnected", wrapup=True), now=2
    )
    assert isinstance(out, Finished)
    assert out.conversation_id == "c1" and out.reason == "wrapped-up"
    assert out.queue_ids == frozenset({Q}) and out.agent_user_ids == frozenset({"u-1"})
    # repeats are suppressed
    assert (
        t.feed(
            conv_shape("c1", agent_state="disconnected", customer_state="disconnected", wrapup=True), now=3
        )
        is None
    )
    assert t.active_count == 0 and t.is_reported("c1")


def test_calls_shape_and_queue_reference() -> None:
    t = ConversationTracker()
    assert t.feed(calls_shape("c2", agent_state="connected", wrapup=False), now=0) is None
    assert t.feed(calls_shape("c2", agent_state="disconnected", wrapup=False), now=1) is None
    out = t.feed(calls_shape("c2", agent_state="disconnected", wrapup=True), now=2)
    assert (
        isinstance(out, Finished)
        and out.queue_ids == frozenset({Q})
        and out.agent_user_ids == frozenset({"u-2"})
    )


def test_out_of_order_old_snapshot_does_not_revive_and_final_first_works() -> None:
    t = ConversationTracker()
    final = conv_shape("c3", agent_state="disconnected", customer_state="disconnected", wrapup=True)
    early = conv_shape("c3", agent_state="connected", customer_state="connected", wrapup=False)
    out = t.feed(final, now=0)
    assert isinstance(out, Finished)
    assert t.feed(early, now=1) is None  # late, older snapshot after finishing

    t2 = ConversationTracker()
    # disconnected snapshot, then an older "connected" one, then the wrap-up: still finishes
    assert (
        t2.feed(
            conv_shape("c4", agent_state="disconnected", customer_state="disconnected", wrapup=False), now=0
        )
        is None
    )
    assert (
        t2.feed(conv_shape("c4", agent_state="connected", customer_state="connected", wrapup=False), now=1)
        is None
    )
    out = t2.feed(
        conv_shape("c4", agent_state="disconnected", customer_state="connected", wrapup=True), now=2
    )
    assert isinstance(out, Finished)


def test_shuffled_repeated_events_fire_exactly_once() -> None:
    rng = random.Random(7)
    events = []
    for i in range(30):
        cid = f"conv-{i}"
        events += [
            conv_shape(cid, agent_state="alerting", customer_state="connected", wrapup=False),
            conv_shape(cid, agent_state="connected", customer_state="connected", wrapup=False),
            conv_shape(cid, agent_state="disconnected", customer_state="disconnected", wrapup=False),
            conv_shape(cid, agent_state="disconnected", customer_state="disconnected", wrapup=True),
        ] * 2
    rng.shuffle(events)
    t = ConversationTracker()
    fired = [o.conversation_id for e in events if isinstance(o := t.feed(e, now=0), Finished)]
    assert sorted(fired) == sorted(f"conv-{i}" for i in range(30))


def test_no_wrapup_needed_and_abandon() -> None:
    t = ConversationTracker()
    out = t.feed(
        conv_shape(
            "c5", agent_state="disconnected", customer_state="disconnected", wrapup=False, required=False
        ),
        now=0,
    )
    assert isinstance(out, Finished) and out.reason == "no-wrapup-needed"
    abandon = {
        "id": "c6",
        "participants": [
            {"id": "p1", "purpose": "customer", "calls": [{"id": "x", "state": "disconnected"}]},
            {"id": "p2", "purpose": "acd", "queueId": Q, "calls": [{"id": "y", "state": "disconnected"}]},
        ],
    }
    out = t.feed(abandon, now=0)
    assert isinstance(out, Finished) and out.queue_ids == frozenset({Q})


def test_acw_signals_count_as_wrapped() -> None:
    for extra in ({"endAcwTime": "2026-01-01T10:06:00Z"}, {"wrapupSkipped": True}):
        t = ConversationTracker()
        out = t.feed(
            conv_shape(
                "c7",
                agent_state="disconnected",
                customer_state="disconnected",
                wrapup=False,
                extra_agent=extra,
            ),
            now=0,
        )
        assert isinstance(out, Finished), extra
    t = ConversationTracker()
    body = conv_shape("c8", agent_state="disconnected", customer_state="disconnected", wrapup=False)
    body["participants"][2]["calls"][0]["afterCallWork"] = {"state": "complete"}
    assert isinstance(t.feed(body, now=0), Finished)


def test_wrapup_timeout_via_poll_uses_participant_timeout() -> None:
    t = ConversationTracker(default_wrapup_timeout_s=600, wrapup_margin_s=5)
    assert (
        t.feed(calls_shape("c9", agent_state="disconnected", wrapup=False, timeout_ms=10_000), now=100)
        is None
    )
    assert t.next_deadline() == 115
    assert t.poll(now=114) == []
    out = t.poll(now=115)
    assert len(out) == 1 and out[0].reason == "wrapup-timeout" and out[0].conversation_id == "c9"
    assert t.poll(now=200) == []
    assert (
        t.feed(calls_shape("c9", agent_state="disconnected", wrapup=True), now=201) is None
    )  # late wrap-up suppressed


def test_default_wrapup_timeout() -> None:
    t = ConversationTracker(default_wrapup_timeout_s=60, wrapup_margin_s=0)
    t.feed(conv_shape("c10", agent_state="disconnected", customer_state="disconnected", wrapup=False), now=0)
    assert t.poll(now=59) == [] and len(t.poll(now=60)) == 1


def test_transfer_adds_participant_so_not_finished_early() -> None:
    t = ConversationTracker()
    body = conv_shape("c11", agent_state="disconnected", customer_state="connected", wrapup=True)
    body["participants"].append(
        {
            "id": "p-agent2",
            "purpose": "agent",
            "userId": "u-9",
            "queueId": Q,
            "wrapupRequired": True,
            "calls": [{"id": "c-a2", "state": "connected"}],
        }
    )
    assert t.feed(body, now=0) is None
    body2 = conv_shape("c11", agent_state="disconnected", customer_state="disconnected", wrapup=True)
    # an older-shaped snapshot without the second agent must not finish the call: union of participants
    assert t.feed(body2, now=1) is None
    body["participants"][0]["calls"][0]["state"] = "disconnected"
    body["participants"][3]["calls"][0]["state"] = "disconnected"
    assert t.feed(body, now=2) is None  # second agent still wrapping up
    body["participants"][3]["wrapup"] = {"code": "Done"}
    out = t.feed(body, now=3)
    assert isinstance(out, Finished) and out.agent_user_ids == frozenset({"u-1", "u-9"})


def test_system_queue_signal_once() -> None:
    t = ConversationTracker(system_queue_id=SYS)
    callback = {
        "id": "cb1",
        "participants": [
            {"id": "p", "purpose": "acd", "queueId": SYS, "callbacks": [{"id": "k", "state": "alerting"}]}
        ],
    }
    out = t.feed(callback, now=0)
    assert out == ConfigSignal("cb1", SYS)
    assert t.feed(callback, now=1) is None
    # learned from the topic when the body has no queue id
    out = t.feed({"id": "cb2", "participants": []}, topic=f"v2.routing.queues.{SYS}.conversations", now=2)
    assert isinstance(out, ConfigSignal)


def test_bounded_memory_and_duplicate_window() -> None:
    t = ConversationTracker(remember_s=100, max_remembered=5)
    for i in range(10):
        t.feed(
            conv_shape(f"m{i}", agent_state="disconnected", customer_state="disconnected", wrapup=True), now=i
        )
    assert t.remembered_count == 5
    assert t.is_reported("m9") and not t.is_reported("m0")
    t.poll(now=150)  # m5..m9 were reported at 5..9: all older than 100 s at 150? 150-9=141 > 100
    assert t.remembered_count == 0
    # within the window a duplicate is suppressed
    t.feed(conv_shape("n1", agent_state="disconnected", customer_state="disconnected", wrapup=True), now=200)
    assert (
        t.feed(
            conv_shape("n1", agent_state="disconnected", customer_state="disconnected", wrapup=True), now=299
        )
        is None
    )


def test_idle_conversations_forgotten_and_bad_bodies_ignored(caplog) -> None:
    t = ConversationTracker(max_idle_s=10)
    t.feed(conv_shape("i1", agent_state="connected", customer_state="connected", wrapup=False), now=0)
    assert t.active_count == 1
    t.poll(now=11)
    assert t.active_count == 0
    assert t.feed({"participants": []}, now=0) is None
    assert t.feed([], now=0) is None  # type: ignore[arg-type]
    assert t.feed({"id": "x", "participants": ["junk", {"no": "id"}]}, now=0) is None


def test_participant_without_media_does_not_block() -> None:
    t = ConversationTracker()
    body = conv_shape("w1", agent_state="disconnected", customer_state="disconnected", wrapup=True)
    body["participants"].append({"id": "p-flow", "purpose": "workflow"})
    assert isinstance(t.feed(body, now=0), Finished)
    # but a conversation of only media-less participants is not judged over
    assert t.feed({"id": "w2", "participants": [{"id": "x", "purpose": "workflow"}]}, now=0) is None
    ended = {
        "id": "w3",
        "participants": [{"id": "x", "purpose": "customer", "endTime": "2026-01-01T00:00:00Z"}],
    }
    assert isinstance(t.feed(ended, now=0), Finished)
