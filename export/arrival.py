"""When Genesys Cloud usually has a document ready after a call: asking earlier only costs requests.

Analytics details lag the end of a call by seconds, transcripts by seconds to many minutes, and both
vary by org and by hour. Every request counts against the org's budget, so the export asks for the
first time when the document is likely there, not at once.

`ArrivalEstimator` keeps one first wait per kind of document (seconds after the end of the call) and
adjusts it from every answer, like a congestion window:

* a first ask that **missed** (the document came later) raises the wait to where the document
  was: between the missed ask and the ask that found it (their midpoint when the miss is known,
  else the finding ask). A miss costs a request, so one raises the wait at once;
* a first ask that **found** the document lowers the wait by `step_down` (3 %): the platform may
  have become faster, and only asking a little earlier finds that out. A hit says nothing about
  how much earlier the document was there, so the wait creeps down, never jumps.

At steady state the first ask finds the document most of the time (with a fixed lag, one miss in
about twenty calls) and comes a little after it. A new process starts at no wait: the first call
asks at once, and its miss sets the wait. Thread-safe; one per process (`ARRIVALS`).

Before (until 6 December 2026) the wait was the 20th percentile of recent arrival times with hits
recorded 20 % early: with a fixed lag it settled just below the lag, and most first asks missed
by milliseconds (1.64 analytics requests per call at low load; see docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger(__name__)

CAPS_S = {"analytics": 15.0, "transcript": 300.0}
"""The longest first wait per kind of document, whatever the history says."""

STEP_DOWN = 0.03
"""How much a first ask that found its document lowers the next first wait."""


class ArrivalEstimator:
    def __init__(self, step_down: float = STEP_DOWN) -> None:
        self.step_down = step_down
        self._wait: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_wait(self, kind: str) -> float:
        """Seconds after the end of the call to ask for `kind` for the first time (0: at once)."""
        with self._lock:
            value = self._wait.get(kind, 0.0)
        return max(0.0, min(CAPS_S.get(kind, 60.0), value))

    def reset(self) -> None:
        with self._lock:
            self._wait.clear()

    def record(self, kind: str, after_s: float, first_try: bool, missed_at_s: float | None = None) -> None:
        """The document was there `after_s` seconds after the end of the call. `first_try`: the first
        ask found it; otherwise `missed_at_s`, when known, is when the last ask that missed it was."""
        with self._lock:
            current = self._wait.get(kind, 0.0)
            if first_try:
                value = current * (1.0 - self.step_down)
            else:
                there = after_s if missed_at_s is None else (max(0.0, missed_at_s) + after_s) / 2
                value = max(current, there)
            self._wait[kind] = min(CAPS_S.get(kind, 60.0), max(0.0, value))
        if not first_try:
            logger.debug("%s documents: first ask %.2f s after the call from now on", kind, value)


ARRIVALS = ArrivalEstimator()
