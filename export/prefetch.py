"""Read many conversations' analytics details in one request when exports queue up (a backlog).

One by one, every export reads its own analytics details (one request each): right for latency when
calls come one at a time. When more conversations wait than the export slots serve at once (after a
WebSocket outage, a restart, a burst), the details query by conversation ids (`POST
/api/v2/analytics/conversations/details/query`, up to 100 ids per request) reads them together, and
each export starts from what was read (`ledger.save_context`) instead of asking again. The
conversation document is taken from the notification that finished the call when there is one, else
built from the details (participants, their communications, names); participant attributes are then
not known, so conversations are only prefetched when no profile uses them (`needs_attributes`).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from export.steps import conversation_from_event

logger = logging.getLogger(__name__)

MAX_IDS = 100
"""Conversation ids per details query (the predicate limit the simulator enforces; Genesys' own)."""
OLDEST_S = 30 * 86400.0
"""The synchronous query reaches 35 days back: older conversations are left to the one-by-one path."""
CALL_MAX_S = 6.5 * 3600
"""A query interval matches conversations that overlap it: start this long before the earliest end."""


class PrefetchLedger(Protocol):
    def job(self, conversation_id: str) -> Any: ...
    def event(self, conversation_id: str) -> dict[str, Any] | None: ...
    def context(self, conversation_id: str) -> dict[str, Any] | None: ...
    def save_context(self, conversation_id: str, context: dict[str, Any]) -> None: ...


def conversation_from_details(details: dict[str, Any]) -> dict[str, Any]:
    """A conversation document built from analytics details: what the export needs of it (participants
    with purpose, name, user and voice communications); no participant attributes."""
    participants: list[dict[str, Any]] = []
    for p in details.get("participants") or []:
        if not isinstance(p, dict):
            continue
        calls = [
            {"id": s["sessionId"], "state": "disconnected"}
            for s in p.get("sessions") or []
            if isinstance(s, dict) and s.get("sessionId") and str(s.get("mediaType") or "voice") == "voice"
        ]
        participants.append(
            {
                "id": p.get("participantId"),
                "purpose": p.get("purpose"),
                "name": p.get("participantName"),
                "userId": p.get("userId"),
                "attributes": {},
                "calls": calls,
            }
        )
    return {"id": details.get("conversationId"), "participants": participants, "derivedFromDetails": True}


def prefetch_contexts(
    client: Any,
    ledger: PrefetchLedger,
    conversation_ids: list[str],
    *,
    with_users: bool = False,
    needs_attributes: bool = False,
    now: float | None = None,
) -> list[str]:
    """Read the analytics details of up to `MAX_IDS` queued conversations in one request and store
    each finished one's context in the ledger; returns the conversation ids prefetched."""
    now = time.time() if now is None else now
    wanted: dict[str, float] = {}
    for cid in conversation_ids[:MAX_IDS]:
        job = ledger.job(cid)
        if job is None or ledger.context(cid) is not None:
            continue
        if job.finished_at and now - job.finished_at > OLDEST_S:
            continue
        if needs_attributes and conversation_from_event(ledger.event(cid)) is None:
            continue  # a profile names participant attributes: the export reads the conversation itself
        wanted[cid] = job.finished_at or now
    if not wanted:
        return []
    start = datetime.fromtimestamp(min(wanted.values()) - CALL_MAX_S, UTC)
    end = datetime.fromtimestamp(now + 60, UTC)
    interval = f"{_iso(start)}/{_iso(end)}"
    documents = client.query_details_by_ids(sorted(wanted), interval)
    users: dict[str, dict[str, Any]] = {}
    if with_users:
        ids = sorted({p["userId"] for d in documents for p in d.get("participants", []) if p.get("userId")})
        users = {u["id"]: u for u in client.get_users(ids)} if ids else {}
    done = []
    for details in documents:
        cid = details.get("conversationId")
        if cid not in wanted or not details.get("conversationEnd"):
            continue  # analytics has not caught up with this one: its export reads it later
        conversation = conversation_from_event(ledger.event(cid)) or conversation_from_details(details)
        user_ids = {p.get("userId") for p in details.get("participants", []) if p.get("userId")}
        ledger.save_context(
            cid,
            {
                "conversation_id": cid,
                "details": details,
                "conversation": conversation,
                "recordings": [],
                "user_names": {u: users[u] for u in user_ids if u in users},
            },
        )
        done.append(cid)
    return done


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def prefetch_recordings(
    client: Any,
    ledger: PrefetchLedger,
    conversation_ids: list[str],
    dest_dir: Path,
    *,
    timeout_s: float = 30.0,
) -> list[str]:
    """Blocking (a helper thread): download the recordings of up to `MAX_IDS` queued conversations
    whose context was prefetched, with one batch request (`genesys.bulk.BatchDownloadFetcher`), and
    store each conversation's recording document made of its batch result in its context
    (`export.batch_sources`: only when its profiles need no recording metadata, which the caller
    checks). A conversation the batch cannot serve, one that started meanwhile, or one not served
    within `timeout_s`, keeps its context as it was: its export asks one by one. Returns the
    conversation ids served."""
    from export.batch_sources import attach_batch_recordings, discard_outcome_files
    from genesys.bulk import BatchDownloadFetcher, Ready, run_to_end

    wanted = []
    for cid in conversation_ids[:MAX_IDS]:
        context = ledger.context(cid)
        if context is not None and not context.get("recordings"):
            wanted.append(cid)
    if not wanted:
        return []
    dest_dir.mkdir(parents=True, exist_ok=True)
    fetcher = BatchDownloadFetcher(client, [(cid, None) for cid in wanted], dest_dir)
    result = run_to_end(fetcher, deadline_s=timeout_s).outcome
    outcomes = fetcher.outcomes()
    if not isinstance(result, Ready):
        logger.info(
            "Backlog: batch download of %d conversation(s) not done (%s); they are exported one by one",
            len(wanted),
            getattr(result, "reason", result),
        )
        discard_outcome_files(outcomes)
        return []
    served: list[str] = []
    for cid in wanted:
        job = ledger.job(cid)
        if job is None or job.state not in ("queued", "parked"):  # started meanwhile: asks one by one
            discard_outcome_files(o for o in outcomes if o.conversation_id == cid)
        elif attach_batch_recordings(ledger, cid, outcomes) is None:
            served.append(cid)
    return served


def prefetch_backlog(
    client: Any,
    ledger: PrefetchLedger,
    conversation_ids: list[str],
    *,
    with_users: bool = False,
    needs_attributes: bool = False,
    batch_dir: Path | None = None,
) -> tuple[list[str], list[str]]:
    """A backlog's bulk reads (a helper thread): the analytics details of up to `MAX_IDS` queued
    conversations in one request, then, when `batch_dir` is given (every active profile can do without
    recording metadata), their recordings in one batch download. Returns (ids whose context was
    read, ids whose recordings were downloaded)."""
    done = prefetch_contexts(
        client, ledger, conversation_ids, with_users=with_users, needs_attributes=needs_attributes
    )
    served = prefetch_recordings(client, ledger, done, batch_dir) if batch_dir is not None and done else []
    return done, served
