"""When Genesys Cloud usually has a document ready after a call: asking earlier only costs requests.

Analytics details lag the end of a call by seconds, transcripts by seconds to many minutes, and both
vary by org and by hour. Every request counts against the org's budget, so the export asks for the
first time when the document is likely there, not at once.

`ArrivalEstimator` keeps one first wait per kind of document (seconds after the end of the call) and
adjusts it from the answers, like a congestion window:

* a first ask that **missed** (the document came later) raises the wait to where the document was
  found, but at most to twice the missed ask's time plus `GROWTH_S`: the finding ask may come late
  for reasons of our own (a retry queued behind a burst in the rate limiter), so one miss never
  raises the wait far; a long lag is reached by a few doublings. A miss costs a request, so one
  raises the wait at once;
* a first ask **on time** (within `ON_TIME_S` of the wait) that found the document lowers the wait
  by `STEP_DOWN` of the last rise (the gap between the missed and the finding ask, at least
  `MIN_STEP_S`): the platform may have become faster, and only asking a little earlier finds that
  out. With a fixed lag that is one miss in about twenty calls, whatever the lag, and the ask comes
  at most one retry interval after the document.

A late first ask (the call waited for a slot or for the rate limiter, or a processing delay ran past
the lag) says nothing about the wait, hit or miss, and changes nothing: a burst or a backlog leaves
the wait as it was.

A new process starts at no wait: the first call asks at once, and its miss sets the wait.
Only "not there yet" answers count as misses (never errors). Thread-safe; one per process
(`ARRIVALS`).

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

STEP_DOWN = 0.05
"""A first ask on time that found its document lowers the wait by this share of the last rise."""
MIN_STEP_S = 0.02
"""The smallest step down (a wait learned without a known rise still comes down)."""
GROWTH_S = 1.0
"""A miss raises the wait to at most twice the missed ask's time plus this."""
ON_TIME_S = 1.0
"""A first ask within this of the wait (besides 25 % of it) was on time; a later one teaches nothing."""


class ArrivalEstimator:
    def __init__(self) -> None:
        self._wait: dict[str, float] = {}
        self._step: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_wait(self, kind: str) -> float:
        """Seconds after the end of the call to ask for `kind` for the first time (0: at once)."""
        with self._lock:
            value = self._wait.get(kind, 0.0)
        return max(0.0, min(CAPS_S.get(kind, 60.0), value))

    def reset(self) -> None:
        with self._lock:
            self._wait.clear()
            self._step.clear()

    def record(self, kind: str, after_s: float, first_try: bool, missed_at_s: float | None = None) -> None:
        """The document was there `after_s` seconds after the end of the call. `first_try`: the first
        ask found it; otherwise it was not there at the first ask, `missed_at_s` seconds after the end
        of the call (unknown: taken as the current wait, when the first ask was due)."""
        cap = CAPS_S.get(kind, 60.0)
        with self._lock:
            current = self._wait.get(kind, 0.0)
            asked = after_s if first_try else (current if missed_at_s is None else missed_at_s)
            if asked > current * 1.25 + ON_TIME_S:
                return  # the first ask came late (a queue, a processing delay): it says nothing
            if first_try:
                value = current - max(MIN_STEP_S, STEP_DOWN * self._step.get(kind, 0.0))
            else:
                missed = max(0.0, asked)
                there = min(max(missed, after_s), 2 * missed + GROWTH_S)
                value = max(current, there)
                if there > current:
                    self._step[kind] = there - missed
            self._wait[kind] = min(cap, max(0.0, value))
        if not first_try:
            logger.debug("%s documents: first ask %.2f s after the call from now on", kind, value)


ARRIVALS = ArrivalEstimator()
