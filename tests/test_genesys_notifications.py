"""NotificationListener against the simulator's real WebSocket server: reconnects and topics."""

from __future__ import annotations

import time

import pytest
from genesys_fixtures import EventSink, make_client, requests_to, running_sim, wait_for

from genesys.notifications import CONNECTED, NotificationListener
from genesys.topics import queue_calls_topic, queue_conversations_topic

HB = 0.3


@pytest.fixture(scope="module")
def sim():
    with running_sim(seed=31, heartbeat_s=HB, socket_closing_grace_s=2.0) as s:
        yield s


@pytest.fixture(autouse=True)
def _reset_faults(sim):
    sim.faults.reset()
    yield
    sim.faults.reset()


def _listener(sim, sink: EventSink, **kw) -> NotificationListener:
    kw.setdefault("heartbeat_period_s", HB)
    kw.setdefault("backoff_initial_s", 0.05)
    kw.setdefault("backoff_max_s", 0.3)
    return NotificationListener(make_client(sim), sink.on_event, sink.on_state, **kw)


def _topics(sim, names: list[str] | None = None) -> list[str]:
    queues = [q for q in sim.org.all_queues() if names is None or q.name in names]
    return [queue_conversations_topic(q.id) for q in queues]


def _call_events(sim, sink: EventSink, queue: str = "Sales") -> str:
    call = sim.inject_call(kind="inbound_simple", queue_name=queue, duration_s=10)
    assert sim.wait_until_published(call.conversation_id, 20)
    assert wait_for(lambda: call.conversation_id in sink.conversation_ids(), 5), "no event for the call"
    return call.conversation_id


def test_events_arrive_and_stop_is_prompt(sim) -> None:
    sink = EventSink()
    listener = _listener(sim, sink)
    listener.start(_topics(sim))
    try:
        assert listener.wait_connected(5)
        assert listener.state == CONNECTED
        cid = _call_events(sim, sink)
        topics = {t for t, b in sink.events if b.get("id") == cid}
        assert topics == {queue_conversations_topic(sim.org.queue_by_name("Sales").id)}
        assert wait_for(lambda: listener.workers[0].heartbeats >= 2, 3)
        assert (CONNECTED,) == (sink.states[-1][0],)
    finally:
        start = time.monotonic()
        assert listener.stop(timeout=3)
        assert time.monotonic() - start < 2
    assert all(not w.thread.is_alive() for w in listener._retired + listener._workers)
    assert sink.states[-1][0] == "stopped"


def test_drop_reconnects_with_backoff(sim) -> None:
    sink = EventSink()
    listener = _listener(sim, sink)
    listener.start(_topics(sim))
    try:
        assert listener.wait_connected(5)
        worker = listener.workers[0]
        channel = worker.channel["id"]
        assert wait_for(lambda: sim.faults.drop_websockets() >= 1, 3)  # once the server has registered it
        assert wait_for(lambda: worker.reconnects >= 1 and worker.state == CONNECTED, 5)
        assert worker.channel["id"] == channel  # the channel survived; only the socket was new
        assert any(s == "disconnected" for s, _ in sink.states)
        _call_events(sim, sink)
    finally:
        assert listener.stop()


def test_socket_closing_opens_new_socket_promptly(sim) -> None:
    sink = EventSink()
    listener = _listener(sim, sink)
    listener.start(_topics(sim))
    try:
        assert listener.wait_connected(5)
        worker = listener.workers[0]
        start = time.monotonic()
        assert wait_for(lambda: sim.faults.send_socket_closing() >= 1, 3)
        assert wait_for(lambda: worker.reconnects >= 1, 3)
        assert time.monotonic() - start < 2.0  # inside the server's grace period (2 s here)
        assert worker.channels_created == 1
        assert any("socket closing" in d for _, d in sink.states)
        time.sleep(2.2)  # past the grace period: the old socket is closed, the new one lives on
        assert worker.state == CONNECTED
        _call_events(sim, sink)
    finally:
        assert listener.stop()


def test_missed_heartbeats_reconnect(sim) -> None:
    sink = EventSink()
    listener = _listener(sim, sink)
    listener.start(_topics(sim))
    try:
        assert listener.wait_connected(5)
        worker = listener.workers[0]
        sim.faults.stop_heartbeats = True
        start = time.monotonic()
        assert wait_for(lambda: worker.reconnects >= 1, 5)
        assert time.monotonic() - start >= 2 * HB * 0.9
        assert any("no heartbeat" in d for _, d in sink.states)
        assert worker.pongs >= 1  # the ping health check was sent and answered
        sim.faults.stop_heartbeats = False
        assert wait_for(lambda: worker.state == CONNECTED, 5)
        _call_events(sim, sink)
    finally:
        assert listener.stop()


def test_channel_gone_creates_a_new_channel(sim) -> None:
    sink = EventSink()
    listener = _listener(sim, sink)
    listener.start(_topics(sim))
    try:
        assert listener.wait_connected(5)
        worker = listener.workers[0]
        old = worker.channel["id"]
        sim.channels.get(old).expires_s = 0  # the platform dropped the channel
        sim.channels.expire()
        assert wait_for(
            lambda: worker.channel and worker.channel["id"] != old and worker.state == CONNECTED, 5
        )
        assert worker.channels_created == 2
        heads = [r for r in requests_to(sim, f"/channels/{old}", "HEAD")]
        assert heads and heads[-1].status == 404
        puts = [r for r in requests_to(sim, f"/channels/{worker.channel['id']}/subscriptions", "PUT")]
        assert puts and len(puts[-1].json) == len(_topics(sim))
        _call_events(sim, sink)
    finally:
        assert listener.stop()


def test_channel_moves_before_expiry() -> None:
    with running_sim(seed=32, heartbeat_s=HB, channel_ttl_s=3.0) as sim:
        sink = EventSink()
        listener = _listener(sim, sink, expiry_margin_s=1.0)
        listener.start(_topics(sim))
        try:
            assert listener.wait_connected(5)
            worker = listener.workers[0]
            first = worker.channel["id"]
            assert wait_for(lambda: any("channel expiry" in d for _, d in sink.states), 5)
            assert worker.channels_created >= 2 and worker.channel["id"] != first
            _call_events(sim, sink)
        finally:
            assert listener.stop()


def test_topics_over_1000_use_several_channels(sim) -> None:
    sink = EventSink()
    listener = _listener(sim, sink)
    real = _topics(sim)
    fake = [queue_conversations_topic(f"00000000-0000-4000-8000-{i:012d}") for i in range(1500)]
    listener.start(real + fake)
    try:
        assert listener.wait_connected(10)
        workers = listener.workers
        assert len(workers) == 2
        assert sorted(len(w.topics) for w in workers) == [len(real) + 1500 - 1000, 1000]
        ids = {w.channel["id"] for w in workers}
        assert len(ids) == 2
        for cid in ids:
            put = requests_to(sim, f"/channels/{cid}/subscriptions", "PUT")[-1]
            assert put.status == 200 and len(put.json) <= 1000
        _call_events(sim, sink)
    finally:
        assert listener.stop()


def test_set_topics_while_running_keeps_the_socket(sim) -> None:
    sink = EventSink()
    # a slower heartbeat check: a loaded CI machine can stall a thread for a second, and a reconnect for a
    # missed heartbeat is not what this test is about
    listener = _listener(sim, sink, heartbeat_period_s=1.5)
    listener.start(_topics(sim, ["Sales"]))
    try:
        assert listener.wait_connected(5)
        worker = listener.workers[0]
        support = sim.inject_call(kind="inbound_simple", queue_name="Support", duration_s=10)
        assert sim.wait_until_published(support.conversation_id, 20)
        time.sleep(0.2)
        assert support.conversation_id not in sink.conversation_ids()
        listener.set_topics(_topics(sim, ["Sales", "Support"]))
        assert listener.wait_connected(5)
        assert worker.reconnects == 0 and worker.channels_created == 1
        _call_events(sim, sink, queue="Support")
        _call_events(sim, sink, queue="Sales")
        # shrinking back to nothing stops the channel thread
        listener.set_topics([])
        assert wait_for(lambda: not worker.thread.is_alive(), 3)
    finally:
        assert listener.stop()


def test_both_topic_shapes(sim) -> None:
    sink = EventSink()
    listener = _listener(sim, sink)
    sales = sim.org.queue_by_name("Sales").id
    listener.start([queue_conversations_topic(sales), queue_calls_topic(sales)])
    try:
        assert listener.wait_connected(5)
        cid = _call_events(sim, sink)
        assert wait_for(
            lambda: (
                {t for t, b in sink.events if b.get("id") == cid}
                >= {queue_conversations_topic(sales), queue_calls_topic(sales)}
            ),
            3,
        )
    finally:
        assert listener.stop()


def test_revoked_token_and_drop_recover(sim) -> None:
    sink = EventSink()
    listener = _listener(sim, sink)
    listener.start(_topics(sim))
    try:
        assert listener.wait_connected(5)
        worker = listener.workers[0]
        sim.faults.revoke_tokens()
        assert wait_for(lambda: sim.faults.drop_websockets() >= 1, 3)
        assert wait_for(lambda: worker.reconnects >= 1 and worker.state == CONNECTED, 5)
        assert listener.client.tokens.fetch_count == 2  # the HEAD check got 401, refreshed, retried
        _call_events(sim, sink)
    finally:
        assert listener.stop()


def test_api_outage_is_a_backoff_state_then_recovers(sim) -> None:
    sink = EventSink()
    sim.faults.fault_paths = ["/api/v2/notifications"]
    sim.faults.rate_5xx = 1.0
    listener = NotificationListener(
        make_client(sim, max_retries=0),
        sink.on_event,
        sink.on_state,
        heartbeat_period_s=HB,
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
    )
    listener.start(_topics(sim))
    try:
        assert wait_for(lambda: sum(1 for s, _ in sink.states if s == "backoff") >= 3, 5)
        assert listener.state in ("backoff", "connecting") and listener.workers[0].thread.is_alive()
        sim.faults.reset()
        assert listener.wait_connected(5)
        _call_events(sim, sink)
    finally:
        assert listener.stop()
