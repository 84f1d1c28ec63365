"""When the API budget sets the pace of live exports, and which queued calls then wait for a bulk read.

One by one, a live call reads its analytics details and recordings with a request each, then waits for
the budget in its export slot. When the budget binds, that is the wrong order: the same calls read in
bulk (`export.prefetch`: details 100 per request, recordings in one batch download when the profiles
allow) cost a fraction of it. So while the budget binds, a queued live call starts only after a bulk
read has covered it:

* the budget *binds* when a live or write-back request waited `genesys.ratelimit.BOUND_WAIT_S` for a
  slot in the last `BOUND_RECENT_S` (`RateLimiter.bound_within`); background work waiting for its own
  share does not count. The pace ends once that has not happened for `BOUND_RECENT_S` and live and
  write-back use less than `BOUND_EXIT_SHARE` of the budget (one by one fits again);
* a bulk read starts with fewer than `batch_threshold` calls once the first has waited `BULK_WAIT_S`;
* a call never waits twice (one bulk read tried it, found or not), never behind a bulk read of
  background work only, nor behind one that has run for `BULK_PATIENCE_S`; background work is never
  held (it has its own share of the budget and of the slots).

Thread-free: the ExportSupervisor holds one `BudgetPace` and asks it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

logger = logging.getLogger(__name__)

BOUND_RECENT_S = 15.0
"""The budget bound this recently (a live or write-back request waited for it): live calls wait for bulk
reads."""
BOUND_EXIT_SHARE = 0.8
"""... until it has not bound for `BOUND_RECENT_S` and live and write-back use less than this share of it
(one by one, calls cost more than in bulk reads: with this much room they fit again)."""
BULK_WAIT_S = 10.0
"""While the budget binds, a bulk read starts with fewer than `batch_threshold` calls once the first of
them has waited this long."""
BULK_PATIENCE_S = 30.0
"""A bulk read that runs longer than this no longer holds live calls that wait for the next one."""


class BudgetSignals(Protocol):
    def bound_within(self, seconds: float) -> bool: ...
    def foreground_share(self) -> float: ...


@dataclass
class BudgetPace:
    """The pace's state: whether the budget binds, when each queued call was queued, and the running bulk
    read (whether it holds live calls, since when)."""

    bound: bool = False
    queued_at: dict[str, float] = field(default_factory=dict)
    bulk_live: bool = False
    bulk_since: float | None = None

    def update(self, signals: BudgetSignals | None, enabled: bool) -> bool | None:
        """Look at the budget again; returns the new state when it changed, else None."""
        if signals is None or not enabled:
            bound = False
        elif signals.bound_within(BOUND_RECENT_S):
            bound = True
        else:
            bound = self.bound and signals.foreground_share() >= BOUND_EXIT_SHARE
        changed = bound != self.bound
        self.bound = bound
        return bound if changed else None

    def stop(self) -> None:
        """Intake closed (a drain): nothing waits for a bulk read any more."""
        self.bound = False

    def queued(self, conversation_id: str, now: float, still_queued: Iterable[str]) -> None:
        """A call joined the queue at `now` (monotonic); `still_queued` prunes calls long gone."""
        self.queued_at[conversation_id] = now
        if len(self.queued_at) > 1000:
            keep = set(still_queued)
            if len(self.queued_at) > 2 * len(keep) + 1000:
                self.queued_at = {c: t for c, t in self.queued_at.items() if c in keep}

    def left_queue(self, conversation_id: str) -> None:
        self.queued_at.pop(conversation_id, None)

    def bulk_started(self, live: bool, now: float) -> None:
        self.bulk_live, self.bulk_since = live, now

    def bulk_ended(self) -> None:
        self.bulk_live, self.bulk_since = False, None

    def waits_for_bulk(self, live: bool, read_in_bulk: bool, now: float) -> bool:
        """Whether a queued call waits for the next bulk read: a live one not read in bulk yet, while the
        budget binds, unless the running bulk read holds no live calls or has run `BULK_PATIENCE_S`."""
        if not self.bound or not live or read_in_bulk:
            return False
        if self.bulk_since is not None and (not self.bulk_live or now - self.bulk_since > BULK_PATIENCE_S):
            return False
        return True

    def bulk_due(self, conversation_ids: Iterable[str], now: float) -> bool:
        """While the budget binds, fewer than `batch_threshold` waiting calls are read in bulk once the
        first has waited `BULK_WAIT_S` (none waits for a backlog that does not come)."""
        if not self.bound:
            return False
        return any(now - self.queued_at.get(cid, now) >= BULK_WAIT_S for cid in conversation_ids)
