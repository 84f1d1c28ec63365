"""`POST /api/v2/recording/batchrequests` and `GET /api/v2/recording/batchrequests/{jobId}`.

A submission (`BatchDownloadJobSubmission`, up to `batch_max_items` requests of `conversationId` and
optional `recordingId`: absent means every recording of the conversation) answers with
`BatchDownloadJobSubmissionResult` (`id`, `selfUri`). The job then works through its requests one by
one: `GET` shows `BatchDownloadJobStatusResult` with `status` `InProgress` until every request is
processed, then `Completed`; `expectedResultCount` counts requests until the recordings are
discovered, then recordings; `results` grow as items are processed. Each result is either a
`resultUrl` (pre-signed, expiring after `batch_url_ttl_s`, the recording in the trunk's original
format with its `contentType`) or an `errorMsg` (archived, deleted, unknown, not uploaded yet). Only
the OAuth client (or person) that submitted a job may read it; others get 404.

Processing is computed from the clock when the job is read (no threads); a result, once produced,
keeps its URL (a URL that expired needs a new batch request).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simulator.errors import bad_request, not_found
from simulator.http_api import Request, Response, Router
from simulator.media import CONTENT_TYPES

if TYPE_CHECKING:
    from simulator.app import Simulator

logger = logging.getLogger(__name__)

BASE = "/api/v2/recording/batchrequests"


@dataclass
class BatchJob:
    id: str
    owner: tuple[str, str | None]  # (OAuth client id, user id)
    submitted_s: float
    requests: list[tuple[str, str | None]]
    results: list[list[dict[str, Any]]] = field(default_factory=list)  # per processed request

    def item_done_at(self, index: int, discover_s: float, item_s: float) -> float:
        return self.submitted_s + discover_s + (index + 1) * item_s


class RecordingBatches:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._jobs: dict[str, BatchJob] = {}
        self._lock = threading.Lock()

    # -- submission -------------------------------------------------------------------------------
    def submit(self, req: Request) -> Response:
        body = req.json_object()
        items = body.get("batchDownloadRequestList")
        if not isinstance(items, list) or not items:
            raise bad_request("batchDownloadRequestList must be a non-empty list of BatchDownloadRequest")
        limit = self.sim.bulk.batch_max_items
        if len(items) > limit:
            raise bad_request(
                f"batchDownloadRequestList has {len(items)} items; at most {limit} items can be requested at once"
            )
        requests: list[tuple[str, str | None]] = []
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("conversationId"), str):
                raise bad_request(f"batchDownloadRequestList[{i}] needs a conversationId")
            rid = item.get("recordingId")
            if rid is not None and not isinstance(rid, str):
                raise bad_request(f"batchDownloadRequestList[{i}].recordingId must be a string")
            requests.append((item["conversationId"], rid or None))
        job = BatchJob(str(uuid.uuid4()), (req.client_id, req.user_id), time.time(), requests)
        with self._lock:
            self._jobs[job.id] = job
        logger.info("simulator recording batch %s: %d request(s)", job.id, len(requests))
        return Response(202, {"id": job.id, "selfUri": f"{BASE}/{job.id}"})

    # -- status -----------------------------------------------------------------------------------
    def status(self, req: Request) -> dict[str, Any]:
        job_id = req.params["jobId"]
        knobs = self.sim.bulk
        now = time.time()
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.owner != (req.client_id, req.user_id):
                raise not_found("Batch download job", job_id)
            if now - job.submitted_s > knobs.batch_job_ttl_s:
                del self._jobs[job_id]
                raise not_found("Batch download job", job_id)
            while len(job.results) < len(job.requests):
                index = len(job.results)
                done_at = job.item_done_at(index, knobs.batch_discover_s, knobs.batch_item_s)
                if done_at > now:
                    break
                cid, rid = job.requests[index]
                job.results.append(self._process(cid, rid, done_at, now))
            results = [r for per_request in job.results for r in per_request]
            discovered = now >= job.submitted_s + knobs.batch_discover_s
            expected = (
                len(results) + sum(self._count(cid, rid) for cid, rid in job.requests[len(job.results) :])
                if discovered
                else len(job.requests)
            )
            complete = len(job.results) == len(job.requests)
        doc: dict[str, Any] = {
            "id": job.id,
            "jobId": job.id,
            "expectedResultCount": expected,
            "resultCount": len(results),
            "errorCount": sum(1 for r in results if "errorMsg" in r),
            "status": "Completed" if complete else "InProgress",
            "selfUri": f"{BASE}/{job.id}",
        }
        if results:
            doc["results"] = results
        return doc

    def _count(self, conversation_id: str, recording_id: str | None) -> int:
        if recording_id is not None:
            return 1
        live = self.sim.book.visible(conversation_id)
        return max(1, len(live.call.recordings)) if live is not None else 1

    def _process(self, cid: str, rid: str | None, done_at: float, now: float) -> list[dict[str, Any]]:
        """The results of one request, as produced at `done_at`."""
        live = self.sim.book.visible(cid)
        if live is None:
            return [_error(cid, rid, f"Conversation {cid} was not found")]
        recordings = list(live.call.recordings)
        if rid is not None:
            recordings = [r for r in recordings if r.recording_id == rid]
            if not recordings:
                return [_error(cid, rid, f"Recording {rid} of conversation {cid} was not found")]
        if not recordings:
            return [_error(cid, None, f"Conversation {cid} has no recordings")]
        out = []
        fmt = self.sim.bulk.batch_format_id
        for rec in recordings:
            state = live.file_state(rec.recording_id, done_at)
            if state == "ARCHIVED":
                out.append(_error(cid, rec.recording_id, "The recording is archived; restore it first"))
            elif state == "DELETED":
                out.append(_error(cid, rec.recording_id, "The recording has been deleted"))
            elif state == "RESTORING":
                out.append(
                    _error(cid, rec.recording_id, "The recording is being restored; not available yet")
                )
            elif state == "ERROR":
                out.append(_error(cid, rec.recording_id, "The recording is in error"))
            elif state not in ("AVAILABLE", "RESTORED"):
                out.append(_error(cid, rec.recording_id, "The recording is not available yet"))
            else:
                ttl = max(0.0, done_at + self.sim.bulk.batch_url_ttl_s - now)
                url = self.sim.signer.sign(self.sim.api_url, f"/media/{cid}/{rec.recording_id}/{fmt}", ttl)
                out.append(
                    {
                        "conversationId": cid,
                        "recordingId": rec.recording_id,
                        "resultUrl": url,
                        "contentType": CONTENT_TYPES[fmt],
                    }
                )
        return out

    def job_ids(self) -> list[str]:
        with self._lock:
            return list(self._jobs)


def _error(cid: str, rid: str | None, message: str) -> dict[str, Any]:
    doc = {"conversationId": cid, "errorMsg": message}
    if rid is not None:
        doc["recordingId"] = rid
    return doc


def register(router: Router, sim: Simulator) -> None:
    store = RecordingBatches(sim)
    sim.recording_batches = store
    router.add("POST", BASE, store.submit)
    router.add("GET", BASE + "/{jobId}", store.status)
