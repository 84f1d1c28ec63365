"""Thread-free parts of genesys/: config, error mapping, topics, rate limiter."""

from __future__ import annotations

import json
import threading
import time

import pytest
from genesys_fixtures import FakeClock

from genesys.config import ClientConfig, login_url_for
from genesys.errors import (
    BadRequest,
    ClientClosed,
    Conflict,
    Forbidden,
    GenesysError,
    NotFound,
    RateLimited,
    RateLimitTimeout,
    ServerError,
    TransientError,
    Unauthorized,
    error_from_response,
)
from genesys.ratelimit import Priority, RateLimiter, limiter_for
from genesys.topics import (
    chunk_topics,
    is_calls_topic,
    queue_calls_topic,
    queue_conversations_topic,
    queue_id_from_topic,
    queue_topics,
)


def test_login_url_like_the_sdk() -> None:
    assert login_url_for("https://api.mypurecloud.ie") == "https://login.mypurecloud.ie"
    assert login_url_for("https://api.usw2.pure.cloud/") == "https://login.usw2.pure.cloud"
    assert login_url_for("http://127.0.0.1:8123") == "http://127.0.0.1:8123"
    cfg = ClientConfig("https://api.mypurecloud.de/", "id", "s3cret")
    assert cfg.token_url == "https://login.mypurecloud.de/oauth/token"
    assert "s3cret" not in repr(cfg)
    assert ClientConfig("http://x:1", "id", "s", login_url="http://y:2").token_url == "http://y:2/oauth/token"
    with pytest.raises(ValueError):
        ClientConfig("api.mypurecloud.com", "id", "s")
    with pytest.raises(ValueError):
        ClientConfig("https://api.mypurecloud.com", "id", "")


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequest),
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (409, Conflict),
        (500, ServerError),
        (502, TransientError),
        (503, TransientError),
        (504, TransientError),
        (418, GenesysError),
    ],
)
def test_error_mapping(status: int, cls: type) -> None:
    err = error_from_response(
        "GET /api/v2/x",
        status,
        {"ININ-Correlation-Id": "corr-1"},
        json.dumps({"message": "nope", "code": "bad.thing", "status": status}),
    )
    assert type(err) is cls
    assert err.status == status and err.code == "bad.thing" and err.correlation_id == "corr-1"
    assert "GET /api/v2/x" in str(err) and "nope" in str(err) and "corr-1" in str(err)


def test_429_reads_retry_after_and_plain_bodies() -> None:
    body = (
        '{"message": "Rate limit exceeded the maximum. Retry the request in [3] seconds", '
        '"code": "too.many.requests.retry.after", "status": 429, "contextId": "ctx"}'
    )
    err = error_from_response("GET /a", 429, {"Retry-After": "3"}, body)
    assert isinstance(err, RateLimited) and err.retry_after == 3.0 and err.correlation_id == "ctx"
    assert error_from_response("GET /a", 429, {}, "").retry_after == 1.0
    plain = error_from_response("GET /a", 503, {}, "<html>Service Unavailable</html>\nmore")
    assert isinstance(plain, TransientError) and plain.message == "<html>Service Unavailable</html>"


def test_topics_round_trip_and_chunks() -> None:
    assert queue_conversations_topic("abc") == "v2.routing.queues.abc.conversations"
    assert queue_calls_topic("abc") == "v2.routing.queues.abc.conversations.calls"
    assert queue_id_from_topic("v2.routing.queues.abc.conversations") == "abc"
    assert queue_id_from_topic("v2.routing.queues.abc.conversations.calls") == "abc"
    assert is_calls_topic("v2.routing.queues.abc.conversations.calls")
    assert queue_id_from_topic("v2.users.abc.conversations") is None
    assert queue_id_from_topic("channel.metadata") is None
    assert queue_topics(["b", "a", "a", ""]) == [
        queue_conversations_topic("a"),
        queue_conversations_topic("b"),
    ]
    chunks = chunk_topics([f"t{i}" for i in range(2500)], 1000)
    assert [len(c) for c in chunks] == [1000, 1000, 500]


def test_sliding_window_never_exceeds_budget() -> None:
    clock = FakeClock()
    lim = RateLimiter(5, window_s=60, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(12):
        lim.acquire(max_wait_s=1000)
        stamps.append(clock.t)
    assert stamps[:5] == [0.0] * 5
    assert stamps[5:10] == [60.0] * 5
    assert stamps[10:] == [120.0] * 2
    for s in stamps:  # no 60 s window holds more than 5
        assert sum(1 for x in stamps if s <= x < s + 60) <= 5


def test_bounded_wait_and_pause() -> None:
    clock = FakeClock()
    lim = RateLimiter(1, window_s=60, clock=clock, sleep=clock.sleep)
    lim.acquire()
    with pytest.raises(RateLimitTimeout):
        lim.acquire(max_wait_s=10, what="GET /x")
    clock.t = 100
    lim.pause(5)
    assert lim.acquire(max_wait_s=10) == pytest.approx(5)


def test_bound_within_notes_live_and_writeback_waits_but_not_background() -> None:
    clock = FakeClock()
    lim = RateLimiter(4, window_s=60, clock=clock, sleep=clock.sleep)
    for _ in range(2):
        lim.acquire(priority=Priority.BACKGROUND)  # its share: 2 of 4
    assert lim.acquire(max_wait_s=100, priority=Priority.BACKGROUND) == pytest.approx(60)
    assert not lim.bound_within(1000), "background work waiting for its share is not the budget binding"
    assert lim.foreground_share() == 0.0
    clock.t = 200
    for _ in range(4):
        assert lim.acquire() == 0  # no wait: not bound
    assert not lim.bound_within(1000)
    assert lim.foreground_share() == 1.0
    assert lim.acquire(max_wait_s=100, priority=Priority.WRITEBACK) == pytest.approx(60)
    assert lim.bound_within(0)
    clock.t += 20
    assert lim.bound_within(20) and not lim.bound_within(19)
    assert lim.foreground_share() == 0.25


def test_bound_within_notes_a_wait_while_it_lasts() -> None:
    lim = RateLimiter(1, window_s=30.0)
    lim.acquire()
    closed = threading.Event()
    ended: list[BaseException] = []

    def wait_for_slot() -> None:
        try:
            lim.acquire(max_wait_s=60, abort=closed)
        except ClientClosed as exc:
            ended.append(exc)

    waiter = threading.Thread(target=wait_for_slot)
    waiter.start()
    deadline = time.monotonic() + 5.0
    while not lim.bound_within(0.5) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        assert lim.bound_within(0.5), "a live request waiting over a second is noted before it gets its slot"
        assert waiter.is_alive()
    finally:
        closed.set()
        lim.wake()
        waiter.join(5)
    assert ended


def test_observe_headers_pauses_when_budget_spent() -> None:
    clock = FakeClock()
    lim = RateLimiter(100, clock=clock, sleep=clock.sleep)
    lim.observe_headers(
        {"inin-ratelimit-count": "10", "inin-ratelimit-allowed": "180", "inin-ratelimit-reset": "30"}
    )
    assert lim.acquire() == 0
    lim.observe_headers(
        {"Inin-Ratelimit-Count": "180", "Inin-Ratelimit-Allowed": "180", "Inin-Ratelimit-Reset": "7"}
    )
    assert lim.acquire() == pytest.approx(7)
    lim.observe_headers({"inin-ratelimit-count": "x"})  # ignored


def test_shared_limiter_per_client_and_threads() -> None:
    a = limiter_for("client-test-shared", 50)
    assert limiter_for("client-test-shared", 50) is a
    assert limiter_for("client-other", 50) is not a
    lim = RateLimiter(20, window_s=0.5)
    start = time.monotonic()
    done: list[float] = []

    def worker() -> None:
        for _ in range(10):
            lim.acquire(max_wait_s=5)
            done.append(time.monotonic() - start)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(done) == 40
    done.sort()
    assert done[20] >= 0.49  # the 21st had to wait for the window to slide


def test_frame_handling_skips_malformed_frames(caplog) -> None:
    from genesys.notifications import ChannelWorker, NotificationListener

    got: list[tuple[str, dict]] = []
    listener = NotificationListener(None, lambda t, b: got.append((t, b)))  # type: ignore[arg-type]
    worker = ChannelWorker(listener, 0)
    assert worker._handle_frame("{not json") == "malformed"
    assert worker._handle_frame("[1, 2]") == "malformed"
    assert worker._handle_frame(json.dumps({"topicName": "v2.x", "eventBody": "text"})) == "malformed"
    assert worker._handle_frame(json.dumps({"result": "200", "status": "subscribed"})) == "control"
    hb = {"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}}
    assert worker._handle_frame(json.dumps(hb)) == "heartbeat" and worker.heartbeats == 1
    pong = {"topicName": "channel.metadata", "eventBody": {"message": "pong"}}
    assert worker._handle_frame(json.dumps(pong)) == "pong" and worker.heartbeats == 1
    closing = {"topicName": "v2.system.socket_closing", "eventBody": {"message": "closing"}}
    assert worker._handle_frame(json.dumps(closing)) == "closing"
    event = {
        "topicName": "v2.routing.queues.q.conversations",
        "version": "2",
        "eventBody": {"id": "c1"},
        "metadata": {"CorrelationId": "x"},
    }
    assert worker._handle_frame(json.dumps(event)) == "event"
    assert got == [("v2.routing.queues.q.conversations", {"id": "c1"})]
    assert any("malformed frame" in r.getMessage() for r in caplog.records)

    def broken(topic: str, body: dict) -> None:
        raise RuntimeError("bug in the callback")

    listener.on_event = broken
    assert worker._handle_frame(json.dumps(event)) == "event"  # logged, not raised


def test_recording_expected_from_details() -> None:
    from genesys.recordings import recording_expected

    def details(*flags, purposes=("customer", "agent")):
        return {
            "participants": [
                {
                    "purpose": purpose,
                    "sessions": [{"mediaType": "voice", **({"recording": f} if f is not None else {})}],
                }
                for purpose, f in zip(purposes, flags, strict=True)
            ]
        }

    assert recording_expected(details(False, True)) is True
    assert recording_expected(details(False, False)) is False  # positive evidence: every session says so
    assert recording_expected(details(None, None)) is None  # no flag is no evidence (Genesys' samples)
    assert recording_expected(details(False, None)) is None
    assert recording_expected(details(None, False, purposes=("acd", "customer"))) is False
    assert recording_expected({}) is None
