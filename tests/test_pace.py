"""The budget's pace (export/pace.py): when it starts and ends, and which queued calls wait for a bulk
read. Thread-free; the limiter's signals are exercised with the real RateLimiter on a fake clock."""

from __future__ import annotations

from dataclasses import dataclass

from genesys_fixtures import FakeClock

from export.pace import BOUND_RECENT_S, BULK_PATIENCE_S, BULK_WAIT_S, BudgetPace
from genesys.ratelimit import Priority, RateLimiter


@dataclass
class Signals:
    bound: bool = False
    share: float = 0.0

    def bound_within(self, seconds: float) -> bool:
        return self.bound

    def foreground_share(self) -> float:
        return self.share


def test_the_pace_starts_when_the_budget_binds_and_ends_when_one_by_one_fits_again() -> None:
    pace = BudgetPace()
    signals = Signals()
    assert pace.update(signals, enabled=True) is None and not pace.bound
    signals.bound, signals.share = True, 1.0
    assert pace.update(signals, enabled=True) is True
    assert pace.update(signals, enabled=True) is None  # no change, no second log line
    signals.bound = False  # no wait for BOUND_RECENT_S, but live and write-back still use most of it
    signals.share = 0.85
    assert pace.update(signals, enabled=True) is None and pace.bound
    signals.share = 0.5
    assert pace.update(signals, enabled=True) is False and not pace.bound
    signals.share = 0.95  # used much, but nothing waited: one by one is not slowed by the budget
    assert pace.update(signals, enabled=True) is None and not pace.bound


def test_no_pace_without_a_limiter_or_with_bulk_reads_turned_off() -> None:
    pace = BudgetPace()
    assert pace.update(None, enabled=True) is None
    assert pace.update(Signals(bound=True), enabled=False) is None and not pace.bound
    pace.update(Signals(bound=True), enabled=True)
    assert pace.update(Signals(bound=True), enabled=False) is False  # batch_threshold set to 0 meanwhile
    pace.update(Signals(bound=True), enabled=True)
    pace.stop()  # a drain
    assert not pace.bound


def test_while_bound_a_live_call_waits_for_one_bulk_read_and_background_work_never() -> None:
    pace = BudgetPace()
    assert not pace.waits_for_bulk(live=True, read_in_bulk=False, now=0.0)  # not bound: one by one
    pace.update(Signals(bound=True), enabled=True)
    assert pace.waits_for_bulk(live=True, read_in_bulk=False, now=0.0)
    assert not pace.waits_for_bulk(live=True, read_in_bulk=True, now=0.0)  # tried once: found or not
    assert not pace.waits_for_bulk(live=False, read_in_bulk=False, now=0.0)  # background: its own share


def test_a_live_call_never_waits_behind_a_bulk_read_of_background_work_or_a_slow_one() -> None:
    pace = BudgetPace()
    pace.update(Signals(bound=True), enabled=True)
    pace.bulk_started(live=False, now=100.0)
    assert not pace.waits_for_bulk(live=True, read_in_bulk=False, now=101.0)
    pace.bulk_ended()
    pace.bulk_started(live=True, now=200.0)
    assert pace.waits_for_bulk(live=True, read_in_bulk=False, now=200.0 + BULK_PATIENCE_S)
    assert not pace.waits_for_bulk(live=True, read_in_bulk=False, now=200.1 + BULK_PATIENCE_S)
    pace.bulk_ended()
    assert pace.waits_for_bulk(live=True, read_in_bulk=False, now=500.0)


def test_a_bulk_read_is_due_once_the_first_waiting_call_waited_long_enough() -> None:
    pace = BudgetPace()
    pace.queued("a", 10.0, ["a"])
    pace.queued("b", 14.0, ["a", "b"])
    assert not pace.bulk_due(["a", "b"], 10.0 + BULK_WAIT_S)  # not bound: only batch_threshold counts
    pace.update(Signals(bound=True), enabled=True)
    assert not pace.bulk_due(["a", "b"], 9.9 + BULK_WAIT_S)
    assert pace.bulk_due(["a", "b"], 10.0 + BULK_WAIT_S)
    pace.left_queue("a")
    assert not pace.bulk_due(["b"], 10.0 + BULK_WAIT_S)
    assert pace.bulk_due(["b"], 14.0 + BULK_WAIT_S)
    assert not pace.bulk_due(["unknown"], 1e9)  # a call it never saw queued has not waited


def test_queue_times_of_calls_long_gone_are_forgotten() -> None:
    pace = BudgetPace()
    for i in range(3000):
        pace.queued(f"c{i}", float(i), [f"c{i}"])  # each leaves before the next comes, unrecorded
    assert len(pace.queued_at) <= 1002


def test_the_real_limiter_drives_the_pace_on_and_off() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, window_s=60, clock=clock, sleep=clock.sleep)
    pace = BudgetPace()
    for _ in range(5):
        limiter.acquire(priority=Priority.BACKGROUND)  # background's whole share
    limiter.acquire(max_wait_s=100, priority=Priority.BACKGROUND)  # waits 60 s for its share
    assert pace.update(limiter, enabled=True) is None, "background work waiting never sets the pace"
    clock.t = 200.0
    for _ in range(10):
        limiter.acquire()
    assert pace.update(limiter, enabled=True) is None  # the window is full, but nothing waited
    limiter.acquire(max_wait_s=100)  # a live request waits 60 s
    assert pace.update(limiter, enabled=True) is True
    clock.t += BOUND_RECENT_S + 1  # no wait since; the one request of the window is 10 % of the budget
    assert pace.update(limiter, enabled=True) is False
