"""Find conversations that finished while no notification could reach us — incrementally and cheaply.

A WebSocket that was down (a drop, maintenance, a service restart) means queue events were lost:
Genesys Cloud does not replay them, and an event can also be lost without a visible gap. So the
service asks the analytics details query which conversations in its watched queues *ended* since the
last sweep, and hands the ones it does not know yet to the export supervisor (the ledger and the
status written back make this idempotent).

How the sweep stays cheap and never drops the newest (`sweep`):

* **Incremental.** Each sweep covers the conversations that ended in ``[resume_from - overlap,
  now - lag)``; ``resume_from`` is where the previous sweep stopped, persisted in a small file in the
  state directory (`SweepCursor`), so after a reconnect or a restart the next sweep covers the whole
  gap (bounded by ``max_gap_s``). A conversation that ended in the window but is not wrapped up yet
  holds ``resume_from`` back at its end, so it is looked at again until it is (bounded by the wrap-up
  timeout, after which it counts as finished).
* **Filtered.** ``conversationEnd exists`` and a ``queueId`` segment filter on the watched queues
  (the query's own filters): only ended conversations of watched queues come back.
* **Newest first.** Results are ordered by ``conversationEnd`` descending and paging stops at the
  first conversation that ended before the window: usually one page per sweep.
* **Never truncated.** The sync query returns at most 10,000 results and accepts intervals of at most
  7 days. The query interval (by conversation start: ``[since - CALL_MAX_S, until)``) is cut into
  7-day pieces, and a piece whose results reach the 10,000 cap before the window's start is split in
  halves (recursively) instead of being cut off.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
MAX_RESULTS = 10_000  # the sync query's own limit per query
MAX_INTERVAL = timedelta(days=7)  # the sync query's longest interval
CALL_MAX_S = 6 * 3600  # the query's interval is by conversation start: calls up to 6 h long are found
QUEUES_PER_QUERY = 50
OVERLAP_S = 120.0
LAG_S = 60.0  # keep the window's end a minute behind now (Genesys blog: analytics fills in late)
MAX_GAP_S = 30 * 86_400.0  # the query accepts interval starts up to ~35 days back


def _iso(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def query_body(
    queue_ids: list[str], start: datetime, end: datetime, page: int, *, page_size: int = PAGE_SIZE
) -> dict[str, Any]:
    """Ended conversations that touched one of ``queue_ids``, newest-ended first."""
    return {
        "interval": f"{_iso(start)}/{_iso(end)}",
        "order": "desc",
        "orderBy": "conversationEnd",
        "conversationFilters": [
            {
                "type": "and",
                "predicates": [{"type": "dimension", "dimension": "conversationEnd", "operator": "exists"}],
            }
        ],
        "segmentFilters": [
            {
                "type": "or",
                "predicates": [
                    {"type": "dimension", "dimension": "queueId", "operator": "matches", "value": q}
                    for q in queue_ids
                ],
            }
        ],
        "paging": {"pageSize": page_size, "pageNumber": page},
    }


def wrapped_up(details: dict[str, Any], now: datetime, wrapup_timeout_s: float) -> bool:
    """Every agent that talked has a wrap-up segment, or the wrap-up wait has run out."""
    end = details.get("conversationEnd")
    if not end:
        return False
    if (now - _parse(end)).total_seconds() > wrapup_timeout_s:
        return True
    for participant in details.get("participants", []):
        if participant.get("purpose") != "agent":
            continue
        segments = [s for session in participant.get("sessions", []) for s in session.get("segments", [])]
        talked = any(s.get("segmentType") == "interact" for s in segments)
        if talked and not any(s.get("segmentType") == "wrapup" for s in segments):
            return False
    return True


def queue_ids_of(details: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        sorted(
            {
                s["queueId"]
                for p in details.get("participants", [])
                for session in p.get("sessions", [])
                for s in session.get("segments", [])
                if s.get("queueId")
            }
        )
    )


@dataclass(frozen=True)
class SweepResult:
    """What one sweep found, and where the next one must resume (before its overlap)."""

    finished: list[tuple[str, tuple[str, ...]]]
    resume_from: datetime
    queries: int = 0
    window: tuple[datetime, datetime] | None = None


def _ended_between(
    client: Any,
    queue_ids: list[str],
    start: datetime,
    end: datetime,
    since: datetime,
    *,
    page_size: int,
    max_results: int,
    counter: list[int],
    depth: int = 0,
) -> dict[str, dict[str, Any]]:
    """Conversations whose start is in [start, end) and that ended at or after ``since``."""
    found: dict[str, dict[str, Any]] = {}
    max_pages = max(1, max_results // page_size)
    reached_since = False
    page = 1
    for page in range(1, max_pages + 1):
        counter[0] += 1
        response = client.query_conversation_details(
            query_body(queue_ids, start, end, page, page_size=page_size)
        )
        conversations = response.get("conversations") or []
        for details in conversations:
            ended = details.get("conversationEnd")
            if not ended:
                continue
            if _parse(ended) < since:
                reached_since = True
                continue
            found[str(details["conversationId"])] = details
        if reached_since or len(conversations) < page_size:
            return found
    # the cap was reached before the window's start: the older-ended ones are beyond reach, so
    # split the (start) interval and ask each half, newest-ended first again
    if end - start <= timedelta(seconds=2) or depth > 30:
        logger.error(
            "reconcile: more than %d conversations in %s..%s even after splitting; some may be missed",
            max_results,
            _iso(start),
            _iso(end),
        )
        return found
    middle = start + (end - start) / 2
    logger.info(
        "reconcile: %d+ conversations in %s..%s; splitting the interval", max_results, _iso(start), _iso(end)
    )
    for a, b in ((middle, end), (start, middle)):
        found.update(
            _ended_between(
                client,
                queue_ids,
                a,
                b,
                since,
                page_size=page_size,
                max_results=max_results,
                counter=counter,
                depth=depth + 1,
            )
        )
    return found


def sweep(
    client: Any,
    queue_ids: list[str],
    since: datetime,
    wrapup_timeout_s: float,
    *,
    now: datetime | None = None,
    lag_s: float = LAG_S,
    page_size: int = PAGE_SIZE,
    max_results: int = MAX_RESULTS,
) -> SweepResult:
    """Wrapped-up conversations of ``queue_ids`` that ended in ``[since, now - lag_s)``."""
    now = now or datetime.now(UTC)
    until = max(since, now - timedelta(seconds=lag_s))
    if not queue_ids or until <= since:
        return SweepResult([], since, 0, (since, until))
    counter = [0]
    ended: dict[str, dict[str, Any]] = {}
    query_start = since - timedelta(seconds=CALL_MAX_S)
    queues = sorted(queue_ids)
    for i in range(0, len(queues), QUEUES_PER_QUERY):
        chunk = queues[i : i + QUEUES_PER_QUERY]
        piece_end = until
        while piece_end > query_start:  # newest piece first; each at most 7 days
            piece_start = max(query_start, piece_end - MAX_INTERVAL)
            ended.update(
                _ended_between(
                    client,
                    chunk,
                    piece_start,
                    piece_end,
                    since,
                    page_size=page_size,
                    max_results=max_results,
                    counter=counter,
                )
            )
            piece_end = piece_start
    finished: list[tuple[str, tuple[str, ...]]] = []
    resume_from = until
    for cid, details in ended.items():
        end = _parse(details["conversationEnd"])
        if end >= until:
            continue  # the next sweep's window
        if wrapped_up(details, now, wrapup_timeout_s):
            finished.append((cid, queue_ids_of(details)))
        else:
            resume_from = min(resume_from, end)  # look at it again until it is wrapped up
    finished.sort()
    return SweepResult(finished, resume_from, counter[0], (since, until))


def finished_since(
    client: Any, queue_ids: list[str], since: datetime, wrapup_timeout_s: float, now: datetime | None = None
) -> list[tuple[str, tuple[str, ...]]]:
    """(conversation id, queue ids) of wrapped-up conversations in the queues that ended after
    ``since`` (one `sweep`; kept for callers of the former API)."""
    return sweep(client, queue_ids, since, wrapup_timeout_s, now=now).finished


@dataclass
class SweepCursor:
    """Where the next sweep resumes, kept in a small JSON file of the state directory so that the
    first sweep after a restart covers the whole gap (no ledger needed)."""

    path: Path
    overlap_s: float = OVERLAP_S
    max_gap_s: float = MAX_GAP_S

    def load(self) -> datetime | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return _parse(str(data["resume_from"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("reconcile cursor %s unreadable (%s); starting from the look-back", self.path, exc)
            return None

    def save(self, resume_from: datetime) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"resume_from": _iso(resume_from)}), encoding="utf-8")
        os.replace(tmp, self.path)

    def next_since(self, now: datetime, lookback_s: float) -> datetime:
        """The start of the next sweep's window: the persisted instant minus the overlap, or the
        look-back on a first start; never further back than ``max_gap_s``."""
        resume = self.load()
        since = (
            now - timedelta(seconds=lookback_s)
            if resume is None
            else resume - timedelta(seconds=self.overlap_s)
        )
        return max(since, now - timedelta(seconds=self.max_gap_s))
