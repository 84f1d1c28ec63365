"""What happened, fed to the export state machine by its shell."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Replied:
    """A work command succeeded; `result` depends on the command (see the machine's handlers)."""

    request_id: str
    result: Any = None


@dataclass(frozen=True)
class Failed:
    """A work command failed with `error` (an exception object, classified by the machine)."""

    request_id: str
    error: BaseException


@dataclass(frozen=True)
class Expired:
    """No reply by the command's deadline, or the actor doing it restarted: send it again."""

    request_id: str
    reason: str = "no reply before the deadline"


@dataclass(frozen=True)
class TimerFired:
    """A `Schedule` came due (the machine looks at everything that is due)."""


Event = Replied | Failed | Expired | TimerFired
