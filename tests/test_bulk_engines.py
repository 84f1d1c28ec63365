"""genesys/bulk.py against the simulator over real HTTP: batch recording downloads and the details
job runner, their limits, failures, restarts from `state()`, and what they cost in API requests."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from genesys_fixtures import make_client, requests_to, running_sim

from genesys.bulk import BatchDownloadFetcher, DetailsJobRunner, Ready, run_to_end
from genesys.errors import BadRequest
from genesys.recordings import Failed, Waiting
from reliability.backoff import Backoff

QUICK = Backoff(first_s=0.1, max_s=0.5, jitter=0.0)
"""Test-speed polling (the engines take their backoff policies as parameters; POLL by default)."""


def midnight(days_back: int = 0) -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days_back)


@pytest.fixture(scope="module")
def sim() -> Any:
    with running_sim(seed=31) as s:
        s.history.add(
            3, 40, kinds=["inbound_simple", "no_recording", "mono_pair", "consult_transfer"], duration_s=15.0
        )
        s.bulk.batch_format_id = "WAV"
        s.bulk.batch_item_s = 0.01
        s.bulk.jobs_queued_s, s.bulk.jobs_run_s = 0.05, 0.1
        s.bulk.availability_lag_s = 0.0
        yield s


def step_until_done(engine: Any, *, restore: Any = None, max_steps: int = 500) -> tuple[Any, list[Any]]:
    """Step with real sleeps; `restore(engine) -> engine` may rebuild it from its state between steps."""
    items: list[Any] = []
    for n in range(max_steps):
        result = engine.step()
        items += engine.take()
        if not isinstance(result, Waiting):
            return result, items
        if restore is not None:
            engine = restore(engine, n)
        time.sleep(min(result.delay_s, 1.0))
    raise AssertionError("engine did not finish")


# -- batch recording downloads ---------------------------------------------------------------------------
def test_batch_fetcher_downloads_everything_with_few_requests(sim: Any, tmp_path: Path) -> None:
    client = make_client(sim)
    truths = [sim.history.truth(p.conversation_id) for p in sim.history.plans()]
    pairs = [(t.conversation_id, rid) for t in truths for rid in t.recording_ids]
    assert len(pairs) > 100  # more than one batch request
    before = len(requests_to(sim, "/recording/batchrequests"))
    fetcher = BatchDownloadFetcher(client, pairs, tmp_path, max_jobs=2, poll=QUICK, retry=QUICK)
    result, outcomes = step_until_done(fetcher)
    assert isinstance(result, Ready) and result.count == len(pairs)
    assert {(o.conversation_id, o.recording_id) for o in outcomes} == set(pairs)
    state_of = {t.conversation_id: t.recording_state for t in truths}
    for o in outcomes:
        if state_of[o.conversation_id] == "AVAILABLE":
            assert o.ok and o.content_type == "audio/wav", o
            live = sim.book.get(o.conversation_id)
            rec = live.call.recording(o.recording_id)
            expected = sim.media.request(live.call, rec, "WAV").result(60).read_bytes()
            assert Path(o.path).read_bytes() == expected
        else:
            assert not o.ok and o.final and o.error
    posts = requests_to(sim, "/recording/batchrequests", "POST")
    assert len(posts) - 0 >= -(-len(pairs) // 100)
    assert all(len(r.json["batchDownloadRequestList"]) <= 100 for r in posts)
    used = len(requests_to(sim, "/recording/batchrequests")) - before
    assert used == fetcher.requests and used < len(pairs) / 5  # far below one request per recording


def test_batch_fetcher_whole_conversations_expired_urls_and_restore(sim: Any, tmp_path: Path) -> None:
    client = make_client(sim)
    truths = [
        t
        for t in (sim.history.truth(p.conversation_id) for p in sim.history.plans())
        if t.recording_state == "AVAILABLE" and t.kind in ("mono_pair", "consult_transfer")
    ][:4]
    sim.faults.expire_media_urls = True  # every result URL is refused: the fetcher asks again
    fetcher = BatchDownloadFetcher(client, [(t.conversation_id, None) for t in truths], tmp_path, poll=QUICK)
    restored: list[int] = []

    def restore(engine: Any, n: int) -> Any:
        state = json.loads(json.dumps(engine.state()))  # JSON-able, as the ledger keeps it
        if n == 3:
            sim.faults.expire_media_urls = False
        restored.append(n)
        return BatchDownloadFetcher.from_state(client, state, poll=QUICK)

    try:
        result, outcomes = step_until_done(fetcher, restore=restore)
    finally:
        sim.faults.expire_media_urls = False
    assert isinstance(result, Ready), result
    assert {(o.conversation_id, o.recording_id) for o in outcomes} == {
        (t.conversation_id, rid) for t in truths for rid in t.recording_ids
    }
    assert all(o.ok for o in outcomes)
    assert len(requests_to(sim, "/recording/batchrequests", "POST")) >= 2  # URLs were requested again


def test_batch_fetcher_gives_up_on_urls_refused_too_often(sim: Any, tmp_path: Path) -> None:
    client = make_client(sim)
    truth = next(
        t
        for t in (sim.history.truth(p.conversation_id) for p in sim.history.plans())
        if t.recording_state == "AVAILABLE"
    )
    sim.faults.expire_media_urls = True
    try:
        fetcher = BatchDownloadFetcher(
            client, [(truth.conversation_id, truth.recording_ids[0])], tmp_path, max_renewals=1, poll=QUICK
        )
        result, outcomes = step_until_done(fetcher)
    finally:
        sim.faults.expire_media_urls = False
    assert isinstance(result, Ready)
    assert len(outcomes) == 1 and not outcomes[0].ok and not outcomes[0].final
    assert "refused" in (outcomes[0].error or "")


def test_batch_fetcher_refuses_oversized_requests_like_genesys(sim: Any) -> None:
    client = make_client(sim)
    ids = [(p.conversation_id, None) for p in sim.history.plans()[:101]]
    with pytest.raises(ValueError):
        client.submit_recording_batch(ids)
    sim.bulk.batch_max_items = 50  # the platform lowers its limit: the same 400 reaches the engine
    try:
        fetcher = BatchDownloadFetcher(client, ids, Path("unused"), max_items=100, poll=QUICK)
        result = fetcher.step()
        assert isinstance(result, Failed) and result.permanent and "at most 50" in result.reason
    finally:
        sim.bulk.batch_max_items = 100


# -- details of an interval -------------------------------------------------------------------------------
def test_runner_uses_a_job_and_the_sync_query_for_the_unsettled_tail(sim: Any) -> None:
    client = make_client(sim)
    settled_at = midnight(1) + timedelta(hours=12)
    sim.bulk.availability_lag_s = (datetime.now(UTC) - settled_at).total_seconds()
    try:
        runner = DetailsJobRunner(
            client, midnight(3), midnight(0), page_size=15, pages_per_step=2, poll=QUICK
        )
        result, docs = step_until_done(runner)
    finally:
        sim.bulk.availability_lag_s = 0.0
    assert isinstance(result, Ready) and result.count == len(docs) == 120
    assert sorted(d["conversationId"] for d in docs) == sorted(p.conversation_id for p in sim.history.plans())
    kinds = [t["kind"] for t in runner.plan()]
    assert kinds[0] == "job" and "sync" in kinds
    assert all(t["status"] == "done" for t in runner.plan())
    # job results carry participant attributes (the written-back export status survives there)
    assert any(p.get("attributes") for d in docs for p in d["participants"])
    assert requests_to(sim, "/details/jobs/", "DELETE")  # the job was cleaned up


def test_runner_short_interval_uses_only_the_sync_query(sim: Any) -> None:
    client = make_client(sim)
    day = midnight(1)
    before = len(requests_to(sim, "/details/jobs"))
    runner = DetailsJobRunner(client, day + timedelta(hours=8), day + timedelta(hours=12), poll=QUICK)
    result, docs = step_until_done(runner)
    assert isinstance(result, Ready)
    expected = {
        p.conversation_id
        for p in sim.history.calls_on(day.date())
        if (day + timedelta(hours=8)).timestamp() * 1000
        <= sim.history.truth(p.conversation_id).conversation_end_ms
        < (day + timedelta(hours=12)).timestamp() * 1000
    }
    assert {d["conversationId"] for d in docs} == expected
    assert len(requests_to(sim, "/details/jobs")) == before


def test_runner_survives_failed_and_expired_jobs_and_restarts(sim: Any) -> None:
    client = make_client(sim)
    sim.bulk.jobs_fail_next = 1
    runner = DetailsJobRunner(
        client, midnight(3), midnight(1), page_size=10, pages_per_step=1, poll=QUICK, retry=QUICK
    )
    expired = threading.Event()

    def restore(engine: Any, n: int) -> Any:
        tasks = engine.plan()
        job = next((t for t in tasks if t["kind"] == "job"), None)
        if job and job.get("pages") == 2 and not expired.is_set():
            expired.set()
            sim.analytics_jobs.expire(job["job_id"])  # results vanish in the middle of paging
        return DetailsJobRunner.from_state(
            client, json.loads(json.dumps(engine.state())), poll=QUICK, retry=QUICK
        )

    result, docs = step_until_done(runner, restore=restore)
    assert isinstance(result, Ready), result
    expected = {p.conversation_id for p in sim.history.plans() if p.day < midnight(1).date()}
    assert len(docs) == len(expected) and {d["conversationId"] for d in docs} == expected
    assert expired.is_set()
    assert len(requests_to(sim, "/details/jobs", "POST")) >= 3  # failed, expired, and the one that made it


def test_runner_gives_up_after_repeated_failures(sim: Any) -> None:
    client = make_client(sim)
    sim.bulk.jobs_fail_next = 5
    try:
        runner = DetailsJobRunner(
            client, midnight(3), midnight(1), max_job_failures=2, poll=QUICK, retry=QUICK
        )
        outcome = run_to_end(runner).outcome
    finally:
        sim.bulk.jobs_fail_next = 0
    assert isinstance(outcome, Failed) and not outcome.permanent and "failed 2 times" in outcome.reason


def test_query_details_by_ids_adapts_to_the_predicate_limit(sim: Any) -> None:
    client = make_client(sim)
    plans = sim.history.plans()[:45]
    interval = (
        f"{midnight(4).strftime('%Y-%m-%dT%H:%M:%S.000Z')}/{midnight(0).strftime('%Y-%m-%dT%H:%M:%S.000Z')}"
    )
    before = len(requests_to(sim, "/details/query"))
    docs = client.query_details_by_ids([p.conversation_id for p in plans], interval)
    assert [d["conversationId"] for d in docs] == [p.conversation_id for p in plans]
    assert len(requests_to(sim, "/details/query")) - before == 1
    sim.bulk.max_predicates = 10
    try:
        docs = client.query_details_by_ids([p.conversation_id for p in plans], interval)
    finally:
        sim.bulk.max_predicates = 100
    assert len(docs) == 45
    with pytest.raises(BadRequest):
        client.query_details_by_ids(["x"], "2020-01-01T00:00:00.000Z/2020-01-02T00:00:00.000Z")
