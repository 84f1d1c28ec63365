"""Step-wise engines for Genesys Cloud's bulk endpoints: many recordings, or many conversations'
analytics details, for few API requests.

Both have the shape of `genesys.recordings.RecordingFetcher`: `step()` does one round of requests
and returns `Ready`, `Waiting(delay_s, reason)` or `Failed(reason, permanent)`; the caller schedules
the next step (no sleeping inside). What a step produced is handed over by `take()`. `state()` is a
JSON-able dict from which `from_state()` rebuilds the engine (after parking or a restart); every
instant in it is wall-clock epoch seconds. Waits come from `reliability.backoff` (`POLL` while Genesys
works, `API` after a failure).

* `BatchDownloadFetcher`: (conversation, recording) pairs → files, through
  `POST /api/v2/recording/batchrequests` (at most `BATCH_MAX_ITEMS` per request, several jobs in
  flight), polled until `Completed`; each result URL is downloaded as it appears; a result URL that
  expired (or a broken download) is requested again in a new batch; `errorMsg` results (archived,
  deleted, not found) become outcomes with that reason. Results are in the recording's *original*
  format (the trunk's codec, e.g. Ogg/Opus), not a `formatId` of our choosing.
* `DetailsJobRunner`: every conversation of an interval, through the asynchronous details jobs
  (`POST .../details/jobs`, polled until FULFILLED, results paged by cursor, the job deleted after),
  for the part of the interval the data lake has settled (`dataAvailabilityDate`), and through the
  synchronous query (paged, ≤ 7-day pieces, split when a piece has more than 10,000 results) for
  short or recent intervals. A job that FAILED is resubmitted (up to `max_job_failures`), one that
  EXPIRED or was CANCELLED is resubmitted from the start (results are de-duplicated by id).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from reliability.backoff import API, POLL, Backoff

from .errors import (
    BadRequest,
    Forbidden,
    GenesysError,
    GenesysUnavailable,
    NotFound,
    RateLimited,
    TransientError,
)
from .media import MediaCorrupt, MediaUrlExpired, download
from .recordings import Failed, Waiting
from .rest import BATCH_MAX_ITEMS, DETAILS_MAX_RESULTS, DETAILS_PAGE_SIZE, GenesysClient

logger = logging.getLogger(__name__)

SYNC_MAX_S = 6 * 3600.0
"""Intervals up to this long use the synchronous query (fast, up to date) instead of a job."""
SYNC_PIECE_S = 7 * 86_400.0
"""The synchronous query accepts at most 7 days per interval."""
SYNC_DAYS_BACK = 35
"""...starting at most 35 days back; older data only through jobs."""
CALL_LOOKBACK_S = 6 * 3600.0
"""The synchronous query only matches conversations that started on a UTC day its interval touches:
to find every conversation that *ended* in an interval it starts this much earlier."""
JOB_PAGE_SIZE = 1000
BATCH_ITEM_CONTENT_EXT = {
    "audio/ogg": "ogg",
    "audio/opus": "opus",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/vnd.wave": "wav",
    "audio/webm": "webm",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "application/json": "json",
    "application/zip": "zip",
}
_ERROR_FINAL = ("archiv", "delet", "not found", "no recording")


@dataclass(frozen=True)
class Ready:
    """The engine has finished: everything it produced was (or is now) handed over by `take()`."""

    count: int
    note: str = ""


StepResult = Ready | Waiting | Failed


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _transient(exc: BaseException) -> bool:
    return isinstance(exc, TransientError | RateLimited | GenesysUnavailable)


# =====================================================================================================
# batch recording downloads
# =====================================================================================================


@dataclass(frozen=True)
class BatchOutcome:
    """What became of one recording: a downloaded `path`, or an `error` (Genesys' `errorMsg` or ours).
    `final` errors will not change by asking again (archived, deleted, unknown); others may (the
    caller can fall back to the one-by-one recordings API for them)."""

    conversation_id: str
    recording_id: str | None
    path: str | None = None
    content_type: str | None = None
    size: int | None = None
    error: str | None = None
    final: bool = False

    @property
    def ok(self) -> bool:
        return self.path is not None


def _key(cid: str, rid: str | None) -> str:
    return f"{cid}|{rid or ''}"


def _split(key: str) -> tuple[str, str | None]:
    cid, _, rid = key.partition("|")
    return cid, rid or None


class BatchDownloadFetcher:
    """Download many recordings with batch requests (see the module docstring)."""

    def __init__(
        self,
        client: GenesysClient,
        pairs: Iterable[tuple[str, str | None]],
        dest_dir: str | Path,
        *,
        max_items: int = BATCH_MAX_ITEMS,
        max_jobs: int = 4,
        downloads_per_step: int = 25,
        max_renewals: int = 3,
        clock: Callable[[], float] = time.time,
        poll: Backoff = POLL,
        retry: Backoff = API,
    ) -> None:
        self.client = client
        self.poll, self.retry = poll, retry
        self.dest_dir = Path(dest_dir)
        self.max_items = max(1, min(max_items, BATCH_MAX_ITEMS))
        self.max_jobs = max(1, max_jobs)
        self.downloads_per_step = max(1, downloads_per_step)
        self.max_renewals = max_renewals
        self.clock = clock
        self._queued: list[str] = list(dict.fromkeys(_key(c, r) for c, r in pairs))
        self._jobs: dict[str, dict[str, Any]] = {}  # job id -> {"keys", "submitted_at", "polls", "next_at"}
        self._ready: dict[str, dict[str, Any]] = {}  # key -> {"url", "content_type", "at"}
        self._done: dict[str, dict[str, Any]] = {}  # key -> BatchOutcome fields
        self._renewals: dict[str, int] = {}
        self._new: list[str] = []
        self._errors = 0
        self.requests = 0  # API requests made by this engine (submissions and polls)

    # -- state ------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "version": 1,
            "dest_dir": str(self.dest_dir),
            "queued": list(self._queued),
            "jobs": {k: dict(v) for k, v in self._jobs.items()},
            "ready": {k: dict(v) for k, v in self._ready.items()},
            "done": {k: dict(v) for k, v in self._done.items()},
            "renewals": dict(self._renewals),
            "new": list(self._new),
            "errors": self._errors,
            "requests": self.requests,
            "settings": {
                "max_items": self.max_items,
                "max_jobs": self.max_jobs,
                "downloads_per_step": self.downloads_per_step,
                "max_renewals": self.max_renewals,
            },
        }

    @classmethod
    def from_state(
        cls,
        client: GenesysClient,
        state: dict[str, Any],
        *,
        clock: Callable[[], float] = time.time,
        poll: Backoff = POLL,
        retry: Backoff = API,
    ) -> BatchDownloadFetcher:
        fetcher = cls(
            client, (), state["dest_dir"], clock=clock, poll=poll, retry=retry, **state.get("settings", {})
        )
        fetcher._queued = list(state.get("queued", []))
        fetcher._jobs = {k: dict(v) for k, v in state.get("jobs", {}).items()}
        fetcher._ready = {k: dict(v) for k, v in state.get("ready", {}).items()}
        fetcher._done = {k: dict(v) for k, v in state.get("done", {}).items()}
        fetcher._renewals = dict(state.get("renewals", {}))
        fetcher._new = list(state.get("new", []))
        fetcher._errors = int(state.get("errors", 0))
        fetcher.requests = int(state.get("requests", 0))
        return fetcher

    # -- results ----------------------------------------------------------------------------------
    def take(self) -> list[BatchOutcome]:
        """Outcomes settled since the last call (each exactly once)."""
        out = [BatchOutcome(**self._done[k]) for k in self._new if k in self._done]
        self._new.clear()
        return out

    def outcomes(self) -> list[BatchOutcome]:
        return [BatchOutcome(**v) for v in self._done.values()]

    @property
    def pending(self) -> int:
        """Requests not settled yet (queued, in a job, or waiting for their download)."""
        in_jobs = sum(len(j["keys"]) for j in self._jobs.values())
        return len(self._queued) + in_jobs + len(self._ready)

    # -- the step ---------------------------------------------------------------------------------
    def step(self) -> StepResult:
        now = self.clock()
        try:
            self._poll_due(now)
            self._submit(now)
            self._download(now)
        except Forbidden as exc:
            return Failed(f"batch recording download not permitted: {exc}", permanent=True)
        except BadRequest as exc:
            return Failed(f"Genesys Cloud rejected the batch request: {exc}", permanent=True)
        except GenesysError as exc:
            if not _transient(exc):
                return Failed(f"batch recording download failed: {exc}", permanent=False)
            self._errors += 1
            return Waiting(self.retry.delay(self._errors), f"Genesys Cloud unavailable: {exc}")
        self._errors = 0
        if not self.pending:
            return Ready(len(self._done))
        if self._ready or (self._queued and len(self._jobs) < self.max_jobs):
            return Waiting(0.0, f"{len(self._ready)} download(s) and {len(self._queued)} request(s) to go")
        next_at = min((j["next_at"] for j in self._jobs.values()), default=now)
        return Waiting(
            max(0.0, next_at - now),
            f"{len(self._jobs)} batch job(s) in progress for {self.pending} recording request(s)",
        )

    def _submit(self, now: float) -> None:
        while self._queued and len(self._jobs) < self.max_jobs:
            keys = self._queued[: self.max_items]
            self.requests += 1
            job_id = self.client.submit_recording_batch([_split(k) for k in keys])
            del self._queued[: len(keys)]
            self._jobs[job_id] = {
                "keys": keys,
                "submitted_at": now,
                "polls": 0,
                "next_at": now + self.poll.first_s,
            }
            logger.info("batch recording job %s submitted for %d request(s)", job_id, len(keys))

    def _poll_due(self, now: float) -> None:
        for job_id in [j for j, v in self._jobs.items() if v["next_at"] <= now]:
            job = self._jobs[job_id]
            self.requests += 1
            try:
                status = self.client.get_recording_batch(job_id)
            except NotFound:
                logger.warning("batch recording job %s is gone; requesting its recordings again", job_id)
                self._requeue(job["keys"], "the batch job disappeared")
                del self._jobs[job_id]
                continue
            self._absorb(job, status)
            if str(status.get("status")) == "Completed":
                for key in job["keys"]:
                    if (
                        key not in self._done
                        and key not in self._ready
                        and not _expanded(key, self._ready, self._done)
                    ):
                        cid, rid = _split(key)
                        self._settle(
                            _key(cid, rid),
                            BatchOutcome(cid, rid, error="no result in the completed batch job"),
                        )
                del self._jobs[job_id]
            else:
                job["polls"] += 1
                job["next_at"] = now + self.poll.delay(job["polls"])

    def _absorb(self, job: dict[str, Any], status: dict[str, Any]) -> None:
        wanted = set(job["keys"])
        for result in status.get("results") or []:
            cid, rid = str(result.get("conversationId") or ""), result.get("recordingId")
            key = _key(cid, rid)
            if key not in wanted and _key(cid, None) not in wanted:
                continue
            if key in self._done or key in self._ready:
                continue
            if result.get("errorMsg") or not result.get("resultUrl"):
                message = str(result.get("errorMsg") or "no result URL")
                final = any(word in message.lower() for word in _ERROR_FINAL)
                self._settle(key, BatchOutcome(cid, rid, error=message, final=final))
            else:
                self._ready[key] = {"url": result["resultUrl"], "content_type": result.get("contentType")}

    def _download(self, now: float) -> None:
        for key in list(self._ready)[: self.downloads_per_step]:
            item = self._ready[key]
            cid, rid = _split(key)
            ext = BATCH_ITEM_CONTENT_EXT.get(str(item.get("content_type") or "").split(";")[0].strip(), "bin")
            dest = self.dest_dir / f"{cid}_{rid or 'all'}.{ext}"
            try:
                got = download(item["url"], dest, timeout_s=self.client.config.timeout_s)
            except (MediaUrlExpired, MediaCorrupt) as exc:
                del self._ready[key]
                self._renewals[key] = self._renewals.get(key, 0) + 1
                if self._renewals[key] > self.max_renewals:
                    self._settle(
                        key,
                        BatchOutcome(
                            cid, rid, error=f"result URL refused {self._renewals[key]} times: {exc}"
                        ),
                    )
                else:
                    logger.info(
                        "conversation %s recording %s: result URL refused (%s); requesting it again",
                        cid,
                        rid,
                        exc,
                    )
                    self._queued.append(key)
                continue
            del self._ready[key]
            self._settle(key, BatchOutcome(cid, rid, str(got.path), item.get("content_type"), got.size))

    def _requeue(self, keys: list[str], reason: str) -> None:
        for key in keys:
            if key in self._done or key in self._ready:
                continue
            self._renewals[key] = self._renewals.get(key, 0) + 1
            if self._renewals[key] > self.max_renewals:
                cid, rid = _split(key)
                self._settle(key, BatchOutcome(cid, rid, error=f"{reason} ({self._renewals[key]} times)"))
            else:
                self._queued.append(key)

    def _settle(self, key: str, outcome: BatchOutcome) -> None:
        self._done[key] = asdict(outcome)
        self._new.append(key)


def _expanded(key: str, *maps: dict[str, Any]) -> bool:
    """A request for every recording of a conversation is answered when any result names it."""
    cid, rid = _split(key)
    if rid is not None:
        return False
    prefix = f"{cid}|"
    return any(k.startswith(prefix) for m in maps for k in m)


# =====================================================================================================
# conversation details of an interval
# =====================================================================================================


class DetailsJobRunner:
    """Every conversation of [start, end) with the caller's filters (see the module docstring).

    `ended_within`: hand over only conversations whose `conversationEnd` lies in [start, end) (what a
    report or a backfill of "calls that ended on these days" needs); otherwise everything the API
    matched (jobs: lifetime overlaps the interval)."""

    def __init__(
        self,
        client: GenesysClient,
        start: datetime,
        end: datetime,
        *,
        conversation_filters: list[dict[str, Any]] | None = None,
        segment_filters: list[dict[str, Any]] | None = None,
        ended_within: bool = True,
        page_size: int | None = JOB_PAGE_SIZE,
        pages_per_step: int = 5,
        sync_max_s: float = SYNC_MAX_S,
        max_job_failures: int = 3,
        max_restarts: int = 5,
        clock: Callable[[], float] = time.time,
        poll: Backoff = POLL,
        retry: Backoff = API,
    ) -> None:
        if end <= start:
            raise ValueError("the interval end must be after its start")
        self.client = client
        self.poll, self.retry = poll, retry
        self.start, self.end = start.astimezone(UTC), end.astimezone(UTC)
        self.conversation_filters = list(conversation_filters or [])
        self.segment_filters = list(segment_filters or [])
        self.ended_within = ended_within
        self.page_size = page_size
        self.pages_per_step = max(1, pages_per_step)
        self.sync_max_s = sync_max_s
        self.max_job_failures = max_job_failures
        self.max_restarts = max_restarts
        self.clock = clock
        self._tasks: list[dict[str, Any]] | None = None
        self._seen: set[str] = set()
        self._new: list[dict[str, Any]] = []
        self._errors = 0
        self._wait_until = 0.0
        self.data_availability: str | None = None
        self.requests = 0

    # -- state ------------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "version": 1,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "conversation_filters": self.conversation_filters,
            "segment_filters": self.segment_filters,
            "ended_within": self.ended_within,
            "page_size": self.page_size,
            "pages_per_step": self.pages_per_step,
            "sync_max_s": self.sync_max_s,
            "max_job_failures": self.max_job_failures,
            "max_restarts": self.max_restarts,
            "tasks": None if self._tasks is None else [dict(t) for t in self._tasks],
            "seen": sorted(self._seen),
            "new": list(self._new),
            "errors": self._errors,
            "wait_until": self._wait_until,
            "data_availability": self.data_availability,
            "requests": self.requests,
        }

    @classmethod
    def from_state(
        cls,
        client: GenesysClient,
        state: dict[str, Any],
        *,
        clock: Callable[[], float] = time.time,
        poll: Backoff = POLL,
        retry: Backoff = API,
    ) -> DetailsJobRunner:
        runner = cls(
            client,
            parse_iso(state["start"]),
            parse_iso(state["end"]),
            conversation_filters=state.get("conversation_filters"),
            segment_filters=state.get("segment_filters"),
            ended_within=bool(state.get("ended_within", True)),
            page_size=state.get("page_size"),
            pages_per_step=int(state.get("pages_per_step", 5)),
            sync_max_s=float(state.get("sync_max_s", SYNC_MAX_S)),
            max_job_failures=int(state.get("max_job_failures", 3)),
            max_restarts=int(state.get("max_restarts", 5)),
            clock=clock,
            poll=poll,
            retry=retry,
        )
        tasks = state.get("tasks")
        runner._tasks = None if tasks is None else [dict(t) for t in tasks]
        runner._seen = set(state.get("seen", []))
        runner._new = list(state.get("new", []))
        runner._errors = int(state.get("errors", 0))
        runner._wait_until = float(state.get("wait_until", 0.0))
        runner.data_availability = state.get("data_availability")
        runner.requests = int(state.get("requests", 0))
        return runner

    # -- results ----------------------------------------------------------------------------------
    def take(self) -> list[dict[str, Any]]:
        """Conversation documents found since the last call (each conversation once)."""
        out, self._new = self._new, []
        return out

    @property
    def found(self) -> int:
        return len(self._seen)

    def plan(self) -> list[dict[str, Any]]:
        """The pieces of the interval and how each is queried (after the first step)."""
        return [dict(t) for t in self._tasks or []]

    # -- the step ---------------------------------------------------------------------------------
    def step(self) -> StepResult:
        now = self.clock()
        if now < self._wait_until:
            return Waiting(self._wait_until - now, "waiting for the analytics job")
        try:
            if self._tasks is None:
                self._tasks = self._plan(now)
            for task in self._tasks:
                if task["status"] == "done":
                    continue
                result = self._sync_step(task) if task["kind"] == "sync" else self._job_step(task, now)
                if result is not None:
                    if isinstance(result, Waiting):
                        self._wait_until = now + result.delay_s
                    self._errors = 0 if not isinstance(result, Failed) else self._errors
                    return result
            self._errors = 0
            return Ready(len(self._seen))
        except Forbidden as exc:
            return Failed(f"analytics details not permitted: {exc}", permanent=True)
        except BadRequest as exc:
            return Failed(f"Genesys Cloud rejected the analytics query: {exc}", permanent=True)
        except GenesysError as exc:
            if not _transient(exc):
                return Failed(f"analytics details failed: {exc}", permanent=False)
            self._errors += 1
            delay = self.retry.delay(self._errors)
            self._wait_until = now + delay
            return Waiting(delay, f"Genesys Cloud unavailable: {exc}")

    def _plan(self, now: float) -> list[dict[str, Any]]:
        start, end = self.start, self.end
        length = (end - start).total_seconds()
        oldest_sync = datetime.fromtimestamp(now, UTC) - timedelta(days=SYNC_DAYS_BACK) + timedelta(hours=1)
        sync_start = start - timedelta(seconds=CALL_LOOKBACK_S) if self.ended_within else start
        if length <= self.sync_max_s and sync_start >= oldest_sync:
            return self._sync_tasks(sync_start, end)
        self.requests += 1
        self.data_availability = self.client.get_details_jobs_availability()
        settled = parse_iso(self.data_availability)
        tasks: list[dict[str, Any]] = []
        if start < settled:
            tasks.append(
                {
                    "kind": "job",
                    "start": _iso(start),
                    "end": _iso(min(end, settled)),
                    "status": "todo",
                    "job_id": None,
                    "polls": 0,
                    "failures": 0,
                    "restarts": 0,
                    "cursor": None,
                    "pages": 0,
                }
            )
        if end > settled:
            tail = max(start, settled)
            tail_query_start = tail - timedelta(seconds=CALL_LOOKBACK_S) if self.ended_within else tail
            if tail_query_start < oldest_sync:
                raise BadRequest(
                    "analytics",
                    400,
                    message=f"the data lake is settled only up to {self.data_availability}, and the synchronous "
                    f"query cannot reach back to {_iso(tail_query_start)}",
                )
            tasks += self._sync_tasks(tail_query_start, end)
        logger.info(
            "details of %s..%s: %s (data settled up to %s)",
            _iso(start),
            _iso(end),
            ", ".join(f"{t['kind']} {t['start']}..{t['end']}" for t in tasks),
            self.data_availability,
        )
        return tasks

    def _sync_tasks(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        tasks = []
        cursor = start
        while cursor < end:
            piece_end = min(end, cursor + timedelta(seconds=SYNC_PIECE_S))
            tasks.append(
                {"kind": "sync", "start": _iso(cursor), "end": _iso(piece_end), "status": "todo", "page": 1}
            )
            cursor = piece_end
        return tasks

    def _filters(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.conversation_filters:
            body["conversationFilters"] = self.conversation_filters
        if self.segment_filters:
            body["segmentFilters"] = self.segment_filters
        return body

    def _accept(self, docs: list[dict[str, Any]]) -> None:
        for doc in docs:
            cid = doc.get("conversationId")
            if not cid or cid in self._seen:
                continue
            if self.ended_within:
                ended = doc.get("conversationEnd")
                if not ended or not self.start <= parse_iso(ended) < self.end:
                    continue
            self._seen.add(cid)
            self._new.append(doc)

    # -- synchronous query ------------------------------------------------------------------------
    def _sync_step(self, task: dict[str, Any]) -> StepResult | None:
        for _ in range(self.pages_per_step):
            body = {
                "interval": f"{task['start']}/{task['end']}",
                "order": "asc",
                "orderBy": "conversationStart",
                **self._filters(),
                "paging": {"pageSize": DETAILS_PAGE_SIZE, "pageNumber": task["page"]},
            }
            self.requests += 1
            data = self.client.query_conversation_details(body) or {}
            total = int(data.get("totalHits") or 0)
            if task["page"] == 1 and total >= DETAILS_MAX_RESULTS:
                self._split_sync(task)
                return Waiting(0.0, "a piece of the interval has more than 10,000 conversations: split")
            docs = [c for c in data.get("conversations") or [] if isinstance(c, dict)]
            self._accept(docs)
            if len(docs) < DETAILS_PAGE_SIZE or task["page"] * DETAILS_PAGE_SIZE >= DETAILS_MAX_RESULTS:
                task["status"] = "done"
                return None
            task["page"] += 1
        return Waiting(0.0, f"paging the details query {task['start']}..{task['end']} (page {task['page']})")

    def _split_sync(self, task: dict[str, Any]) -> None:
        assert self._tasks is not None
        a, b = parse_iso(task["start"]), parse_iso(task["end"])
        if (b - a).total_seconds() < 60:
            raise BadRequest(
                "analytics", 400, message=f"more than 10,000 conversations within a minute at {task['start']}"
            )
        middle = a + (b - a) / 2
        index = self._tasks.index(task)
        self._tasks[index : index + 1] = [
            {"kind": "sync", "start": _iso(a), "end": _iso(middle), "status": "todo", "page": 1},
            {"kind": "sync", "start": _iso(middle), "end": _iso(b), "status": "todo", "page": 1},
        ]

    # -- asynchronous job -------------------------------------------------------------------------
    def _job_step(self, task: dict[str, Any], now: float) -> StepResult | None:
        if task["job_id"] is None:
            query = {
                "interval": f"{task['start']}/{task['end']}",
                "order": "asc",
                "orderBy": "conversationStart",
                **self._filters(),
            }
            self.requests += 1
            task["job_id"] = self.client.submit_details_job(query)
            task.update(polls=0, cursor=None, pages=0, submitted_at=now)
            logger.info("analytics details job %s submitted for %s", task["job_id"], query["interval"])
            return Waiting(self.poll.first_s, f"analytics job {task['job_id']} submitted")
        if task.get("state") != "FULFILLED":
            self.requests += 1
            try:
                status = self.client.get_details_job(task["job_id"])
            except NotFound:
                return self._restart(task, "the job disappeared")
            state = str(status.get("state"))
            task["state"] = state
            if state in ("QUEUED", "PENDING"):
                task["polls"] += 1
                return Waiting(self.poll.delay(task["polls"]), f"analytics job {task['job_id']} {state}")
            if state == "FAILED":
                task["failures"] += 1
                message = status.get("errorMessage") or "no reason given"
                if task["failures"] >= self.max_job_failures:
                    return Failed(
                        f"analytics job failed {task['failures']} times: {message}", permanent=False
                    )
                logger.warning("analytics job %s FAILED (%s); submitting it again", task["job_id"], message)
                task["job_id"], task["state"] = None, None
                return Waiting(self.retry.delay(task["failures"]), f"analytics job failed: {message}")
            if state in ("CANCELLED", "EXPIRED"):
                return self._restart(task, f"the job is {state}")
            if state != "FULFILLED":
                return Failed(f"analytics job in unknown state {state!r}", permanent=False)
        for _ in range(self.pages_per_step):
            self.requests += 1
            try:
                page = self.client.get_details_job_results(task["job_id"], task["cursor"], self.page_size)
            except NotFound:
                return self._restart(task, "its results are gone")
            except BadRequest as exc:
                if self.page_size and "pagesize" in str(exc).lower():
                    logger.warning(
                        "analytics job results refused pageSize %s (%s); using the default",
                        self.page_size,
                        exc,
                    )
                    self.page_size = None
                    continue
                raise
            task["pages"] += 1
            self._accept([c for c in page.get("conversations") or [] if isinstance(c, dict)])
            task["cursor"] = page.get("cursor")
            if not task["cursor"]:
                task["status"] = "done"
                self.requests += 1
                try:
                    self.client.delete_details_job(task["job_id"])
                except GenesysError as exc:  # the results expire by themselves anyway
                    logger.info("could not delete analytics job %s: %s", task["job_id"], exc)
                return None
        return Waiting(0.0, f"paging analytics job {task['job_id']} ({task['pages']} page(s) so far)")

    def _restart(self, task: dict[str, Any], why: str) -> StepResult:
        task["restarts"] = int(task.get("restarts", 0)) + 1
        if task["restarts"] > self.max_restarts:
            return Failed(
                f"analytics job restarted {task['restarts'] - 1} times; last: {why}", permanent=False
            )
        logger.warning("analytics job %s: %s; submitting it again", task["job_id"], why)
        task.update(job_id=None, state=None, cursor=None)
        return Waiting(0.0, f"analytics job resubmitted: {why}")


# =====================================================================================================
# blocking convenience for command-line tools
# =====================================================================================================


@dataclass
class RunResult:
    outcome: Ready | Failed
    steps: int = 0
    waited_s: float = 0.0
    items: list[Any] = field(default_factory=list)


def run_to_end(
    engine: BatchDownloadFetcher | DetailsJobRunner,
    *,
    stop: threading.Event | None = None,
    on_items: Callable[[list[Any]], None] | None = None,
    deadline_s: float | None = None,
) -> RunResult:
    """Step an engine until it is Ready or Failed, sleeping its waits (for helper threads and CLIs).
    Items are handed to `on_items` as they come (else collected in the result)."""
    waiter = stop or threading.Event()
    result = RunResult(Ready(0))
    started = time.monotonic()
    while True:
        outcome = engine.step()
        result.steps += 1
        items = engine.take()
        if items:
            if on_items is not None:
                on_items(items)
            else:
                result.items.extend(items)
        if not isinstance(outcome, Waiting):
            result.outcome = outcome
            return result
        if deadline_s is not None and time.monotonic() - started + outcome.delay_s > deadline_s:
            result.outcome = Failed(
                f"not finished within {deadline_s:.0f}s: {outcome.reason}", permanent=False
            )
            return result
        if outcome.delay_s > 0:
            result.waited_s += outcome.delay_s
            if waiter.wait(outcome.delay_s):
                result.outcome = Failed("stopped", permanent=False)
                return result
