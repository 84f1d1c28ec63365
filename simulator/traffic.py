"""Continuous call generation at a fixed rate (the demo's and `simulate`'s steady traffic)."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class TrafficGenerator:
    """Calls `inject()` about `calls_per_minute` times a minute (seeded exponential gaps)."""

    def __init__(self, inject: Callable[[], object], calls_per_minute: float, *, seed: int = 0) -> None:
        if calls_per_minute <= 0:
            raise ValueError(f"calls_per_minute must be > 0, got {calls_per_minute}")
        self._inject = inject
        self.calls_per_minute = calls_per_minute
        self._rng = random.Random(f"traffic-{seed}")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim-traffic", daemon=True)
        self.generated = 0

    def start(self) -> None:
        logger.info("simulator traffic: %.1f calls per minute", self.calls_per_minute)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        mean_gap = 60.0 / self.calls_per_minute
        while not self._stop.is_set():
            try:
                self._inject()
                self.generated += 1
            except Exception:
                logger.exception("simulator traffic: generating a call failed")
            if self._stop.wait(self._rng.expovariate(1.0 / mean_gap)):
                return
