"""The simulator's bulk endpoints and history over real HTTP: batch recording downloads, the
asynchronous analytics details jobs, the synchronous query's limits, past calls served lazily."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import av
import pytest
import requests
from sim_fidelity import assert_sdk_roundtrip
from sim_server_fixtures import FAST, Api

from simulator.app import Simulator
from simulator.scenarios import KINDS


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def midnight(days_back: int = 0) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days_back)


def wait_state(api: Api, path: str, key: str, done: set[str], timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        doc = api.ok("GET", path)
        if doc[key] in done or time.monotonic() > deadline:
            return doc
        time.sleep(0.05)


@pytest.fixture(scope="module")
def sim() -> Any:
    with Simulator(seed=21, **FAST) as s:
        s.history.add(4, 30, kinds=[k for k in KINDS if k != "long"], duration_s=25.0)
        s.bulk.batch_format_id = "WAV"
        s.bulk.availability_lag_s = 0.0
        yield s


# -- history ------------------------------------------------------------------------------------------
def test_history_is_planned_cheaply_and_generated_on_demand() -> None:
    started = time.monotonic()
    with Simulator(seed=2, history_days=7, history_calls_per_day=1000) as big:
        assert time.monotonic() - started < 5.0
        assert len(big.history) == 7000 and big.history.generated == 0
        days = big.history.days()
        assert days == [midnight(d).date() for d in range(7, 0, -1)]
        assert all(len(big.history.calls_on(d)) == 1000 for d in days)
        kinds = {p.kind for p in big.history.plans()}
        assert kinds == set(KINDS)
        one = big.history.plans()[0]
        api = Api(big)
        conv = api.ok("GET", f"/api/v2/conversations/{one.conversation_id}")
        assert_sdk_roundtrip(conv, "Conversation")
        assert big.history.generated == 1  # only the call that was asked for


def test_history_truth_matches_what_the_api_serves(sim: Simulator) -> None:
    api = Api(sim)
    truths = sim.history.truth_by_day()
    assert len(truths) == 4 and all(len(v) == 30 for v in truths.values())
    states: dict[str | None, int] = {}
    for day, calls in truths.items():
        for truth in calls:
            assert datetime.fromtimestamp(truth.conversation_end_ms / 1000, UTC).date() == day
            states[truth.recording_state] = states.get(truth.recording_state, 0) + 1
    # Claims recordings are deleted after 2 days by the org's policy; some were archived by hand
    assert states.get("DELETED", 0) > 0 and states.get("AVAILABLE", 0) > 0 and None in states
    for truth in [t for calls in truths.values() for t in calls][:40]:
        cid = truth.conversation_id
        details = api.ok("GET", f"/api/v2/analytics/conversations/{cid}/details")
        assert details["conversationEnd"] and details["conversationId"] == cid
        metas = api.ok("GET", f"/api/v2/conversations/{cid}/recordingmetadata")
        assert_sdk_roundtrip(metas, "list[RecordingMetadata]")
        assert [m["fileState"] for m in metas] == [truth.recording_state] * len(truth.recording_ids)
        if truth.recording_state == "DELETED":
            assert not truth.transcript_available
            assert all("annotations" not in m for m in metas)
        if truth.recording_state in ("DELETED", "ARCHIVED"):
            rec = api.ok(
                "GET", f"/api/v2/conversations/{cid}/recordings/{truth.recording_ids[0]}?formatId=WAV"
            )
            assert rec["fileState"] == truth.recording_state and "mediaUris" not in rec
            assert_sdk_roundtrip(rec, "Recording")


def test_attributes_written_to_a_past_call_stay(sim: Simulator) -> None:
    api = Api(sim)
    plan = sim.history.plans()[3]
    conv = api.ok("GET", f"/api/v2/conversations/{plan.conversation_id}")
    customer = next(p for p in conv["participants"] if p["purpose"] in ("customer", "external"))
    api.ok(
        "PATCH",
        f"/api/v2/conversations/calls/{plan.conversation_id}/participants/{customer['id']}/attributes",
        json={"attributes": {"callexport.x.audio.status": "exported"}},
    )
    for other in sim.history.plans()[:600]:  # churn the cache of generated calls
        sim.history.live(other.conversation_id)
    again = api.ok("GET", f"/api/v2/conversations/{plan.conversation_id}")
    attrs = {k: v for p in again["participants"] for k, v in (p.get("attributes") or {}).items()}
    assert attrs["callexport.x.audio.status"] == "exported"


# -- batch recording downloads -------------------------------------------------------------------------
def test_batch_request_limits(sim: Simulator) -> None:
    api = Api(sim)
    cids = [p.conversation_id for p in sim.history.plans()]
    too_many = {"batchDownloadRequestList": [{"conversationId": c} for c in cids[:101]]}
    r = api.call("POST", "/api/v2/recording/batchrequests", json=too_many)
    assert r.status_code == 400 and "at most 100" in r.json()["message"]
    assert_sdk_roundtrip(r.json(), "ErrorBody")
    assert (
        api.call("POST", "/api/v2/recording/batchrequests", json={"batchDownloadRequestList": []}).status_code
        == 400
    )
    bad = {"batchDownloadRequestList": [{"recordingId": "x"}]}
    assert api.call("POST", "/api/v2/recording/batchrequests", json=bad).status_code == 400
    ok = api.ok(
        "POST",
        "/api/v2/recording/batchrequests",
        status=202,
        json={"batchDownloadRequestList": [{"conversationId": c} for c in cids[:100]]},
    )
    assert_sdk_roundtrip(ok, "BatchDownloadJobSubmissionResult")


def test_batch_job_lifecycle_results_and_expiry(sim: Simulator) -> None:
    api = Api(sim)
    sim.bulk.batch_item_s = 0.1
    truths = [sim.history.truth(p.conversation_id) for p in sim.history.plans()[:30]]
    recorded = [t for t in truths if t.recorded][:6]
    body = {"batchDownloadRequestList": [{"conversationId": t.conversation_id} for t in recorded]}
    job = api.ok("POST", "/api/v2/recording/batchrequests", status=202, json=body)
    path = f"/api/v2/recording/batchrequests/{job['id']}"
    first = api.ok("GET", path)
    assert_sdk_roundtrip(first, "BatchDownloadJobStatusResult")
    assert first["status"] == "InProgress" and first["expectedResultCount"] == len(recorded)
    done = wait_state(api, path, "status", {"Completed"})
    assert_sdk_roundtrip(done, "BatchDownloadJobStatusResult")
    expected = sum(len(t.recording_ids) for t in recorded)
    assert done["expectedResultCount"] == done["resultCount"] == expected
    by_state = {t.conversation_id: t.recording_state for t in recorded}
    errors = [r for r in done["results"] if "errorMsg" in r]
    assert done["errorCount"] == len(errors)
    assert {r["conversationId"] for r in errors} == {c for c, s in by_state.items() if s != "AVAILABLE"}
    good = [r for r in done["results"] if "resultUrl" in r]
    assert good and all(r["contentType"] == "audio/wav" for r in good)
    media = requests.get(good[0]["resultUrl"], timeout=30)
    assert media.status_code == 200 and media.content[:4] == b"RIFF"
    # only the client that submitted the job can read it
    other = sim.register_oauth_client("other", "CLIENT-CREDENTIALS")
    token = requests.post(
        f"{sim.login_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(other.id, other.secret),
        timeout=10,
    ).json()["access_token"]
    r = requests.get(sim.api_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 404
    # result URLs expire (the org's batch download URL time-to-live)
    sim.bulk.batch_url_ttl_s = 1.0
    try:
        job2 = api.ok(
            "POST",
            "/api/v2/recording/batchrequests",
            status=202,
            json={
                "batchDownloadRequestList": [
                    {"conversationId": good[0]["conversationId"], "recordingId": good[0]["recordingId"]}
                ]
            },
        )
        url = wait_state(api, f"/api/v2/recording/batchrequests/{job2['id']}", "status", {"Completed"})[
            "results"
        ][0]["resultUrl"]
        time.sleep(1.2)
        expired = requests.get(url, timeout=10)
        assert expired.status_code == 403 and b"AccessDenied" in expired.content
    finally:
        sim.bulk.batch_url_ttl_s = 3600.0
        sim.bulk.batch_item_s = 0.05


def test_batch_results_are_in_the_trunk_format(sim: Simulator, tmp_path: Any) -> None:
    api = Api(sim)
    truth = next(
        t
        for t in (sim.history.truth(p.conversation_id) for p in sim.history.plans())
        if t.recording_state == "AVAILABLE" and t.kind == "inbound_simple"
    )
    sim.bulk.batch_format_id = "OGG_OPUS"
    try:
        job = api.ok(
            "POST",
            "/api/v2/recording/batchrequests",
            status=202,
            json={
                "batchDownloadRequestList": [
                    {"conversationId": truth.conversation_id, "recordingId": truth.recording_ids[0]}
                ]
            },
        )
        done = wait_state(api, f"/api/v2/recording/batchrequests/{job['id']}", "status", {"Completed"})
    finally:
        sim.bulk.batch_format_id = "WAV"
    result = done["results"][0]
    assert result["contentType"] == "audio/ogg"
    target = tmp_path / "rec.ogg"
    target.write_bytes(requests.get(result["resultUrl"], timeout=60).content)
    with av.open(str(target)) as container:
        assert container.format.name == "ogg" and container.streams.audio[0].codec_context.name == "opus"


# -- analytics details jobs -----------------------------------------------------------------------------
def submit(api: Api, body: dict[str, Any], status: int = 202) -> Any:
    return api.ok("POST", "/api/v2/analytics/conversations/details/jobs", status=status, json=body)


def test_job_lifecycle_and_cursor_paging(sim: Simulator) -> None:
    api = Api(sim)
    sim.bulk.jobs_queued_s, sim.bulk.jobs_run_s = 1.0, 0.5
    interval = f"{iso(midnight(4))}/{iso(midnight(0))}"
    job = submit(api, {"interval": interval, "order": "asc", "orderBy": "conversationStart"})
    assert_sdk_roundtrip(job, "AsyncQueryResponse")
    path = f"/api/v2/analytics/conversations/details/jobs/{job['jobId']}"
    status = api.ok("GET", path)
    assert_sdk_roundtrip(status, "AsyncQueryStatus")
    assert status["state"] in ("QUEUED", "PENDING")
    early = api.call("GET", path + "/results")
    assert early.status_code == 400
    done = wait_state(api, path, "state", {"FULFILLED", "FAILED"})
    assert done["state"] == "FULFILLED" and done["completionDate"] and done["expirationDate"]
    assert_sdk_roundtrip(done, "AsyncQueryStatus")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = api.ok("GET", path + "/results?pageSize=7" + (f"&cursor={cursor}" if cursor else ""))
        assert_sdk_roundtrip(page, "AnalyticsConversationAsyncQueryResponse")
        assert page["dataAvailabilityDate"]
        seen += [c["conversationId"] for c in page.get("conversations", [])]
        pages += 1
        cursor = page.get("cursor")
        if not cursor:
            break
    assert pages == -(-120 // 7)
    assert sorted(seen) == sorted(p.conversation_id for p in sim.history.plans())
    customer_attrs = [
        p.get("attributes")
        for c in api.ok("GET", path + "/results?pageSize=3")["conversations"]
        for p in c["participants"]
        if p["purpose"] in ("customer", "external")
    ]
    assert all(a and "CustomerName" in a for a in customer_attrs)
    assert api.call("GET", path + "/results?pageSize=100000").status_code == 400
    assert api.call("GET", path + "/results?cursor=bogus").status_code == 404
    assert api.call("DELETE", path).status_code == 204
    assert api.ok("GET", path)["state"] == "CANCELLED"
    assert api.call("GET", path + "/results").status_code == 404


def test_job_failed_expired_and_limits(sim: Simulator) -> None:
    api = Api(sim)
    sim.bulk.jobs_queued_s, sim.bulk.jobs_run_s = 0.05, 0.05
    interval = f"{iso(midnight(2))}/{iso(midnight(1))}"
    sim.bulk.jobs_fail_next = 1
    failed = submit(api, {"interval": interval})
    status = wait_state(
        api, f"/api/v2/analytics/conversations/details/jobs/{failed['jobId']}", "state", {"FAILED"}
    )
    assert status["state"] == "FAILED" and status["errorMessage"]
    assert_sdk_roundtrip(status, "AsyncQueryStatus")
    job = submit(api, {"interval": interval})
    path = f"/api/v2/analytics/conversations/details/jobs/{job['jobId']}"
    assert wait_state(api, path, "state", {"FULFILLED"})["state"] == "FULFILLED"
    sim.analytics_jobs.expire(job["jobId"])
    assert api.ok("GET", path)["state"] == "EXPIRED"
    assert api.call("GET", path + "/results").status_code == 404
    # interval beyond the analytics retention; malformed queries; too many predicates
    old = f"{iso(midnight(6 * 365))}/{iso(midnight(6 * 365 - 1))}"
    r = api.call("POST", "/api/v2/analytics/conversations/details/jobs", json={"interval": old})
    assert r.status_code == 400 and "retention" in r.json()["message"]
    assert (
        api.call("POST", "/api/v2/analytics/conversations/details/jobs", json={"interval": "x"}).status_code
        == 400
    )
    bad_order = {"interval": interval, "order": "sideways"}
    assert api.call("POST", "/api/v2/analytics/conversations/details/jobs", json=bad_order).status_code == 400
    many = {
        "interval": interval,
        "conversationFilters": [
            {
                "type": "or",
                "predicates": [{"dimension": "conversationId", "value": str(i)} for i in range(101)],
            }
        ],
    }
    assert api.call("POST", "/api/v2/analytics/conversations/details/jobs", json=many).status_code == 400
    # too many running jobs of one client: 429
    sim.bulk.jobs_max_running, sim.bulk.jobs_queued_s = 1, 5.0
    try:
        submit(api, {"interval": interval})
        r = api.call("POST", "/api/v2/analytics/conversations/details/jobs", json={"interval": interval})
        assert r.status_code == 429 and r.headers["Retry-After"]
    finally:
        sim.bulk.jobs_max_running, sim.bulk.jobs_queued_s = None, 0.05
    long = submit(api, {"interval": f"{iso(midnight(30))}/{iso(midnight(0))}"})  # jobs: no 7-day limit
    assert long["jobId"]
    avail = api.ok("GET", "/api/v2/analytics/conversations/details/jobs/availability")
    assert_sdk_roundtrip(avail, "DataAvailabilityResponse")


def test_jobs_leave_out_unsettled_data_and_match_by_overlap(sim: Simulator) -> None:
    api = Api(sim)
    sim.bulk.jobs_queued_s, sim.bulk.jobs_run_s = 0.05, 0.05
    day = midnight(1)
    on_day = {p.conversation_id for p in sim.history.calls_on(day.date())}
    # a slice of the day: overlap catches calls that started before it; startOfDayIntervalMatching
    # additionally requires a start on or after the slice's UTC midnight
    lo, hi = day + timedelta(hours=6), day + timedelta(hours=18)
    overlapping = {
        cid
        for cid in on_day
        if (t := sim.history.truth(cid)).conversation_start_ms < hi.timestamp() * 1000
        and t.conversation_end_ms >= lo.timestamp() * 1000
    }

    def run(body: dict[str, Any]) -> set[str]:
        job = submit(api, body)
        path = f"/api/v2/analytics/conversations/details/jobs/{job['jobId']}"
        wait_state(api, path, "state", {"FULFILLED"})
        page = api.ok("GET", path + "/results?pageSize=1000")
        return {c["conversationId"] for c in page.get("conversations", [])}

    assert run({"interval": f"{iso(lo)}/{iso(hi)}"}) == overlapping
    assert run({"interval": f"{iso(lo)}/{iso(hi)}", "startOfDayIntervalMatching": True}) == {
        cid for cid in overlapping if sim.history.truth(cid).conversation_start_ms >= day.timestamp() * 1000
    }
    sim.bulk.availability_lag_s = (datetime.now(UTC) - (day + timedelta(hours=12))).total_seconds()
    try:
        settled = run({"interval": f"{iso(day)}/{iso(midnight(0))}"})
    finally:
        sim.bulk.availability_lag_s = 0.0
    assert settled == {
        cid
        for cid in on_day
        if sim.history.truth(cid).conversation_end_ms <= (day + timedelta(hours=12)).timestamp() * 1000
    }


# -- the synchronous query -------------------------------------------------------------------------------
def test_sync_query_limits_and_many_ids(sim: Simulator) -> None:
    api = Api(sim)
    query = "/api/v2/analytics/conversations/details/query"
    r = api.call("POST", query, json={"interval": f"{iso(midnight(9))}/{iso(midnight(1))}"})
    assert r.status_code == 400 and "7 days" in r.json()["message"]
    r = api.call("POST", query, json={"interval": f"{iso(midnight(40))}/{iso(midnight(39))}"})
    assert r.status_code == 400 and "35 days" in r.json()["message"]
    ids = [p.conversation_id for p in sim.history.plans()[:60]]
    body = {
        "interval": f"{iso(midnight(5))}/{iso(midnight(0))}",
        "conversationFilters": [
            {"type": "or", "predicates": [{"dimension": "conversationId", "value": c} for c in ids]}
        ],
        "paging": {"pageSize": 100, "pageNumber": 1},
    }
    res = api.ok("POST", query, json=body)
    assert {c["conversationId"] for c in res["conversations"]} == set(ids) and res["totalHits"] == 60
    sim.bulk.max_predicates = 50
    try:
        r = api.call("POST", query, json=body)
        assert r.status_code == 400 and "predicates" in r.json()["message"]
    finally:
        sim.bulk.max_predicates = 100


def test_run_py_simulate_with_history(tmp_path: Any) -> None:
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from genesys.bulk import DetailsJobRunner, Ready, run_to_end
    from genesys.config import ClientConfig
    from genesys.rest import GenesysClient

    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(
        [
            sys.executable,
            "run.py",
            "simulate",
            "--calls-per-minute",
            "0",
            "--history-days",
            "2",
            "--history-calls-per-day",
            "50",
            "--seed",
            "9",
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = {}
        while "HISTORY" not in lines:
            key, _, value = proc.stdout.readline().strip().partition("=")  # type: ignore[union-attr]
            lines[key] = value
        assert lines["HISTORY"].startswith("100 calls from ")
        client = GenesysClient(ClientConfig(lines["API_URL"], lines["CLIENT_ID"], lines["CLIENT_SECRET"]))
        try:
            outcome = run_to_end(DetailsJobRunner(client, midnight(2), midnight(0)), deadline_s=120)
        finally:
            client.close()
        assert isinstance(outcome.outcome, Ready) and len(outcome.items) == 100
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
