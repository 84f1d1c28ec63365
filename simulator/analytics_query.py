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


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def parse_interval(interval: Any) -> tuple[datetime, datetime]:
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
    if (end - start).total_seconds() > MAX_INTERVAL_S:
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


def run_query(query: Any, docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Evaluate a `ConversationQuery` over detail documents → `AnalyticsConversationQueryResponse`."""
    if not isinstance(query, dict):
        raise bad_request("The body must be a ConversationQuery object")
    start, end = parse_interval(query.get("interval"))
    paging = query.get("paging") or {}
    size = int(paging.get("pageSize") or 25)
    number = int(paging.get("pageNumber") or 1)
    if not 1 <= size <= MAX_PAGE_SIZE or number < 1:
        raise bad_request(f"paging.pageSize must be 1..{MAX_PAGE_SIZE} and pageNumber >= 1")
    order = (query.get("order") or "asc").lower()
    order_by = query.get("orderBy") or "conversationStart"
    if order not in ("asc", "desc", "unordered"):
        raise bad_request(f"order must be asc, desc or unordered, got {order!r}")
    matched = []
    for doc in docs:
        conv_start = parse_iso(doc["conversationStart"])
        if not start <= conv_start < end:
            continue
        if not all(_filter_ok(f, _conversation_values(doc)) for f in query.get("conversationFilters") or []):
            continue
        if not all(_segment_filter_ok(f, doc) for f in query.get("segmentFilters") or []):
            continue
        matched.append(doc)

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
