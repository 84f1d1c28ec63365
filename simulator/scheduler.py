"""A single timer thread that runs callables at wall-clock instants (event publication)."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, name: str = "sim-scheduler") -> None:
        self._heap: list[tuple[float, int, Callable[[], object]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._busy = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def at(self, when_s: float, action: Callable[[], object]) -> None:
        """Run `action` at epoch second `when_s` (at once if it is in the past)."""
        with self._cond:
            heapq.heappush(self._heap, (when_s, next(self._seq), action))
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return len(self._heap) + self._busy

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is scheduled or running; False on timeout."""
        deadline = time.time() + timeout
        with self._cond:
            while self._heap or self._busy:
                remaining = deadline - time.time()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
            return True

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.time()):
                    timeout = None if not self._heap else max(0.0, self._heap[0][0] - time.time())
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                _, _, action = heapq.heappop(self._heap)
                self._busy += 1
            try:
                action()
            except Exception:
                logger.exception("simulator scheduled action failed")
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()
