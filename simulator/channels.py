"""Notification channels and their topic subscriptions (plain logic, thread-safe).

Limits (docs/genesys.md, notifications): a channel lives 24 h and re-subscribing extends it; at most
20 channels per OAuth client (creating one more evicts the oldest channel without a connected
socket); at most 1,000 topics per channel (more → 400, nothing changes).
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from simulator.errors import ApiError, bad_request

logger = logging.getLogger(__name__)

MAX_CHANNELS_PER_CLIENT = 20
MAX_TOPICS_PER_CHANNEL = 1000

_TOPIC_RE = re.compile(r"^(v2|channel)\.[A-Za-z0-9_.\-]+$")
_QUEUE_TOPIC_RE = re.compile(r"^v2\.routing\.queues\.([^.]+)\.conversations(\..+)?$")


@dataclass
class Channel:
    id: str
    client_id: str
    token: str
    created_s: float
    expires_s: float
    topics: list[str] = field(default_factory=list)
    connected: bool = False


class ChannelRegistry:
    """Channels of every client. `on_removed(channel_id)` is called when one is evicted or expires."""

    def __init__(
        self,
        ttl_s: float,
        known_queue_ids: Callable[[], Iterable[str]],
        on_removed: Callable[[str], None] | None = None,
    ) -> None:
        self.ttl_s = ttl_s
        self._known_queue_ids = known_queue_ids
        self._on_removed = on_removed or (lambda _cid: None)
        self._channels: dict[str, Channel] = {}
        self._lock = threading.RLock()

    def set_on_removed(self, callback: Callable[[str], None]) -> None:
        self._on_removed = callback

    # -- channels -----------------------------------------------------------------------
    def create(self, client_id: str, token: str) -> Channel:
        now = time.time()
        channel = Channel(
            id=f"streaming-0-{secrets.token_hex(13)}",
            client_id=client_id,
            token=token,
            created_s=now,
            expires_s=now + self.ttl_s,
        )
        evicted: list[str] = []
        with self._lock:
            self._expire_locked(now, evicted)
            mine = sorted(
                (c for c in self._channels.values() if c.client_id == client_id), key=lambda c: c.created_s
            )
            while len(mine) >= MAX_CHANNELS_PER_CLIENT:
                victim = next((c for c in mine if not c.connected), mine[0])
                mine.remove(victim)
                del self._channels[victim.id]
                evicted.append(victim.id)
                logger.info("simulator evicted notification channel %s (20-channel limit)", victim.id)
            self._channels[channel.id] = channel
        for cid in evicted:
            self._on_removed(cid)
        return channel

    def get(self, channel_id: str) -> Channel | None:
        """The live channel, or None when unknown or expired."""
        with self._lock:
            channel = self._channels.get(channel_id)
            if channel is None:
                return None
            if time.time() >= channel.expires_s:
                del self._channels[channel_id]
                expired = True
            else:
                return channel
        if expired:
            self._on_removed(channel_id)
        return None

    def require(self, channel_id: str, client_id: str) -> Channel:
        channel = self.get(channel_id)
        if channel is None or channel.client_id != client_id:
            raise ApiError(404, f"Channel {channel_id} not found", code="not.found", entity_id=channel_id)
        return channel

    def list_for(self, client_id: str, token: str | None = None) -> list[Channel]:
        self.expire()
        with self._lock:
            return [
                c
                for c in self._channels.values()
                if c.client_id == client_id and (token is None or c.token == token)
            ]

    def set_connected(self, channel_id: str, connected: bool) -> None:
        with self._lock:
            channel = self._channels.get(channel_id)
            if channel is not None:
                channel.connected = connected

    def expire(self) -> list[str]:
        """Drop expired channels; returns their ids (their sockets must be closed)."""
        removed: list[str] = []
        with self._lock:
            self._expire_locked(time.time(), removed)
        for cid in removed:
            self._on_removed(cid)
        return removed

    def _expire_locked(self, now: float, removed: list[str]) -> None:
        for cid in [c.id for c in self._channels.values() if now >= c.expires_s]:
            del self._channels[cid]
            removed.append(cid)
            logger.info("simulator notification channel %s expired", cid)

    # -- subscriptions ------------------------------------------------------------------
    def subscribe(
        self, channel: Channel, topics: list[str], *, replace: bool, ignore_errors: bool
    ) -> list[dict[str, object]]:
        """PUT (replace) or POST (add) topics. Returns the `ChannelTopic` entities of the request."""
        results: list[dict[str, object]] = []
        accepted: list[str] = []
        known = set(self._known_queue_ids())
        for topic in topics:
            if not isinstance(topic, str) or not _TOPIC_RE.match(topic):
                raise bad_request(f"Invalid topic {topic!r}")
            match = _QUEUE_TOPIC_RE.match(topic)
            if match and match.group(1) not in known:
                if not ignore_errors:
                    raise ApiError(
                        403,
                        f"Missing permissions for topic {topic}",
                        code="missing.permissions",
                        details=[{"errorCode": "missing.permissions", "fieldName": topic}],
                    )
                results.append(
                    {
                        "id": topic,
                        "state": "Rejected",
                        "rejectionReason": "Missing permissions",
                        "missingPermissions": ["routing:queue:view"],
                    }
                )
                continue
            accepted.append(topic)
            results.append(
                {
                    "id": topic,
                    "state": "Permitted",
                    "selfUri": f"/api/v2/notifications/channels/{channel.id}/subscriptions",
                }
            )
        with self._lock:
            new = [] if replace else list(channel.topics)
            for topic in accepted:
                if topic not in new:
                    new.append(topic)
            if len(new) > MAX_TOPICS_PER_CHANNEL:
                raise bad_request(
                    f"Subscription would exceed the maximum of {MAX_TOPICS_PER_CHANNEL} topics per channel "
                    f"({len(new)} requested)"
                )
            channel.topics = new
            channel.expires_s = time.time() + self.ttl_s
        return results

    def unsubscribe_all(self, channel: Channel) -> None:
        with self._lock:
            channel.topics = []

    def subscribers(self, topic: str) -> list[str]:
        """Ids of live channels subscribed to `topic`."""
        now = time.time()
        with self._lock:
            return [c.id for c in self._channels.values() if now < c.expires_s and topic in c.topics]

    def any_subscribed(self, topics: Iterable[str]) -> bool:
        wanted = set(topics)
        with self._lock:
            return any(wanted.intersection(c.topics) for c in self._channels.values())


def channel_topic_entities(channel: Channel) -> list[dict[str, object]]:
    return [
        {
            "id": t,
            "state": "Permitted",
            "selfUri": f"/api/v2/notifications/channels/{channel.id}/subscriptions",
        }
        for t in channel.topics
    ]
