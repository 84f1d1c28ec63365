"""Find conversations that finished while no notification could reach us.

A WebSocket that was down (a drop, maintenance, a service restart) means queue events were lost:
Genesys Cloud does not replay them. After every (re)connect, and at start-up, the service asks the
analytics details query which conversations in its watched queues ended in the gap and were
wrapped up, and hands the ones it does not know yet to the export supervisor. The ledger (and the
status written back to Genesys Cloud) make this idempotent.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
MAX_PAGES = 100  # 10,000 results: the sync query's own limit
CALL_MAX_S = 6 * 3600  # the query matches conversations that *started* in the interval


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def query_body(queue_ids: list[str], start: datetime, end: datetime, page: int) -> dict[str, Any]:
    return {
        "interval": f"{_iso(start)}/{_iso(end)}",
        "order": "asc",
        "orderBy": "conversationStart",
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
        "paging": {"pageSize": PAGE_SIZE, "pageNumber": page},
    }


def wrapped_up(details: dict[str, Any], now: datetime, wrapup_timeout_s: float) -> bool:
    """Every agent that talked has a wrap-up segment, or the wrap-up wait has run out."""
    end = details.get("conversationEnd")
    if not end:
        return False
    ended = datetime.fromisoformat(end.replace("Z", "+00:00"))
    if (now - ended).total_seconds() > wrapup_timeout_s:
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


def finished_since(
    client: Any, queue_ids: list[str], since: datetime, wrapup_timeout_s: float, now: datetime | None = None
) -> list[tuple[str, tuple[str, ...]]]:
    """(conversation id, queue ids) of wrapped-up conversations in the queues that ended after `since`."""
    if not queue_ids:
        return []
    now = now or datetime.now(UTC)
    start = since - timedelta(seconds=CALL_MAX_S)
    found: dict[str, tuple[str, ...]] = {}
    for page in range(1, MAX_PAGES + 1):
        response = client.query_conversation_details(query_body(sorted(queue_ids), start, now, page))
        conversations = response.get("conversations") or []
        for details in conversations:
            end = details.get("conversationEnd")
            if not end or datetime.fromisoformat(end.replace("Z", "+00:00")) < since:
                continue
            if wrapped_up(details, now, wrapup_timeout_s):
                found[details["conversationId"]] = queue_ids_of(details)
        if len(conversations) < PAGE_SIZE:
            break
    return list(found.items())
