"""The arrival estimator: when to ask Genesys Cloud for a document for the first time."""

from __future__ import annotations

import random

from export.arrival import CAPS_S, ArrivalEstimator


def ask(estimator: ArrivalEstimator, kind: str, arrival_s: float, retry_s: float = 0.5) -> int:
    """One call: the first ask at the estimator's wait, then every `retry_s` until the document is
    there; the estimator learns the outcome. Returns the number of requests made."""
    at = estimator.first_wait(kind)
    requests, missed = 1, None
    while at < arrival_s:
        missed, at, requests = at, at + retry_s, requests + 1
    estimator.record(kind, at, first_try=missed is None, missed_at_s=missed)
    return requests


def test_a_new_process_asks_at_once_and_its_first_miss_sets_the_wait_between_miss_and_find() -> None:
    estimator = ArrivalEstimator()
    assert estimator.first_wait("analytics") == 0.0
    estimator.record("analytics", 0.8, first_try=False, missed_at_s=0.3)
    assert estimator.first_wait("analytics") == 0.55
    estimator.record("analytics", 0.6, first_try=True)  # found at the first ask: a little earlier next time
    assert round(estimator.first_wait("analytics"), 4) == round(0.55 * 0.97, 4)
    estimator.record("analytics", 0.2, first_try=False, missed_at_s=0.1)  # an early outlier never lowers it
    assert round(estimator.first_wait("analytics"), 4) == round(0.55 * 0.97, 4)
    assert estimator.first_wait("transcript") == 0.0  # each kind learns on its own


def test_without_the_missed_ask_the_finding_ask_sets_the_wait_and_caps_hold() -> None:
    estimator = ArrivalEstimator()
    estimator.record("transcript", 40.0, first_try=False)
    assert estimator.first_wait("transcript") == 40.0
    estimator.record("analytics", 500.0, first_try=False)
    assert estimator.first_wait("analytics") == CAPS_S["analytics"]
    estimator.reset()
    assert estimator.first_wait("transcript") == 0.0


def test_with_a_fixed_lag_about_one_first_ask_in_twenty_misses_and_the_ask_comes_soon_after() -> None:
    """The simulator's analytics lag (0.3 s after the wrap-up): the former 20th-percentile estimator
    settled just below it and missed most first asks (1.6 requests per call)."""
    estimator = ArrivalEstimator()
    requests = [ask(estimator, "analytics", 0.3) for _ in range(200)]
    assert sum(requests[100:]) / 100 <= 1.06
    waits = []
    for _ in range(100):
        waits.append(estimator.first_wait("analytics"))
        ask(estimator, "analytics", 0.3)
    assert sum(waits) / len(waits) < 0.3 + 0.2  # the document is fetched soon after it is there


def test_a_varying_lag_keeps_most_first_asks_finding_the_document() -> None:
    """Lags spread over 1–5 s: the wait settles high in the spread, so most calls need one request."""
    rng = random.Random(7)
    estimator = ArrivalEstimator()
    requests = [ask(estimator, "analytics", rng.uniform(1.0, 5.0), retry_s=1.0) for _ in range(400)]
    assert sum(requests[200:]) / 200 <= 1.3
    assert 3.0 < estimator.first_wait("analytics") <= CAPS_S["analytics"]


def test_a_platform_that_became_faster_is_followed_down() -> None:
    estimator = ArrivalEstimator()
    for _ in range(50):
        ask(estimator, "analytics", 4.0)
    assert estimator.first_wait("analytics") >= 4.0
    for _ in range(100):
        ask(estimator, "analytics", 0.5)
    assert estimator.first_wait("analytics") < 0.5 + 0.5
