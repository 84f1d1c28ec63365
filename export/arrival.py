"""When Genesys Cloud usually has a document ready after a call: asking earlier only costs requests.

Analytics details lag the end of a call by seconds, transcripts by seconds to many minutes, and both
vary by org and by hour. Every request counts against the org's budget, so the export asks for the
first time when the document is likely there, not at once: `ArrivalEstimator` keeps the recent
delays (end of the call → the document was there) and proposes a low quantile of them as the first
wait. It learns downwards too: a first ask that finds the document is recorded a little earlier than
it happened, so a faster platform pulls the estimate down; an estimator with few samples proposes no
wait at all (the latency of the first calls is not sacrificed to learning). Thread-safe; one per
process (`ARRIVALS`).
"""

from __future__ import annotations

import logging
import threading
from collections import deque

logger = logging.getLogger(__name__)

CAPS_S = {"analytics": 15.0, "transcript": 300.0}
"""The longest first wait per kind of document, whatever the history says."""


class ArrivalEstimator:
    def __init__(self, samples: int = 50, minimum: int = 3, quantile: float = 0.2) -> None:
        self.minimum = minimum
        self.quantile = quantile
        self._seen: dict[str, deque[float]] = {}
        self._samples = samples
        self._lock = threading.Lock()

    def first_wait(self, kind: str) -> float:
        """Seconds after the end of the call to ask for `kind` for the first time (0: at once)."""
        with self._lock:
            seen = sorted(self._seen.get(kind, ()))
        if len(seen) < self.minimum:
            return 0.0
        value = seen[min(len(seen) - 1, int(len(seen) * self.quantile))]
        return max(0.0, min(CAPS_S.get(kind, 60.0), value))

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()

    def record(self, kind: str, after_s: float, first_try: bool) -> None:
        """The document was there `after_s` seconds after the end of the call; `first_try` when the
        first ask already found it (then it may have been there earlier: recorded 20 % earlier)."""
        value = max(0.0, after_s * (0.8 if first_try else 1.0))
        with self._lock:
            self._seen.setdefault(kind, deque(maxlen=self._samples)).append(value)


ARRIVALS = ArrivalEstimator()
