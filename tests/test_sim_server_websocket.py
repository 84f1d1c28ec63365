"""Notification WebSocket behaviour, seen by a websocket-client client."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import websocket
from sim_server_fixtures import FAST, Api, SocketReader, queue_topics, wait_until

from simulator.app import Simulator


@pytest.fixture
def sim() -> Any:
    with Simulator(seed=2, **{**FAST, "heartbeat_s": 0.3}, socket_closing_grace_s=0.5) as s:
        yield s


def test_heartbeats_pong_and_events_only_for_subscribed_queues(sim: Simulator) -> None:
    api = Api(sim)
    ch = api.channel(queue_topics(sim, ["Sales"]))
    reader = SocketReader(ch["connectUri"])
    try:
        hb = reader.wait_for(
            lambda m: (
                m["topicName"] == "channel.metadata" and m["eventBody"]["message"] == "WebSocket Heartbeat"
            ),
            timeout=5,
        )
        assert set(hb) == {"topicName", "eventBody"}
        reader.send({"message": "ping"})
        reader.wait_for(lambda m: m["eventBody"].get("message") == "pong", timeout=5)
        assert (ch["id"], '{"message": "ping"}') in sim.socket_frames

        sales = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=20)
        support = sim.inject_call(kind="inbound_simple", queue_name="Support", duration_s=20)
        assert sim.wait_until_published(sales.conversation_id, 10)
        assert sim.wait_until_published(support.conversation_id, 10)
        sales_q = sim.org.queue_by_name("Sales").id
        wait_until(
            lambda: (
                sum(1 for m in reader.snapshot() if m.get("eventBody", {}).get("id") == sales.conversation_id)
                == 2 * sim.live(sales.conversation_id).queue_snapshots[sales_q]
            )
        )
        events = [m for m in reader.snapshot() if m["topicName"].startswith("v2.routing")]
        assert {m["topicName"] for m in events} == {
            f"v2.routing.queues.{sales_q}.conversations",
            f"v2.routing.queues.{sales_q}.conversations.calls",
        }
        assert all(m["eventBody"]["id"] == sales.conversation_id for m in events)
        for m in events:
            assert m["version"] == "2" and len(m["metadata"]["CorrelationId"]) == 36
        # the .calls shape carries the state on the participant, the other under calls[]
        calls_shape = [m for m in events if m["topicName"].endswith(".calls")]
        conv_shape = [m for m in events if not m["topicName"].endswith(".calls")]
        assert any("state" in p for m in calls_shape for p in m["eventBody"]["participants"])
        assert any("calls" in p for m in conv_shape for p in m["eventBody"]["participants"])
        # the final snapshot (published last) shows everyone disconnected
        final = conv_shape[-1]["eventBody"]
        assert all(
            c["state"] in ("disconnected", "terminated")
            for p in final["participants"]
            for c in p.get("calls", [])
        )
    finally:
        reader.close()


def test_socket_closing_then_close_and_reconnect(sim: Simulator) -> None:
    api = Api(sim)
    ch = api.channel(queue_topics(sim, ["Sales"]))
    reader = SocketReader(ch["connectUri"])
    wait_until(lambda: sim.ws.is_connected(ch["id"]))
    assert sim.faults.send_socket_closing() == 1
    msg = reader.wait_for(lambda m: m["topicName"] == "v2.system.socket_closing")
    assert msg["eventBody"]["channelId"] == ch["id"]
    assert not reader.closed.is_set()  # still open during the grace period
    assert reader.closed.wait(5)
    # a new socket on the same connectUri works and receives events
    again = SocketReader(ch["connectUri"])
    try:
        call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=10)
        again.wait_for(lambda m: m.get("eventBody", {}).get("id") == call.conversation_id)
    finally:
        again.close()


def test_second_socket_closes_the_first(sim: Simulator) -> None:
    api = Api(sim)
    ch = api.channel(queue_topics(sim, ["Sales"]))
    first = SocketReader(ch["connectUri"])
    wait_until(lambda: sim.ws.is_connected(ch["id"]))
    second = SocketReader(ch["connectUri"])
    try:
        assert first.closed.wait(5)
        call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=10)
        second.wait_for(lambda m: m.get("eventBody", {}).get("id") == call.conversation_id)
    finally:
        second.close()


def test_drop_stop_heartbeats_and_unknown_or_expired_channels(sim: Simulator) -> None:
    api = Api(sim)
    ch = api.channel(queue_topics(sim, ["Sales"]))
    reader = SocketReader(ch["connectUri"])
    wait_until(lambda: sim.ws.is_connected(ch["id"]))
    assert sim.faults.drop_websockets() == 1
    assert reader.closed.wait(5)
    assert reader.close_status is None  # abrupt: no close frame

    sim.faults.stop_heartbeats = True
    quiet = SocketReader(ch["connectUri"])
    try:
        import time

        time.sleep(1.0)
        assert not [m for m in quiet.snapshot() if m["eventBody"].get("message") == "WebSocket Heartbeat"]
        sim.faults.stop_heartbeats = False
        quiet.wait_for(lambda m: m["eventBody"].get("message") == "WebSocket Heartbeat", timeout=3)
    finally:
        quiet.close()

    with pytest.raises(websocket.WebSocketBadStatusException) as err:
        websocket.create_connection(f"{sim.ws_url}/channels/streaming-0-unknown", timeout=5)
    assert err.value.status_code == 404


def test_channel_expiry_closes_socket_and_404s(sim: Simulator) -> None:
    sim.channels.ttl_s = 1.5
    api = Api(sim)
    ch = api.channel(queue_topics(sim, ["Sales"]))
    reader = SocketReader(ch["connectUri"])
    assert reader.closed.wait(5)
    r = api.call("HEAD", f"/api/v2/notifications/channels/{ch['id']}")
    assert r.status_code == 404
    assert api.call("GET", f"/api/v2/notifications/channels/{ch['id']}/subscriptions").status_code == 404
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(ch["connectUri"], timeout=5)
    assert requests.get(sim.api_url + "/api/v2/date", timeout=5).status_code == 401
