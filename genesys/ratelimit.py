"""Request budget of one OAuth client, shared by every caller in the process.

Genesys Cloud counts requests per client-credentials token per minute (default 300). The
limiter is a sliding one-minute window: at most ``per_minute`` requests in any ``window_s``
seconds. ``acquire()`` blocks until a slot is free, for at most ``max_wait_s``. The server's
``inin-ratelimit-*`` headers and 429 responses pause *all* callers of the same client id, so a
429 storm is not hammered by other threads.

One budget, shared by priority (`Priority`): live exports first, then status write-back, then
background work (the reconciliation sweep, backfill, bulk requests). A request of a lower priority
never takes a slot while a higher-priority request waits for one, write-back leaves a small reserve
to live work, and background work may use at most `background_share` of the window, so a backlog
of background work never delays a live export.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from enum import IntEnum

from .errors import ClientClosed, RateLimitTimeout

logger = logging.getLogger(__name__)


class Priority(IntEnum):
    """Who is asking: lower values go first."""

    LIVE = 0
    WRITEBACK = 1
    BACKGROUND = 2


WRITEBACK_RESERVE = 0.05
"""Share of the window write-back leaves free for live exports."""
BACKGROUND_SHARE = 0.5
"""Default share of the window background work may use (`[genesys] background_share`)."""
BOUND_WAIT_S = 1.0
"""A live or write-back request that waits this long for a slot: the budget binds (`bound_within`)."""


class RateLimiter:
    """Sliding-window limiter with priorities; thread-safe."""

    def __init__(
        self,
        per_minute: int,
        *,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
        background_share: float = BACKGROUND_SHARE,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self._per_window = per_minute
        self._window = window_s
        self._clock = clock
        self._sleep = sleep
        self._stamps: deque[tuple[float, int]] = deque()
        self._paused_until = 0.0
        self._cond = threading.Condition()
        self._waiting: Counter[int] = Counter()
        self.background_share = background_share
        self.granted: Counter[int] = Counter()  # requests granted per priority since start
        self._bound_at = -math.inf  # when a live or write-back request last waited `BOUND_WAIT_S`

    @property
    def per_minute(self) -> int:
        return self._per_window

    def set_rate(self, per_minute: int) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        with self._cond:
            self._per_window = per_minute
            self._cond.notify_all()

    def _limit(self, priority: int) -> int:
        """How many requests of the window a request of `priority` may find used and still go."""
        if priority <= Priority.LIVE:
            return self._per_window
        if priority == Priority.WRITEBACK:
            return max(1, self._per_window - math.ceil(self._per_window * WRITEBACK_RESERVE))
        return max(1, math.floor(self._per_window * self.background_share))

    def _delay_locked(self, now: float, priority: int = Priority.LIVE) -> float:
        while self._stamps and self._stamps[0][0] <= now - self._window:
            self._stamps.popleft()
        delay = max(0.0, self._paused_until - now)
        if len(self._stamps) >= self._per_window:
            delay = max(delay, self._stamps[len(self._stamps) - self._per_window][0] + self._window - now)
        if priority > Priority.LIVE:
            limit = self._limit(priority)
            counted = (
                [t for t, p in self._stamps if p >= Priority.BACKGROUND]
                if priority >= Priority.BACKGROUND
                else [t for t, _ in self._stamps]
            )
            if len(counted) >= limit:
                delay = max(delay, counted[len(counted) - limit] + self._window - now)
            if any(n for p, n in self._waiting.items() if p < priority):
                delay = max(delay, 0.05)  # a more urgent request waits: let it go first
        return delay

    def acquire(
        self,
        max_wait_s: float = 120.0,
        what: str = "request",
        priority: int = Priority.LIVE,
        abort: threading.Event | None = None,
    ) -> float:
        """Take one request slot; return the seconds waited. Raises `RateLimitTimeout`, and
        `ClientClosed` once `abort` is set (the caller's client closed: `wake` ends the wait)."""
        start = self._clock()
        with self._cond:
            self._waiting[priority] += 1
            try:
                return self._acquire_locked(start, max_wait_s, what, int(priority), abort)
            finally:
                self._waiting[priority] -= 1
                self._cond.notify_all()

    def wake(self) -> None:
        """Wake every waiting caller to check its `abort` event (a client of this budget closed)."""
        with self._cond:
            self._cond.notify_all()

    def _acquire_locked(
        self, start: float, max_wait_s: float, what: str, priority: int, abort: threading.Event | None
    ) -> float:
        while True:
            if abort is not None and abort.is_set():
                raise ClientClosed(what, message="client closed while waiting for the request budget")
            now = self._clock()
            if priority <= Priority.WRITEBACK and now - start >= BOUND_WAIT_S:
                self._bound_at = now
            delay = self._delay_locked(now, priority)
            if delay <= 0:
                self._stamps.append((now, priority))
                self.granted[priority] += 1
                return now - start
            if now + delay - start > max_wait_s:
                raise RateLimitTimeout(
                    what,
                    message=f"local rate limit ({self._per_window}/{self._window:g}s) would need "
                    f"{delay:.1f}s more, over the {max_wait_s:g}s bound",
                )
            if self._sleep is not None:
                self._cond.release()
                try:
                    self._sleep(delay)
                finally:
                    self._cond.acquire()
            else:
                self._cond.wait(min(delay, BOUND_WAIT_S))  # a long wait is noted as it lasts

    def pause(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (after a 429 with ``Retry-After``)."""
        with self._cond:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    def observe_headers(self, headers: Mapping[str, str] | None) -> None:
        """Adapt to ``inin-ratelimit-count/allowed/reset``: when the server says the budget is
        spent, pause until its window resets."""
        if not headers:
            return
        lower = {k.lower(): v for k, v in headers.items() if k.lower().startswith("inin-ratelimit-")}
        try:
            count = int(lower["inin-ratelimit-count"])
            allowed = int(lower["inin-ratelimit-allowed"])
            reset = float(lower.get("inin-ratelimit-reset", "0"))
        except (KeyError, ValueError):
            return
        if allowed > 0 and count >= allowed and reset > 0:
            logger.info(
                "Genesys reports the request budget spent (%d/%d); pausing %.1fs", count, allowed, reset
            )
            self.pause(reset)

    def in_window(self) -> int:
        with self._cond:
            self._delay_locked(self._clock())
            return len(self._stamps)

    def bound_within(self, seconds: float) -> bool:
        """Whether a live or write-back request waited `BOUND_WAIT_S` or more for a slot in the last
        `seconds` (or waits now): the budget, not the work, sets the pace."""
        with self._cond:
            return self._clock() - self._bound_at <= seconds

    def foreground_share(self) -> float:
        """Share of the budget that live and write-back requests used in the current window."""
        with self._cond:
            self._delay_locked(self._clock())
            used = sum(1 for _, p in self._stamps if p <= Priority.WRITEBACK)
            return used / self._per_window

    def usage(self) -> dict[str, int]:
        """Requests in the current window by priority (for the status line)."""
        with self._cond:
            self._delay_locked(self._clock())
            counts = Counter(p for _, p in self._stamps)
        return {Priority(p).name.lower(): n for p, n in sorted(counts.items())}


_registry: dict[str, RateLimiter] = {}
_registry_lock = threading.Lock()


def limiter_for(client_id: str, per_minute: int = 300) -> RateLimiter:
    """The one limiter of ``client_id`` in this process (created on first use). A different
    ``per_minute`` than before updates the shared limiter's rate."""
    with _registry_lock:
        limiter = _registry.get(client_id)
        if limiter is None:
            limiter = _registry[client_id] = RateLimiter(per_minute)
        elif limiter.per_minute != per_minute:
            logger.info(
                "rate limit of OAuth client changed from %d to %d per minute", limiter.per_minute, per_minute
            )
            limiter.set_rate(per_minute)
        return limiter
