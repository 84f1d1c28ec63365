"""The wrap-up tracker fed by the real listener: exactly one Finished per conversation, every call kind."""

from __future__ import annotations

import dataclasses
import threading
import time

from genesys_fixtures import make_client, running_sim, wait_for

from genesys.notifications import NotificationListener
from genesys.topics import is_calls_topic, queue_calls_topic, queue_conversations_topic
from genesys.wrapup import ConfigSignal, ConversationTracker, Finished


class TrackedListener:
    """Listener + one tracker per topic shape, as the NotificationActor will hold them."""

    def __init__(self, sim, **tracker_kw) -> None:
        system = sim.org.system_queue.id
        self.trackers = {
            "conversations": ConversationTracker(system_queue_id=system, **tracker_kw),
            "calls": ConversationTracker(system_queue_id=system, **tracker_kw),
        }
        self.outcomes: dict[str, list] = {"conversations": [], "calls": []}
        self.lock = threading.Lock()
        self.listener = NotificationListener(make_client(sim), self.on_event, heartbeat_period_s=2.0)
        topics = []
        for q in sim.org.all_queues():
            topics += [queue_conversations_topic(q.id), queue_calls_topic(q.id)]
        self.listener.start(topics)
        assert self.listener.wait_connected(5)

    def on_event(self, topic: str, body: dict) -> None:
        shape = "calls" if is_calls_topic(topic) else "conversations"
        with self.lock:
            out = self.trackers[shape].feed(body, topic=topic)
            if out is not None:
                self.outcomes[shape].append(out)

    def poll(self) -> None:
        with self.lock:
            for shape, tracker in self.trackers.items():
                self.outcomes[shape].extend(tracker.poll())

    def finished(self, shape: str) -> list[Finished]:
        with self.lock:
            return [o for o in self.outcomes[shape] if isinstance(o, Finished)]


def test_every_call_kind_finishes_exactly_once() -> None:
    from simulator.scenarios import KINDS

    with running_sim(seed=41, event_speed=120, heartbeat_s=2.0) as sim:
        tracked = TrackedListener(sim, default_wrapup_timeout_s=60)
        try:
            calls = [sim.inject_call(kind=kind, queue_name="Sales", duration_s=60) for kind in KINDS]
            calls += [
                sim.inject_call(kind="blind_transfer", queue_name="Support", duration_s=40) for _ in range(2)
            ]
            signal = make_client(sim).create_callback(sim.org.system_queue.id)
            for call in calls:
                assert sim.wait_until_published(call.conversation_id, 30), call.kind
            expected = {c.conversation_id for c in calls if c.queue_ids()}
            assert len(expected) >= len(calls) - 1  # ivr_only never reaches a queue
            assert wait_for(
                lambda: {f.conversation_id for f in tracked.finished("conversations")} >= expected, 5
            )
            assert wait_for(lambda: {f.conversation_id for f in tracked.finished("calls")} >= expected, 5)
            time.sleep(0.5)  # late duplicates would show up now
            tracked.poll()
            for shape in ("conversations", "calls"):
                ids = [f.conversation_id for f in tracked.finished(shape)]
                assert sorted(ids) == sorted(expected), shape  # exactly once, nothing extra
                for f in tracked.finished(shape):
                    truth = sim.calls[f.conversation_id]
                    assert f.queue_ids >= set(truth.queue_ids()) - {sim.org.system_queue.id}
                    assert f.reason != "wrapup-timeout", (truth.kind, f)
                    assert f.agent_user_ids == {a.user_id for a in truth.agents()}
                    if shape == "conversations":  # fired only once every required wrap-up is in
                        for p in f.snapshot["participants"]:
                            if p.get("purpose") == "agent" and p.get("wrapupRequired"):
                                assert p.get("wrapup") or p.get("endAcwTime"), (truth.kind, p)
            signals = [o for o in tracked.outcomes["conversations"] if isinstance(o, ConfigSignal)]
            assert [s.conversation_id for s in signals] == [signal["conversation"]["id"]]
        finally:
            assert tracked.listener.stop()


def test_wrapup_that_never_comes_finishes_by_timeout() -> None:
    with running_sim(seed=42, event_speed=120, heartbeat_s=2.0) as sim:
        original = sim.generate

        def never_wrapped(**kw):
            call = original(**kw)
            parts = tuple(
                dataclasses.replace(
                    p,
                    wrapup_required=True,
                    wrapup_submitted_ms=None,
                    wrapup_code=None,
                    wrapup_timeout_ms=None,
                )
                if p.purpose == "agent"
                else p
                for p in call.participants
            )
            return dataclasses.replace(call, participants=parts)

        sim.generate = never_wrapped  # a scenario the simulator has no knob for: ACW never submitted
        tracked = TrackedListener(sim, default_wrapup_timeout_s=0.8, wrapup_margin_s=0.0)
        try:
            call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=30)
            assert sim.wait_until_published(call.conversation_id, 20)
            time.sleep(0.3)
            assert tracked.finished("conversations") == []
            assert wait_for(lambda: (tracked.poll(), tracked.finished("conversations"))[1] != [], 5)
            (done,) = tracked.finished("conversations")
            assert done.conversation_id == call.conversation_id and done.reason == "wrapup-timeout"
            tracked.poll()
            assert len(tracked.finished("conversations")) == 1
        finally:
            assert tracked.listener.stop()
