"""Request budget of one OAuth client, shared by every caller in the process.

Genesys Cloud counts requests per client-credentials token per minute (default 300). The
limiter is a sliding one-minute window: at most ``per_minute`` requests in any ``window_s``
seconds. ``acquire()`` blocks until a slot is free, for at most ``max_wait_s``. The server's
``inin-ratelimit-*`` headers and 429 responses pause *all* callers of the same client id, so a
429 storm is not hammered by other threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

from .errors import RateLimitTimeout

logger = logging.getLogger(__name__)


class RateLimiter:
    """Sliding-window limiter; thread-safe."""

    def __init__(
        self,
        per_minute: int,
        *,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self._per_window = per_minute
        self._window = window_s
        self._clock = clock
        self._sleep = sleep
        self._stamps: deque[float] = deque()
        self._paused_until = 0.0
        self._cond = threading.Condition()

    @property
    def per_minute(self) -> int:
        return self._per_window

    def set_rate(self, per_minute: int) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        with self._cond:
            self._per_window = per_minute
            self._cond.notify_all()

    def _delay_locked(self, now: float) -> float:
        while self._stamps and self._stamps[0] <= now - self._window:
            self._stamps.popleft()
        delay = max(0.0, self._paused_until - now)
        if len(self._stamps) >= self._per_window:
            delay = max(delay, self._stamps[len(self._stamps) - self._per_window] + self._window - now)
        return delay

    def acquire(self, max_wait_s: float = 120.0, what: str = "request") -> float:
        """Take one request slot; return the seconds waited. Raises `RateLimitTimeout`."""
        start = self._clock()
        with self._cond:
            while True:
                now = self._clock()
                delay = self._delay_locked(now)
                if delay <= 0:
                    self._stamps.append(now)
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
                    self._cond.wait(delay)

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
