"""Fidelity walk of the bulk routes (batch recording downloads, analytics details jobs) and of a past
call's documents, for tests/test_sim_server_fidelity.py: every body round-trips through its SDK model."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

JOBS = "/api/v2/analytics/conversations/details/jobs"


def _wait(check: Any, path: str, model: str, key: str, done: set[str]) -> Any:
    deadline = time.monotonic() + 30
    while True:
        doc = check("GET", path, model)
        if doc[key] in done or time.monotonic() > deadline:
            return doc
        time.sleep(0.05)


def walk_bulk_routes(check: Any, sim: Any) -> None:
    """`check(method, path, model, status=200, **kwargs)` as in the fidelity test."""
    sim.bulk.jobs_queued_s, sim.bulk.jobs_run_s, sim.bulk.availability_lag_s = 0.05, 0.05, 0.0
    if not len(sim.history):
        sim.history.add(2, 8, kinds=["inbound_simple", "no_recording", "consult_transfer"], duration_s=20.0)
    plans = sim.history.plans()
    # a past call's documents (archived/deleted recordings included)
    for plan in plans:
        cid = plan.conversation_id
        check("GET", f"/api/v2/conversations/{cid}", "Conversation")
        check(
            "GET", f"/api/v2/analytics/conversations/{cid}/details", "AnalyticsConversationWithoutAttributes"
        )
        for meta in check("GET", f"/api/v2/conversations/{cid}/recordingmetadata", "list[RecordingMetadata]"):
            check("GET", f"/api/v2/conversations/{cid}/recordings/{meta['id']}?formatId=NONE", "Recording")
    # batch recording downloads
    body = {"batchDownloadRequestList": [{"conversationId": p.conversation_id} for p in plans[:6]]}
    job = check(
        "POST", "/api/v2/recording/batchrequests", "BatchDownloadJobSubmissionResult", status=202, json=body
    )
    status = _wait(
        check,
        f"/api/v2/recording/batchrequests/{job['id']}",
        "BatchDownloadJobStatusResult",
        "status",
        {"Completed"},
    )
    assert status["status"] == "Completed"
    # analytics details jobs
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    interval = f"{(today - timedelta(days=3)).strftime('%Y-%m-%dT%H:%M:%S.000Z')}/{today.strftime('%Y-%m-%dT%H:%M:%S.000Z')}"
    check("GET", JOBS + "/availability", "DataAvailabilityResponse")
    submitted = check("POST", JOBS, "AsyncQueryResponse", status=202, json={"interval": interval})
    path = f"{JOBS}/{submitted['jobId']}"
    state = _wait(check, path, "AsyncQueryStatus", "state", {"FULFILLED", "FAILED"})
    assert state["state"] == "FULFILLED", state
    page = check("GET", path + "/results?pageSize=5", "AnalyticsConversationAsyncQueryResponse")
    assert page["conversations"] and page["cursor"]
    check("GET", path + f"/results?cursor={page['cursor']}", "AnalyticsConversationAsyncQueryResponse")
    check("DELETE", path, None, status=204)
    check("GET", path, "AsyncQueryStatus")
