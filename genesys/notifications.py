"""`NotificationListener`: notification channels and their WebSockets, in helper threads.

For every 1,000 topics one channel (`ChannelWorker`, one thread each): create the channel, PUT
(replace) its topic list, connect to its ``connectUri`` with websocket-client and hand every data
event to ``on_event(topic, body)``. Expected outages are states with backoff, never crashes:

* socket dropped -> reconnect with exponential backoff and jitter (checking the channel still
  exists; a 404 creates a new channel and subscribes again);
* no heartbeat within twice the heartbeat period -> reconnect (a ``{"message":"ping"}`` is sent
  after one silent period);
* ``v2.system.socket_closing`` -> open the new socket at once, then let the old one go;
* channel close to its ``expires`` (24 h) -> new channel, subscribe, connect, then drop the old;
* 404 for the channel (subscribe, handshake or HEAD) -> new channel and subscribe again.

`set_topics()` is non-blocking: topics keep their channel (stable assignment), the worker
re-PUTs its list from its own thread while its socket keeps delivering events. Malformed frames
are logged and skipped. `stop()` closes everything and joins the threads with a timeout.

``on_event``/``on_state`` run on the worker threads: keep them short (an actor ``tell``).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import websocket

from .errors import GenesysError, NotFound
from .rest import GenesysClient
from .topics import HEARTBEAT_TOPIC, SOCKET_CLOSING_TOPIC, SYSTEM_TOPIC_PREFIX

logger = logging.getLogger(__name__)

CONNECTING = "connecting"
CONNECTED = "connected"
DISCONNECTED = "disconnected"
BACKOFF = "backoff"
STOPPED = "stopped"

MAX_TOPICS_PER_CHANNEL = 1000
MAX_CHANNELS = 20

EventCallback = Callable[[str, dict[str, Any]], None]
StateCallback = Callable[[str, str], None]


class _Reconnect(Exception):
    """Internal: leave the read loop; ``new_channel`` asks for a fresh channel."""

    def __init__(self, reason: str, *, new_channel: bool = False, backoff: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.new_channel = new_channel
        self.backoff = backoff


def _parse_expires(value: Any) -> float | None:
    """Seconds from now until an ISO-8601 ``expires`` (None if absent/unparseable)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()


class ChannelWorker:
    """One channel + WebSocket, run by one thread. Created and driven by `NotificationListener`."""

    def __init__(self, listener: NotificationListener, index: int) -> None:
        self.listener = listener
        self.index = index
        self.state = DISCONNECTED
        self.detail = ""
        self.channel: dict[str, Any] | None = None
        self.events = 0
        self.heartbeats = 0
        self.pongs = 0
        self.reconnects = 0
        self.channels_created = 0
        self.last_heartbeat: float | None = None
        self._topics: list[str] = []
        self._desired = 0
        self._applied = -1
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ws: websocket.WebSocket | None = None
        self._expiry_at: float | None = None
        self.thread = threading.Thread(target=self._run, name=f"genesys-notifications-{index}", daemon=True)

    # called from the listener (any thread)
    def set_topics(self, topics: list[str]) -> None:
        with self._lock:
            if topics != self._topics:
                self._topics = list(topics)
                self._desired += 1

    @property
    def topics(self) -> list[str]:
        with self._lock:
            return list(self._topics)

    def request_stop(self) -> None:
        self._stop.set()

    # ----- worker thread ----------------------------------------------------------------------
    def _set_state(self, state: str, detail: str) -> None:
        channel_id = (self.channel or {}).get("id", "-")
        self.state, self.detail = state, detail
        text = (
            f"channel {self.index} ({channel_id}): {detail}"
            if detail
            else f"channel {self.index} ({channel_id})"
        )
        if state == CONNECTED:
            logger.info("notifications %s", text)
        elif state in (BACKOFF, DISCONNECTED):
            logger.warning("notifications %s: %s", state, text)
        self.listener._report_state(self, state, text)

    def _run(self) -> None:
        cfg = self.listener
        backoff = cfg.backoff_initial_s
        while not self._stop.is_set():
            connected_at = None
            try:
                self._ensure_channel_and_topics()
                self._connect()
                connected_at = time.monotonic()
                self._read_loop()
            except _Reconnect as exc:
                self._close_ws()
                if self._stop.is_set():
                    break
                self.reconnects += 1
                if exc.new_channel:
                    self.channel = None
                self._set_state(DISCONNECTED, exc.reason)
                if not exc.backoff:
                    backoff = cfg.backoff_initial_s  # retry soon, but still through one short wait
            except (GenesysError, websocket.WebSocketException, OSError) as exc:
                self._close_ws()
                if self._stop.is_set():
                    break
                if isinstance(exc, websocket.WebSocketBadStatusException) and exc.status_code in (
                    401,
                    403,
                    404,
                    410,
                ):
                    logger.warning(
                        "notification channel %s refused the WebSocket (HTTP %s); creating a new channel",
                        self.index,
                        exc.status_code,
                    )
                    self.channel = None
                if isinstance(exc, NotFound):
                    self.channel = None
                self._set_state(BACKOFF, f"{type(exc).__name__}: {exc}; retrying in about {backoff:.1f}s")
            except Exception:  # never let the thread die silently
                logger.exception("notification channel %s: unexpected error; reconnecting", self.index)
                self._close_ws()
                self.channel = None
            if connected_at is not None and time.monotonic() - connected_at > cfg.stable_after_s:
                backoff = cfg.backoff_initial_s
            delay = random.uniform(backoff / 2, backoff)
            if self._stop.wait(delay):
                break
            backoff = min(cfg.backoff_max_s, backoff * 2)
        self._close_ws()
        self._set_state(STOPPED, "stopped")

    def _ensure_channel_and_topics(self) -> None:
        client = self.listener.client
        if self.channel is not None and self._applied >= 0:
            # after a drop: is the channel still there?
            if not client.channel_exists(self.channel["id"]):
                logger.warning(
                    "notification channel %s no longer exists (404); creating a new one", self.channel["id"]
                )
                self.channel = None
        if self.channel is None:
            self._set_state(CONNECTING, "creating channel")
            self.channel = self._create_channel()
            self._applied = -1
        if self._applied != self._desired:
            self._subscribe()

    def _create_channel(self) -> dict[str, Any]:
        channel = self.listener.client.create_channel()
        if not channel.get("id") or not channel.get("connectUri"):
            raise GenesysError(
                "POST /api/v2/notifications/channels", 200, message="channel without id/connectUri"
            )
        self.channels_created += 1
        remaining = _parse_expires(channel.get("expires"))
        if remaining is not None:
            margin = min(self.listener.expiry_margin_s, max(1.0, remaining * 0.1))
            self._expiry_at = time.monotonic() + max(1.0, remaining - margin)
        else:
            self._expiry_at = None
        logger.info("created notification channel %s (expires %s)", channel["id"], channel.get("expires"))
        return channel

    def _subscribe(self, channel: dict[str, Any] | None = None) -> int:
        channel = channel or self.channel
        assert channel is not None
        with self._lock:
            topics, version = list(self._topics), self._desired
        try:
            entities = self.listener.client.put_subscriptions(channel["id"], topics)
        except NotFound:
            raise _Reconnect(
                "channel gone while subscribing (404)", new_channel=True, backoff=False
            ) from None
        rejected = [e.get("id") for e in entities if isinstance(e, dict) and e.get("state") == "Rejected"]
        if rejected:
            shown = ", ".join(map(str, rejected[:10])) + (
                f" and {len(rejected) - 10} more" if len(rejected) > 10 else ""
            )
            logger.error("%d notification topic(s) rejected (missing permissions?): %s", len(rejected), shown)
        if channel is self.channel:
            self._applied = version
        logger.info("channel %s subscribed to %d topic(s)", channel["id"], len(topics))
        return version

    def _open_socket(self, uri: str) -> websocket.WebSocket:
        ws = websocket.create_connection(
            uri, timeout=self.listener.connect_timeout_s, enable_multithread=True
        )
        ws.settimeout(self.listener.recv_poll_s)
        return ws

    def _connect(self) -> None:
        assert self.channel is not None
        self._set_state(CONNECTING, "connecting WebSocket")
        self._ws = self._open_socket(self.channel["connectUri"])
        self.last_heartbeat = time.monotonic()
        self._set_state(CONNECTED, f"connected, {len(self.topics)} topic(s)")

    def _close_ws(self, ws: websocket.WebSocket | None = None) -> None:
        target = ws or self._ws
        if target is None:
            return
        if ws is None:
            self._ws = None
        try:
            target.close(timeout=0.2)  # polite close frame (a no-op once the library saw the socket die)
        except Exception:  # noqa: BLE001 - closing a broken socket
            pass
        try:
            target.shutdown()  # always release the file descriptor, so the peer sees EOF
        except Exception:  # noqa: BLE001
            pass

    def _swap_socket(self, reason: str, *, new_channel: bool) -> None:
        """Open the replacement socket first (new channel if asked), then drain and drop the old."""
        old = self._ws
        if new_channel:
            channel = self._create_channel()
            version = self._subscribe(channel)
            self.channel = channel
            self._applied = version
        assert self.channel is not None
        self._ws = self._open_socket(self.channel["connectUri"])
        self.last_heartbeat = time.monotonic()
        self.reconnects += 1
        self._set_state(CONNECTED, f"reconnected ({reason})")
        if old is not None:
            self._drain(old)
            self._close_ws(old)

    def _system_message(self, topic: str, body: Any) -> str:
        """``v2.system.*`` (`SystemMessageSystemMessage`): never a data event. After
        ``no_longer_subscribed``/``subscription_changed`` the topic list is applied again."""
        kind = body.get("systemTopicType") if isinstance(body, dict) else None
        reason = body.get("reason") if isinstance(body, dict) else None
        if kind in ("no_longer_subscribed", "subscription_changed"):
            logger.warning(
                "notification channel %s: system message %s%s; subscribing again",
                self.index,
                kind,
                f" ({reason})" if reason else "",
            )
            self._applied = -1
        else:
            logger.info(
                "notification channel %s: system message %s%s",
                self.index,
                kind or topic,
                f" ({reason})" if reason else "",
            )
        return "system"

    def _drain(self, ws: websocket.WebSocket) -> None:
        try:
            ws.settimeout(0.05)
            for _ in range(1000):
                frame = ws.recv()
                if not frame:
                    break
                self._handle_frame(frame, draining=True)
        except Exception:  # noqa: BLE001 - the old socket is going away
            pass

    def _read_loop(self) -> None:
        listener = self.listener
        period = listener.heartbeat_period_s
        ping_sent = False
        resubscribe_at = 0.0
        while not self._stop.is_set():
            if self._applied != self._desired and time.monotonic() >= resubscribe_at:
                try:
                    self._subscribe()
                    # frames waited in the socket while the PUT ran: do not count that as silence
                    self.last_heartbeat = max(self.last_heartbeat or 0.0, time.monotonic() - period)
                except _Reconnect:
                    raise
                except GenesysError as exc:
                    resubscribe_at = time.monotonic() + listener.backoff_max_s
                    logger.warning(
                        "re-subscribing channel %s failed (%s); retrying in %.0fs",
                        self.index,
                        exc,
                        listener.backoff_max_s,
                    )
            now = time.monotonic()
            if self._expiry_at is not None and now >= self._expiry_at:
                logger.info(
                    "notification channel %s is close to its expiry; moving to a new channel",
                    (self.channel or {}).get("id"),
                )
                try:
                    self._swap_socket("channel expiry", new_channel=True)
                except (GenesysError, websocket.WebSocketException, OSError) as exc:
                    raise _Reconnect(
                        f"could not replace the expiring channel: {exc}", new_channel=True
                    ) from None
                ping_sent = False
                continue
            silent = now - (self.last_heartbeat or now)
            if silent > 2 * period:
                raise _Reconnect(f"no heartbeat for {silent:.1f}s (period {period:g}s)")
            if silent > period and not ping_sent:
                ping_sent = self._send_ping()
            ws = self._ws
            if ws is None:
                raise _Reconnect("socket closed")
            try:
                frame = ws.recv()
            except websocket.WebSocketTimeoutException:
                continue
            except (websocket.WebSocketConnectionClosedException, OSError) as exc:
                raise _Reconnect(f"socket dropped ({type(exc).__name__})") from None
            if not frame:
                if not ws.connected:
                    raise _Reconnect("socket closed by the server")
                continue
            kind = self._handle_frame(frame)
            if kind == "heartbeat":
                ping_sent = False
            elif kind == "closing":
                try:
                    self._swap_socket("socket closing", new_channel=False)
                except (GenesysError, websocket.WebSocketException, OSError) as exc:
                    raise _Reconnect(f"could not open the replacement socket: {exc}") from None
                ping_sent = False

    def _send_ping(self) -> bool:
        try:
            if self._ws is not None:
                self._ws.send(json.dumps({"message": "ping"}))
                return True
        except (websocket.WebSocketException, OSError) as exc:
            logger.debug("ping failed: %s", exc)
        return False

    def _handle_frame(self, frame: str | bytes, *, draining: bool = False) -> str:
        try:
            message = json.loads(frame)
        except ValueError:
            logger.warning("notification channel %s: malformed frame skipped: %.120r", self.index, frame)
            return "malformed"
        if not isinstance(message, dict):
            logger.warning("notification channel %s: frame is not an object; skipped", self.index)
            return "malformed"
        topic = message.get("topicName")
        body = message.get("eventBody")
        if topic == HEARTBEAT_TOPIC:
            text = body.get("message") if isinstance(body, dict) else None
            if text == "WebSocket Heartbeat":
                self.last_heartbeat = time.monotonic()
                self.heartbeats += 1
                return "heartbeat"
            if text == "pong":
                self.pongs += 1
                logger.debug("notification channel %s: pong", self.index)
                return "pong"
            return "metadata"
        if topic == SOCKET_CLOSING_TOPIC:
            if draining:
                return "closing"
            logger.info(
                "notification channel %s: server announced socket closing; reconnecting now", self.index
            )
            return "closing"
        if isinstance(topic, str) and topic.startswith(SYSTEM_TOPIC_PREFIX):
            return self._system_message(topic, body)
        if not isinstance(topic, str) or not isinstance(body, dict):
            if "result" in message or "status" in message:
                logger.debug("notification channel %s: control frame %s", self.index, message)
                return "control"
            logger.warning("notification channel %s: frame without topicName/eventBody skipped", self.index)
            return "malformed"
        self.events += 1
        self.listener._dispatch(topic, body)
        return "event"


class NotificationListener:
    """Channels, subscriptions and WebSockets for a set of topics; events go to ``on_event``."""

    def __init__(
        self,
        client: GenesysClient,
        on_event: EventCallback,
        on_state: StateCallback | None = None,
        *,
        heartbeat_period_s: float = 30.0,
        max_topics_per_channel: int = MAX_TOPICS_PER_CHANNEL,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        expiry_margin_s: float = 600.0,
        connect_timeout_s: float = 10.0,
        recv_poll_s: float | None = None,
        stable_after_s: float = 30.0,
    ) -> None:
        if not 1 <= max_topics_per_channel <= MAX_TOPICS_PER_CHANNEL:
            raise ValueError(f"max_topics_per_channel must be 1..{MAX_TOPICS_PER_CHANNEL}")
        self.client = client
        self.on_event = on_event
        self.on_state = on_state
        self.heartbeat_period_s = heartbeat_period_s
        self.max_topics_per_channel = max_topics_per_channel
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.expiry_margin_s = expiry_margin_s
        self.connect_timeout_s = connect_timeout_s
        self.recv_poll_s = (
            recv_poll_s if recv_poll_s is not None else max(0.05, min(0.5, heartbeat_period_s / 4))
        )
        self.stable_after_s = stable_after_s
        self._workers: list[ChannelWorker] = []
        self._retired: list[ChannelWorker] = []
        self._lock = threading.Lock()
        self._running = False
        self._next_index = 0

    # ----- public API -------------------------------------------------------------------------
    def start(self, topics: Iterable[str]) -> None:
        with self._lock:
            if self._running:
                raise RuntimeError("listener already started")
            self._running = True
        self.set_topics(topics)

    def set_topics(self, topics: Iterable[str]) -> None:
        """Replace the topic set (non-blocking). Existing topics stay on their channel."""
        wanted = list(dict.fromkeys(t for t in topics if t))
        limit = self.max_topics_per_channel * MAX_CHANNELS
        if len(wanted) > limit:
            raise ValueError(
                f"{len(wanted)} topics exceed {limit} ({MAX_CHANNELS} channels of {self.max_topics_per_channel})"
            )
        with self._lock:
            if not self._running:
                raise RuntimeError("listener not started")
            wanted_set = set(wanted)
            assignment = [[t for t in w.topics if t in wanted_set] for w in self._workers]
            placed = {t for chunk in assignment for t in chunk}
            for topic in wanted:
                if topic in placed:
                    continue
                for chunk in assignment:
                    if len(chunk) < self.max_topics_per_channel:
                        chunk.append(topic)
                        break
                else:
                    assignment.append([topic])
                placed.add(topic)
            keep: list[ChannelWorker] = []
            for i, chunk in enumerate(assignment):
                if i < len(self._workers):
                    worker = self._workers[i]
                    if chunk:
                        worker.set_topics(chunk)
                        keep.append(worker)
                    else:
                        worker.request_stop()
                        self._retired.append(worker)
                else:
                    worker = ChannelWorker(self, self._next_index)
                    self._next_index += 1
                    worker.set_topics(chunk)
                    keep.append(worker)
                    worker.thread.start()
            self._workers = keep
        logger.info("notification topics: %d on %d channel(s)", len(wanted), len(keep))

    def stop(self, timeout: float = 5.0) -> bool:
        """Close every socket and join the threads; True when all threads ended in time."""
        with self._lock:
            self._running = False
            workers = self._workers + self._retired
            self._workers, self._retired = [], []
        for worker in workers:
            worker.request_stop()
        deadline = time.monotonic() + timeout
        for worker in workers:
            if worker.thread.is_alive():
                worker.thread.join(max(0.0, deadline - time.monotonic()))
        alive = [w.index for w in workers if w.thread.is_alive()]
        if alive:
            logger.error("notification channel thread(s) %s did not stop within %.1fs", alive, timeout)
        return not alive

    @property
    def state(self) -> str:
        with self._lock:
            workers = list(self._workers)
        if not workers:
            return STOPPED if not self._running else DISCONNECTED
        states = {w.state for w in workers}
        if states == {CONNECTED}:
            return CONNECTED
        if BACKOFF in states:
            return BACKOFF
        if CONNECTING in states:
            return CONNECTING
        return DISCONNECTED

    @property
    def workers(self) -> list[ChannelWorker]:
        with self._lock:
            return list(self._workers)

    def status(self) -> list[dict[str, Any]]:
        """Per channel: id, state, topic count, events, heartbeats, reconnects, heartbeat age."""
        now = time.monotonic()
        return [
            {
                "index": w.index,
                "channel_id": (w.channel or {}).get("id"),
                "state": w.state,
                "detail": w.detail,
                "topics": len(w.topics),
                "events": w.events,
                "heartbeats": w.heartbeats,
                "reconnects": w.reconnects,
                "channels_created": w.channels_created,
                "heartbeat_age_s": None if w.last_heartbeat is None else now - w.last_heartbeat,
            }
            for w in self.workers
        ]

    def wait_connected(self, timeout: float) -> bool:
        """Block until every channel is connected and subscribed (tests, startup)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            workers = self.workers
            if workers and all(w.state == CONNECTED and w._applied == w._desired for w in workers):
                return True
            time.sleep(0.02)
        return False

    # ----- called by workers ------------------------------------------------------------------
    def _dispatch(self, topic: str, body: dict[str, Any]) -> None:
        try:
            self.on_event(topic, body)
        except Exception:  # the callback's bug must not kill the socket
            logger.exception("notification callback failed for topic %s", topic)

    def _report_state(self, worker: ChannelWorker, state: str, detail: str) -> None:
        if self.on_state is None:
            return
        try:
            self.on_state(state, detail)
        except Exception:
            logger.exception("notification state callback failed")
