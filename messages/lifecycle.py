"""Supervision messages: how children report their exit and supervisors schedule restarts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChildExited:
    """A supervised actor stopped: `reason` is None for a normal stop, else the exception text."""

    child_id: str
    urn: str
    reason: str | None
    crashed: bool


@dataclass(frozen=True)
class RestartDue:
    """The backoff delay for restarting `child_id` has elapsed."""

    child_id: str


@dataclass(frozen=True)
class Tick:
    """A periodic timer message (status lines, watchdogs, retries)."""

    name: str = "tick"


@dataclass(frozen=True)
class Ping:
    """Liveness probe; actors answer True when asked."""
