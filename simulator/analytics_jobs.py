"""The asynchronous analytics conversation details jobs, and the detail documents both the jobs and
the synchronous query search (live calls plus the simulated past, `simulator.history`).

* `POST /api/v2/analytics/conversations/details/jobs` (`AsyncConversationQuery`) → 202
  `AsyncQueryResponse` (`jobId`). 400 for a malformed query, an interval beyond the analytics
  retention, too many predicates; 429 beyond `jobs_max_running` running jobs of the client.
* `GET .../jobs/{jobId}` → `AsyncQueryStatus`: `QUEUED`, then `PENDING` while it runs, then
  `FULFILLED` (`completionDate`, `expirationDate`), `FAILED` (`errorMessage`), `CANCELLED` (deleted)
  or `EXPIRED` (after `expirationDate`).
* `GET .../jobs/{jobId}/results?cursor=&pageSize=` → `AnalyticsConversationAsyncQueryResponse`:
  `AnalyticsConversation` documents (with participant `attributes`, keys and values cut to 1,024
  characters), an opaque `cursor` while more pages follow, `dataAvailabilityDate`. 400 unless the job
  is FULFILLED, 404 once it is EXPIRED or CANCELLED or for an unknown cursor.
* `DELETE .../jobs/{jobId}` → 204, the job is CANCELLED.
* `GET .../jobs/availability` → `DataAvailabilityResponse`.

Interval semantics (Developer Center, "Conversation Detail job"): a job matches every conversation
whose lifetime overlaps the interval (`startOfDayIntervalMatching`: only those that also started on
or after the UTC midnight of the interval's start, like the synchronous query). A job knows only the
data settled in the data lake: conversations that ended after `dataAvailabilityDate` are left out,
with no error and no flag.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from simulator import views
from simulator.analytics_query import (
    check_predicate_limits,
    filters_match,
    interval_matches,
    parse_interval,
    parse_iso,
    validate_filters,
)
from simulator.documents import iso
from simulator.errors import ApiError, bad_request, not_found
from simulator.http_api import Request, Response, Router

if TYPE_CHECKING:
    from simulator.app import Simulator
    from simulator.model import Call

logger = logging.getLogger(__name__)

BASE = "/api/v2/analytics/conversations/details/jobs"
ATTRIBUTE_CHARS = 1024
ORDERS = ("asc", "desc", "unordered")
ORDER_BYS = ("conversationStart", "conversationEnd", "segmentStart", "segmentEnd")


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def detail_documents(
    sim: Simulator, start: datetime, end: datetime, *, with_attributes: bool = False
) -> list[dict[str, Any]]:
    """Analytics detail documents (ready by now) of every call whose lifetime may overlap
    [start, end): injected calls and the simulated past (history calls are generated on demand)."""
    now = time.time()
    lives = [lc for lc in sim.book.all() if lc.conversation_id not in sim.history]
    lives += [
        live
        for plan in sim.history.candidates(_ms(start), _ms(end))
        if (live := sim.history.live(plan.conversation_id)) is not None
    ]
    docs = []
    for live in lives:
        if now < live.details_s or not live.started(now):
            continue
        doc = views.details(live, sim.org)
        if with_attributes:
            _add_attributes(doc, live.call, sim.book.attributes(live.conversation_id))
        docs.append(doc)
    replay = getattr(sim, "replay_book", None)
    if replay is not None:  # replayed captures: served as captured
        docs.extend(replay.details_documents())
    return docs


def _add_attributes(doc: dict[str, Any], call: Call, written: dict[str, dict[str, str]]) -> None:
    """`AnalyticsConversation`: participant data on each participant (cut to 1,024 characters)."""
    for part in doc.get("participants") or []:
        pid = part.get("participantId")
        attrs: dict[str, str] = {}
        try:
            attrs.update(call.participant(pid).attributes)
        except KeyError:
            pass
        attrs.update(written.get(pid, {}))
        if attrs:
            part["attributes"] = {k[:ATTRIBUTE_CHARS]: v[:ATTRIBUTE_CHARS] for k, v in attrs.items()}


def _sort_key(order_by: str) -> Any:
    def key(doc: dict[str, Any]) -> str:
        if order_by in ("conversationStart", "conversationEnd"):
            return str(doc.get(order_by) or "")
        values = [
            seg.get(order_by) or ""
            for p in doc.get("participants") or []
            for s in p.get("sessions") or []
            for seg in s.get("segments") or []
        ]
        return min(values) if values else ""

    return key


@dataclass
class DetailsJob:
    id: str
    owner: str
    query: dict[str, Any]
    submitted_s: float
    watermark_s: float
    queued_until_s: float
    ready_at_s: float
    fail: str | None = None
    cancelled_s: float | None = None
    future: Future[list[dict[str, Any]]] | None = None
    completed_s: float | None = None
    results: list[dict[str, Any]] = field(default_factory=list)


class AnalyticsJobs:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._jobs: dict[str, DetailsJob] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sim-analytics-job")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def watermark_s(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.sim.bulk.availability_lag_s

    # -- submission -------------------------------------------------------------------------------
    def submit(self, req: Request) -> Response:
        query = req.json_object()
        knobs = self.sim.bulk
        start, end = parse_interval(query.get("interval"), max_s=None)  # jobs take any length
        now = time.time()
        if start.timestamp() < now - knobs.retention_days * 86_400:
            raise bad_request(
                f"The interval starts before the analytics data retention ({knobs.retention_days:.0f} days)"
            )
        if (query.get("order") or "asc") not in ORDERS:
            raise bad_request(f"order must be one of {', '.join(ORDERS)}")
        if (query.get("orderBy") or "conversationStart") not in ORDER_BYS:
            raise bad_request(f"orderBy must be one of {', '.join(ORDER_BYS)}")
        limit = query.get("limit")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
            raise bad_request("limit must be a positive integer")
        check_predicate_limits(query, knobs.max_predicates)
        validate_filters(query)
        with self._lock:
            running = sum(
                1
                for j in self._jobs.values()
                if j.owner == req.client_id and self._state(j, now) in ("QUEUED", "PENDING")
            )
            if knobs.jobs_max_running is not None and running >= knobs.jobs_max_running:
                raise ApiError(
                    429,
                    f"Too many analytics jobs running ({running}); wait for one to finish",
                    headers={"Retry-After": "5"},
                )
            fail = None
            if knobs.jobs_fail_next > 0:
                knobs.jobs_fail_next -= 1
                fail = "The query could not be completed. Please try again later."
            job = DetailsJob(
                str(uuid.uuid4()),
                req.client_id,
                query,
                now,
                self.watermark_s(now),
                now + knobs.jobs_queued_s,
                now + knobs.jobs_queued_s + knobs.jobs_run_s,
                fail,
            )
            self._jobs[job.id] = job
        if fail is None:
            job.future = self._pool.submit(self._compute, job, start, end)
        logger.info("simulator analytics job %s submitted for %s", job.id, query.get("interval"))
        return Response(202, {"jobId": job.id})

    def _compute(self, job: DetailsJob, start: datetime, end: datetime) -> list[dict[str, Any]]:
        query = job.query
        start_of_day = bool(query.get("startOfDayIntervalMatching"))
        matched = []
        for doc in detail_documents(self.sim, start, end, with_attributes=True):
            ended = doc.get("conversationEnd")
            if not ended or parse_iso(ended).timestamp() > job.watermark_s:
                continue  # not settled in the data lake yet: left out without a word
            if interval_matches(doc, start, end, start_of_day=start_of_day) and filters_match(query, doc):
                matched.append(doc)
        order = query.get("order") or "asc"
        if order != "unordered":
            matched.sort(key=_sort_key(query.get("orderBy") or "conversationStart"), reverse=order == "desc")
        if query.get("limit"):
            matched = matched[: int(query["limit"])]
        return matched

    # -- state ------------------------------------------------------------------------------------
    def _state(self, job: DetailsJob, now: float) -> str:
        if job.cancelled_s is not None:
            return "CANCELLED"
        if job.completed_s is None:
            if now < job.queued_until_s:
                return "QUEUED"
            if now < job.ready_at_s:
                return "PENDING"
            if job.fail is None:
                assert job.future is not None
                if not job.future.done():
                    return "PENDING"
                try:
                    job.results = job.future.result()
                except Exception as exc:
                    logger.exception("simulator analytics job %s failed", job.id)
                    job.fail = f"Internal error: {exc}"
            job.completed_s = max(now, job.ready_at_s) if job.fail is None else job.ready_at_s
        if job.fail is not None:
            return "FAILED"
        if now >= job.completed_s + self.sim.bulk.jobs_results_ttl_s:
            return "EXPIRED"
        return "FULFILLED"

    def _job(self, req: Request) -> DetailsJob:
        job = self._jobs.get(req.params["jobId"])
        if job is None:
            raise not_found("Analytics job", req.params["jobId"])
        return job

    def status(self, req: Request) -> dict[str, Any]:
        now = time.time()
        with self._lock:
            job = self._job(req)
            state = self._state(job, now)
            doc: dict[str, Any] = {"state": state, "submissionDate": iso(job.submitted_s * 1000)}
            if state in ("FULFILLED", "FAILED", "EXPIRED") and job.completed_s is not None:
                doc["completionDate"] = iso(job.completed_s * 1000)
            if state in ("FULFILLED", "EXPIRED") and job.completed_s is not None:
                doc["expirationDate"] = iso((job.completed_s + self.sim.bulk.jobs_results_ttl_s) * 1000)
            if state == "FAILED":
                doc["errorMessage"] = job.fail
        return doc

    def results(self, req: Request) -> dict[str, Any]:
        now = time.time()
        knobs = self.sim.bulk
        with self._lock:
            job = self._job(req)
            state = self._state(job, now)
            if state in ("EXPIRED", "CANCELLED"):
                raise not_found(f"Results of analytics job ({state})", job.id)
            if state != "FULFILLED":
                raise bad_request(f"The job is {state}; results are available once it is FULFILLED")
            results = job.results
        try:
            size = int(req.arg("pageSize") or knobs.jobs_default_page_size)
        except ValueError as exc:
            raise bad_request("pageSize must be an integer") from exc
        if not 1 <= size <= knobs.jobs_max_page_size:
            raise bad_request(f"pageSize must be between 1 and {knobs.jobs_max_page_size}")
        offset = _read_cursor(req.arg("cursor"), job.id)
        page = results[offset : offset + size]
        doc: dict[str, Any] = {"dataAvailabilityDate": iso(job.watermark_s * 1000)}
        if page:
            doc["conversations"] = page
        if offset + size < len(results):
            doc["cursor"] = _cursor(job.id, offset + size)
        return doc

    def delete(self, req: Request) -> Response:
        with self._lock:
            job = self._job(req)
            if job.cancelled_s is None:
                job.cancelled_s = time.time()
            if job.future is not None:
                job.future.cancel()
        return Response(204, None)

    def availability(self, req: Request) -> dict[str, Any]:
        return {"dataAvailabilityDate": iso(self.watermark_s() * 1000)}

    def expire(self, job_id: str) -> None:
        """Fault knob: make a job's results expire now."""
        with self._lock:
            job = self._jobs[job_id]
        if job.future is not None:
            job.results = job.future.result(timeout=60)
        with self._lock:
            job.completed_s = time.time() - self.sim.bulk.jobs_results_ttl_s - 1

    def job_ids(self) -> list[str]:
        with self._lock:
            return list(self._jobs)


def _cursor(job_id: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{job_id}:{offset}".encode()).decode().rstrip("=")


def _read_cursor(cursor: str | None, job_id: str) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        owner, offset = raw.rsplit(":", 1)
        if owner != job_id:
            raise ValueError("cursor of another job")
        return int(offset)
    except (ValueError, UnicodeDecodeError) as exc:
        raise not_found("Cursor", cursor) from exc


def register(router: Router, sim: Simulator) -> None:
    jobs = AnalyticsJobs(sim)
    sim.analytics_jobs = jobs
    router.add("POST", BASE, jobs.submit)
    router.add("GET", BASE + "/availability", jobs.availability)  # before {jobId}
    router.add("GET", BASE + "/{jobId}", jobs.status)
    router.add("DELETE", BASE + "/{jobId}", jobs.delete)
    router.add("GET", BASE + "/{jobId}/results", jobs.results)
