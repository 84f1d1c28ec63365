"""The one retry and backoff policy of the service.

Every wait after a failure, and every polling cadence for something Genesys Cloud has not produced
yet, comes from a `Backoff` defined here, so the numbers live in one place with their reasons:

* exponential: attempt 1 waits `first_s`, each further attempt `factor` times longer, never more
  than `max_s`;
* jittered upwards by up to `jitter` (a fraction), so that many conversations failing together
  (a share outage, a Genesys Cloud incident) do not come back in lock-step.

Retries happen in one layer only. The Genesys client retries nothing but the protocol itself (a 429's
`Retry-After`, one token refresh after a 401); every other failure goes up to the layer that owns the
unit of work (the export state machine, the notification listener, the configuration loader), which
waits with one of these policies, for as long as the error stays recoverable.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with upward jitter: `delay(1) == first_s` (before jitter)."""

    first_s: float
    max_s: float
    factor: float = 2.0
    jitter: float = 0.2

    def base(self, attempt: int) -> float:
        """The delay before jitter for the `attempt`-th retry (1-based)."""
        exponent = max(0, attempt - 1)
        if exponent > 64:  # factor ** 64 is far beyond any max_s
            return self.max_s
        return min(self.max_s, self.first_s * self.factor**exponent)

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The delay for the `attempt`-th retry, jittered (never above `max_s * (1 + jitter)`)."""
        base = self.base(attempt)
        if not self.jitter:
            return base
        return base * (1.0 + (rng or random).uniform(0.0, self.jitter))

    def total(self, attempts: int) -> float:
        """The sum of the un-jittered delays of the first `attempts` retries (for sizing budgets)."""
        return sum(self.base(n) for n in range(1, attempts + 1))


# -- the policies ------------------------------------------------------------------------------
API = Backoff(first_s=1.0, max_s=300.0)
"""A Genesys Cloud request that failed transiently (5xx, network, timeouts): 1 s doubling to 5 min."""

STORAGE = Backoff(first_s=2.0, max_s=60.0)
"""A share that cannot be written (unreachable, permission denied, disk full): 2 s doubling to 1 min, so
files land within about a minute of the share coming back."""

POLL = Backoff(first_s=2.0, max_s=300.0, jitter=0.1)
"""Something Genesys Cloud has not produced yet (analytics details, recording metadata, a transcript):
2 s doubling to 5 min. Eleven polls reach the 5-minute cap (about 17 minutes in), so an hour of waiting
costs about 22 requests and the transcript wait's own budget can bound it tighter."""

SOON = Backoff(first_s=0.5, max_s=300.0, jitter=0.1)
"""Something Genesys Cloud normally produces within seconds of the call (analytics details, recording
metadata while the recording uploads): asked again soon, then backing off like POLL (22 requests in an
hour of waiting)."""

TRANSCODE = Backoff(first_s=0.25, max_s=10.0, jitter=0.0)
"""A recording Genesys Cloud is transcoding (202): re-asked soon (its estimate is an upper bound)."""

PIPELINE = Backoff(first_s=1.0, max_s=60.0)
"""A DSP, write or write-back request that got no reply within its deadline: re-sent."""

RESTART = Backoff(first_s=0.2, max_s=30.0)
"""A crashed actor: restarted after this delay (the supervisor's backoff)."""

RECONNECT = Backoff(first_s=1.0, max_s=60.0)
"""The notification WebSocket or channel set-up failing: reconnect after this delay."""

REPEAT_WARNING_S = 300.0
"""A recurring failure with the same cause is logged at WARNING once, then at most this often."""
