"""Name → current ActorRef, kept up to date by the supervisors.

A restarted actor is a new instance with a new ref, so peers never keep refs: they send by name
through the directory at the moment they send. Sending to an actor that is down (crashed,
restarting, stopped) returns False instead of raising, and the caller keeps the work.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import pykka

logger = logging.getLogger(__name__)


class Directory:
    def __init__(self) -> None:
        self._refs: dict[str, pykka.ActorRef[Any]] = {}
        self._lock = threading.Lock()

    def register(self, name: str, ref: pykka.ActorRef[Any]) -> None:
        with self._lock:
            self._refs[name] = ref

    def unregister(self, name: str, ref: pykka.ActorRef[Any] | None = None) -> None:
        with self._lock:
            if ref is None or self._refs.get(name) is ref:
                self._refs.pop(name, None)

    def get(self, name: str) -> pykka.ActorRef[Any] | None:
        with self._lock:
            ref = self._refs.get(name)
        return ref if ref is not None and ref.is_alive() else None

    def names(self, prefix: str = "") -> list[str]:
        with self._lock:
            return [n for n in self._refs if n.startswith(prefix)]

    def tell(self, name: str, message: Any) -> bool:
        """Deliver `message` to the actor registered as `name`; False if it is not running."""
        ref = self.get(name)
        if ref is None:
            return False
        try:
            ref.tell(message)
        except pykka.ActorDeadError:
            return False
        return True
