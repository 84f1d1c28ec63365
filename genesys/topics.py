"""Notification topic names: build them from ids and recover ids from them."""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

HEARTBEAT_TOPIC = "channel.metadata"
SOCKET_CLOSING_TOPIC = "v2.system.socket_closing"
SYSTEM_TOPIC_PREFIX = "v2.system."

_QUEUE_TOPIC = re.compile(r"^v2\.routing\.queues\.(?P<id>[^.]+)\.conversations(?P<calls>\.calls)?$")


def queue_conversations_topic(queue_id: str) -> str:
    """``v2.routing.queues.{id}.conversations`` (participants carry media under ``calls[]``)."""
    return f"v2.routing.queues.{queue_id}.conversations"


def queue_calls_topic(queue_id: str) -> str:
    """``v2.routing.queues.{id}.conversations.calls`` (flat call participants)."""
    return f"v2.routing.queues.{queue_id}.conversations.calls"


def queue_topics(
    queue_ids: list[str] | set[str] | tuple[str, ...], *, calls_shape: bool = False
) -> list[str]:
    """One topic per queue, sorted and without duplicates."""
    build = queue_calls_topic if calls_shape else queue_conversations_topic
    return sorted({build(q) for q in queue_ids if q})


def queue_id_from_topic(topic: str) -> str | None:
    """The queue id of a queue conversation topic, or None for any other topic."""
    match = _QUEUE_TOPIC.match(topic or "")
    return match.group("id") if match else None


def is_calls_topic(topic: str) -> bool:
    match = _QUEUE_TOPIC.match(topic or "")
    return bool(match and match.group("calls"))


def chunk_topics(topics: list[str], per_channel: int = 1000) -> list[list[str]]:
    """Split a topic list into channel-sized chunks (Genesys allows 1,000 topics per channel)."""
    if per_channel < 1:
        raise ValueError("per_channel must be at least 1")
    unique = sorted(set(topics))
    return [unique[i : i + per_channel] for i in range(0, len(unique), per_channel)]
