"""The notification WebSocket server: one socket per channel, heartbeats, ping/pong, socket_closing.

Runs `websockets.sync.server` in a thread, bound to 127.0.0.1. A client connects to the
channel's `connectUri` (`ws://127.0.0.1:<port>/channels/<channelId>`); unknown or expired
channels are refused with HTTP 404. Envelopes follow the SDK's notification models (docs/simulator.md).
"""

from __future__ import annotations

import json
import logging
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from simulator.channels import ChannelRegistry

logger = logging.getLogger(__name__)

HEARTBEAT = {"topicName": "channel.metadata", "eventBody": {"message": "WebSocket Heartbeat"}}
PONG = {"topicName": "channel.metadata", "eventBody": {"message": "pong"}}
SOCKET_CLOSING_TOPIC = "v2.system.socket_closing"


def envelope(topic: str, body: dict[str, Any]) -> dict[str, Any]:
    """A notification frame: `topicName`, `version` "2", `eventBody`, `metadata.CorrelationId`."""
    return {
        "topicName": topic,
        "version": "2",
        "eventBody": body,
        "metadata": {"CorrelationId": str(uuid.uuid4())},
    }


SEND_QUEUE_LIMIT = 20_000


@dataclass
class _Socket:
    """One connected socket with its own sender thread, so a slow client never blocks the others."""

    channel_id: str
    connection: ServerConnection
    connected_s: float
    last_heartbeat_s: float
    closing_deadline_s: float | None = None
    sent: int = 0
    queue: queue.Queue[str | None] = field(default_factory=queue.Queue)

    def start(self) -> None:
        threading.Thread(target=self._sender, name=f"sim-ws-send-{self.channel_id[-6:]}", daemon=True).start()

    def send(self, message: dict[str, Any] | str) -> bool:
        """Queue a frame; a client more than SEND_QUEUE_LIMIT frames behind is disconnected."""
        if self.queue.qsize() >= SEND_QUEUE_LIMIT:
            logger.warning(
                "simulator: WebSocket client of channel %s is too slow; dropping it", self.channel_id
            )
            _abort(self)
            return False
        self.queue.put(message if isinstance(message, str) else json.dumps(message, separators=(",", ":")))
        return True

    def stop(self) -> None:
        self.queue.put(None)

    def _sender(self) -> None:
        while (text := self.queue.get()) is not None:
            try:
                self.connection.send(text)
                self.sent += 1
            except (ConnectionClosed, OSError, RuntimeError):
                return


class NotificationSocketServer:
    """WebSocket side of the notification service."""

    def __init__(
        self,
        channels: ChannelRegistry,
        *,
        heartbeat_s: float = 30.0,
        closing_grace_s: float = 60.0,
        heartbeats_stopped: Callable[[], bool] = lambda: False,
        organization_id: str = "",
        port: int = 0,
    ) -> None:
        self.channels = channels
        self.heartbeat_s = heartbeat_s
        self.closing_grace_s = closing_grace_s
        self._heartbeats_stopped = heartbeats_stopped
        self._organization_id = organization_id
        self._sockets: dict[str, _Socket] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._server: Server = serve(
            self._handle,
            "127.0.0.1",
            port,
            process_request=self._process_request,
            compression=None,
            ping_interval=None,
            close_timeout=1.0,
            max_size=2**20,
        )
        self.port: int = self._server.socket.getsockname()[1]
        self._threads = [
            threading.Thread(target=self._server.serve_forever, name="sim-ws-server", daemon=True),
            threading.Thread(target=self._tick_loop, name="sim-ws-ticker", daemon=True),
        ]
        self.received: list[tuple[str, str]] = []  # (channel id, text frame) from clients

    @property
    def base_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def connect_uri(self, channel_id: str) -> str:
        return f"{self.base_url}/channels/{channel_id}"

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        self.drop_all()
        # bounded: a server shutdown that waits on a stuck connection must not hang the caller
        closer = threading.Thread(target=self._server.shutdown, name="sim-ws-shutdown", daemon=True)
        closer.start()
        closer.join(timeout=5)
        if closer.is_alive():
            logger.warning("simulator WebSocket server did not shut down within 5 s; leaving it to exit")
        for t in self._threads:
            t.join(timeout=5)

    # -- connection handling ------------------------------------------------------------
    def _channel_of(self, path: str) -> str | None:
        path = path.split("?", 1)[0]
        if not path.startswith("/channels/"):
            return None
        return path[len("/channels/") :].strip("/") or None

    def _process_request(self, connection: ServerConnection, request: Any) -> Any:
        channel_id = self._channel_of(request.path)
        if channel_id is None or self.channels.get(channel_id) is None:
            logger.info("simulator refused WebSocket for unknown or expired channel %s", channel_id)
            return connection.respond(404, f"Channel {channel_id} not found\n")
        return None

    def _handle(self, connection: ServerConnection) -> None:
        request = connection.request  # set once the handshake is done, as it is here
        channel_id = (self._channel_of(request.path) if request is not None else None) or ""
        now = time.time()
        sock = _Socket(channel_id, connection, now, now)
        sock.start()
        with self._lock:
            previous = self._sockets.get(channel_id)
            self._sockets[channel_id] = sock
        self.channels.set_connected(channel_id, True)
        if previous is not None:
            logger.info("simulator: second socket on channel %s closes the first", channel_id)
            _close(previous, 1000, "Another connection to this channel was opened")
        try:
            for message in connection:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                with self._lock:
                    self.received.append((channel_id, text))
                self._on_client_message(sock, text)
        except ConnectionClosed:
            pass
        finally:
            sock.stop()
            with self._lock:
                if self._sockets.get(channel_id) is sock:
                    del self._sockets[channel_id]
                    self.channels.set_connected(channel_id, False)

    def _on_client_message(self, sock: _Socket, text: str) -> None:
        try:
            data = json.loads(text)
        except ValueError:
            return
        if isinstance(data, dict) and data.get("message") == "ping":
            sock.send(PONG)

    # -- publishing ----------------------------------------------------------------------
    def publish(self, topic: str, body: dict[str, Any]) -> int:
        """Send an event to every connected channel subscribed to `topic`; returns deliveries."""
        channel_ids = self.channels.subscribers(topic)
        if not channel_ids:
            return 0
        text = json.dumps(envelope(topic, body), separators=(",", ":"))
        delivered = 0
        for cid in channel_ids:
            with self._lock:
                sock = self._sockets.get(cid)
            if sock is not None and sock.closing_deadline_s is None and sock.send(text):
                delivered += 1
        return delivered

    def is_connected(self, channel_id: str) -> bool:
        with self._lock:
            return channel_id in self._sockets

    def connected_count(self) -> int:
        with self._lock:
            return len(self._sockets)

    # -- faults and lifecycle ------------------------------------------------------------
    def drop_all(self) -> int:
        """Close every socket abruptly: no close frame, the TCP connection is shut down."""
        with self._lock:
            socks = list(self._sockets.values())
        for sock in socks:
            _abort(sock)
        if socks:
            logger.info("simulator dropped %d notification sockets", len(socks))
        return len(socks)

    def send_socket_closing(self) -> int:
        """Publish `v2.system.socket_closing` on every socket; close each after the grace period."""
        with self._lock:
            socks = list(self._sockets.values())
        deadline = time.time() + self.closing_grace_s
        for sock in socks:
            body = {
                "channelId": sock.channel_id,
                "organizationId": self._organization_id,
                "message": "The socket will close soon; open a new one to the same connectUri",
                "correlationId": str(uuid.uuid4()),
            }
            sock.send(envelope(SOCKET_CLOSING_TOPIC, body))
            sock.closing_deadline_s = deadline
        return len(socks)

    def send_system_message(
        self, system_topic_type: str = "subscription_changed", reason: str | None = None
    ) -> int:
        """Publish a `v2.system.<systemTopicType>` message (`SystemMessageSystemMessage`, types
        ``no_longer_subscribed``, ``subscription_changed``, ``token_revoked``) on every socket; the
        sockets stay open. Returns how many were sent."""
        if system_topic_type not in ("no_longer_subscribed", "subscription_changed", "token_revoked"):
            raise ValueError(f"unknown systemTopicType {system_topic_type!r}")
        with self._lock:
            socks = list(self._sockets.values())
        for sock in socks:
            body: dict[str, Any] = {
                "channelId": sock.channel_id,
                "systemTopicType": system_topic_type,
                "organizationId": self._organization_id,
                "correlationId": str(uuid.uuid4()),
                "message": f"System message: {system_topic_type.replace('_', ' ')}",
            }
            if reason:
                body["reason"] = reason
            sock.send(envelope(f"v2.system.{system_topic_type}", body))
        return len(socks)

    def close_channel(self, channel_id: str) -> None:
        """The channel was removed (expired, evicted, revoked): close its socket."""
        with self._lock:
            sock = self._sockets.get(channel_id)
        if sock is not None:
            _close(sock, 1000, "Channel expired or removed")

    def _tick_loop(self) -> None:
        while not self._stop.wait(min(0.1, self.heartbeat_s / 4)):
            try:
                self._tick()
            except Exception:  # the ticker must survive anything
                logger.exception("simulator WebSocket ticker failed")

    def _tick(self) -> None:
        now = time.time()
        self.channels.expire()
        with self._lock:
            socks = list(self._sockets.values())
        for sock in socks:
            if sock.closing_deadline_s is not None and now >= sock.closing_deadline_s:
                _close(sock, 1001, "socket_closing grace period over")
                continue
            if now - sock.last_heartbeat_s >= self.heartbeat_s:
                sock.last_heartbeat_s = now
                if not self._heartbeats_stopped():
                    sock.send(HEARTBEAT)


def _close(sock: _Socket, code: int, reason: str) -> None:
    threading.Thread(target=_close_now, args=(sock, code, reason), daemon=True, name="sim-ws-close").start()


def _close_now(sock: _Socket, code: int, reason: str) -> None:
    try:
        sock.connection.close(code, reason)
    except Exception:  # already gone
        logger.debug("closing socket of %s failed", sock.channel_id, exc_info=True)


def _abort(sock: _Socket) -> None:
    """Drop a connection abruptly. Only shut the socket down: closing its descriptor while the
    websockets thread still waits on it can leave that thread (and Server.shutdown) hanging; after a
    shutdown the library's own thread sees the end of the stream and closes the descriptor itself."""
    try:
        sock.connection.socket.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
