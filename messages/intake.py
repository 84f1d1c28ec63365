"""Messages from the notification side: events, listener state and finished conversations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NotificationReceived:
    """A data event from the WebSocket listener thread."""

    topic: str
    body: dict[str, Any]


@dataclass(frozen=True)
class ListenerStateChanged:
    state: str
    detail: str = ""


@dataclass(frozen=True)
class ConversationFinished:
    """A call in a watched queue is over and wrapped up: export it."""

    conversation_id: str
    queue_ids: tuple[str, ...]
    finished_at: float
    reason: str = "wrapped up"
    event: dict[str, Any] | None = None  # the notification snapshot that finished it (None: reconciled)


@dataclass(frozen=True)
class ReloadRequested:
    """Reload the configuration now (system-queue signal, or an operator)."""

    reason: str


@dataclass(frozen=True)
class ExportRequested:
    """An operator asked for this conversation to be exported now (`python run.py export ID`)."""

    conversation_id: str
