"""`POST /api/v2/analytics/conversations/details/query`: interval, filters, order and paging
evaluated over analytics detail documents (plain logic)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from simulator.errors import bad_request

logger = logging.getLogger(__name__)

MAX_PAGE_SIZE = 1000
"""Genesys' own samples page with 200 and 300 per page; the documented bound was not found."""
MAX_RESULTS = 10_000
"""The sync query returns at most 10,000 records per query (Genesys tutorial recordings-downloader):
pages beyond them are empty, whatever ``totalHits`` says."""
MAX_INTERVAL_S = 7 * 86_400
"""The sync query accepts a search interval of at most 7 days (same tutorial)."""
MAX_DAYS_BACK = 35
"""The sync query accepts interval starts up to 35 days in the past (developercenter-tutorials
recordings-downloader/config.yml, "Starting December 9, 2020")."""
MAX_PREDICATES = 100
"""Predicates per filter or clause (unconfirmed: no limit found in official material)."""
DAY_S = 86_400


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def parse_interval(interval: Any, *, max_s: float | None = MAX_INTERVAL_S) -> tuple[datetime, datetime]:
    """The query's interval; 400 when malformed or longer than `max_s` (None: no limit, the jobs)."""
    if not isinstance(interval, str) or "/" not in interval:
        raise bad_request("The query needs an 'interval' of the form <ISO-8601>/<ISO-8601>")
    a, b = interval.split("/", 1)
    try:
        start, end = parse_iso(a), parse_iso(b)
    except ValueError as exc:
        raise bad_request(f"Invalid interval {interval!r}: {exc}") from exc
    if start.tzinfo is None or end.tzinfo is None:
        raise bad_request("Interval times need a time zone (e.g. Z)")
    if end <= start:
        raise bad_request("The interval end must be after its start")
    if max_s is not None and (end - start).total_seconds() > max_s:
        raise bad_request("The interval may not exceed 7 days; use the async jobs API for longer ones")
    return start, end


def _predicate_ok(pred: dict[str, Any], values: list[Any]) -> bool:
    if not isinstance(pred, dict):
        raise bad_request("A predicate must be an object")
    operator = pred.get("operator") or "matches"
    present = [v for v in values if v is not None]
    if operator == "exists":
        return bool(present)
    if operator == "notExists":
        return not present
    if operator != "matches":
        raise bad_request(f"Unsupported predicate operator {operator!r}")
    want = pred.get("value")
    return any(str(v) == str(want) for v in present)


def _filter_ok(flt: dict[str, Any], values_of: Any) -> bool:
    if not isinstance(flt, dict):
        raise bad_request("A filter must be an object")
    kind = (flt.get("type") or "and").lower()
    if kind not in ("and", "or"):
        raise bad_request(f"Filter type must be 'and' or 'or', got {kind!r}")
    results = [
        _predicate_ok(p, values_of(p.get("dimension") or p.get("property") or p.get("metric")))
        for p in flt.get("predicates") or []
    ]
    results += [_filter_ok(c, values_of) for c in flt.get("clauses") or []]
    if not results:
        return True
    return all(results) if kind == "and" else any(results)


def interval_matches(doc: dict[str, Any], start: datetime, end: datetime, *, start_of_day: bool) -> bool:
    """Whether a conversation's lifetime overlaps [start, end); with `start_of_day` (the sync query's
    rule, `startOfDayIntervalMatching` of jobs) it must also have started on or after the UTC
    midnight of the interval's start (Developer Center, "Conversation Detail job")."""
    conv_start = parse_iso(doc["conversationStart"])
    conv_end = parse_iso(doc["conversationEnd"]) if doc.get("conversationEnd") else None
    if conv_start >= end or (conv_end is not None and conv_end < start):
        return False
    if start_of_day:
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        return conv_start >= midnight
    return True


def check_predicate_limits(query: dict[str, Any], limit: int = MAX_PREDICATES) -> None:
    """400 when a filter or clause has more predicates than the platform accepts."""
    for key in ("conversationFilters", "segmentFilters"):
        filters = query.get(key) or []
        if not isinstance(filters, list):
            raise bad_request(f"{key} must be a list")
        for flt in filters:
            if not isinstance(flt, dict):
                raise bad_request("A filter must be an object")
            for group in [flt, *(flt.get("clauses") or [])]:
                count = len(group.get("predicates") or []) if isinstance(group, dict) else 0
                if count > limit:
                    raise bad_request(
                        f"A filter has {count} predicates; at most {limit} predicates are allowed per filter"
                    )


def validate_filters(query: dict[str, Any]) -> None:
    """400 for a malformed filter (unknown filter type or predicate operator)."""
    for key in ("conversationFilters", "segmentFilters"):
        for flt in query.get(key) or []:
            _filter_ok(flt, lambda dim: [])


def filters_match(query: dict[str, Any], doc: dict[str, Any]) -> bool:
    """The query's conversation and segment filters over one detail document."""
    if not all(_filter_ok(f, _conversation_values(doc)) for f in query.get("conversationFilters") or []):
        return False
    return all(_segment_filter_ok(f, doc) for f in query.get("segmentFilters") or [])


def _conversation_values(doc: dict[str, Any]) -> Any:
    def values_of(dim: str | None) -> list[Any]:
        if dim == "divisionId":
            return list(doc.get("divisionIds") or [])
        return [doc.get(dim or "")]

    return values_of


def _segment_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for p in doc.get("participants") or []:
        for s in p.get("sessions") or []:
            for seg in s.get("segments") or []:
                row = {k: v for k, v in p.items() if not isinstance(v, list | dict)}
                row.update({k: v for k, v in s.items() if not isinstance(v, list | dict)})
                row.update({k: v for k, v in seg.items() if not isinstance(v, list | dict)})
                rows.append(row)
    return rows


def _segment_filter_ok(flt: dict[str, Any], doc: dict[str, Any]) -> bool:
    """A segment filter matches when one segment (with its session and participant) satisfies it."""
    for row in _segment_rows(doc):
        if _filter_ok(flt, lambda dim, row=row: [row.get(dim or "")]):
            return True
    return False


def check_sync_interval(start: datetime, end: datetime, now_s: float) -> None:
    """The synchronous query's interval limits (400 beyond them)."""
    if start.timestamp() < now_s - MAX_DAYS_BACK * DAY_S:
        raise bad_request(
            f"The interval may start at most {MAX_DAYS_BACK} days in the past; use the asynchronous "
            "conversation details jobs for older data"
        )


def run_query(
    query: Any,
    docs: list[dict[str, Any]],
    *,
    now_s: float | None = None,
    max_predicates: int | None = MAX_PREDICATES,
) -> dict[str, Any]:
    """Evaluate a `ConversationQuery` over detail documents → `AnalyticsConversationQueryResponse`.
    With `now_s` the interval limits of the real endpoint apply."""
    if not isinstance(query, dict):
        raise bad_request("The body must be a ConversationQuery object")
    start, end = parse_interval(query.get("interval"))
    if max_predicates is not None:
        check_predicate_limits(query, max_predicates)
    if now_s is not None:
        check_sync_interval(start, end, now_s)
    paging = query.get("paging") or {}
    size = int(paging.get("pageSize") or 25)
    number = int(paging.get("pageNumber") or 1)
    if not 1 <= size <= MAX_PAGE_SIZE or number < 1:
        raise bad_request(f"paging.pageSize must be 1..{MAX_PAGE_SIZE} and pageNumber >= 1")
    order = (query.get("order") or "asc").lower()
    order_by = query.get("orderBy") or "conversationStart"
    if order not in ("asc", "desc", "unordered"):
        raise bad_request(f"order must be asc, desc or unordered, got {order!r}")
    matched = [
        doc
        for doc in docs
        if interval_matches(doc, start, end, start_of_day=True) and filters_match(query, doc)
    ]

    def sort_key(doc: dict[str, Any]) -> str:
        if order_by in ("conversationStart", "conversationEnd"):
            return str(doc.get(order_by) or "")
        segs = [
            seg.get(order_by) or ""
            for p in doc.get("participants") or []
            for s in p.get("sessions") or []
            for seg in s.get("segments") or []
        ]
        return min(segs) if segs else ""

    matched.sort(key=sort_key, reverse=order == "desc")
    reachable = matched[:MAX_RESULTS]
    page = reachable[(number - 1) * size : number * size]
    body: dict[str, Any] = {"totalHits": len(matched)}
    if page:
        body["conversations"] = page
    return body
