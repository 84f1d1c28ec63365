"""The thread-free part of `run.py backfill`: what to do with each conversation found, the run's
durable state, the outcome of each export and the dry-run's estimate.

A conversation found in the interval is, per selected profile, out of scope, already exported (the
ledger's per-profile status or the status written back to Genesys Cloud, which the analytics job
results carry in the participant attributes), or to export. `decide` says which; the command then
records the ones to export as ledger jobs of source "backfill" with the documents already read
(`context_for`), so their exports ask Genesys Cloud only for the recordings and the write-back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from export.output_plan import applicable_profiles, status_key
from export.prefetch import conversation_from_details
from export.steps import ConversationData
from profiles.scoping import touched_queue_ids

logger = logging.getLogger(__name__)

PRIORITY = 5
"""Backfill jobs are background work (`actors.export_supervisor.BACKGROUND_PRIORITY`)."""
SKIP_OUT_OF_SCOPE = "out of scope"
SKIP_EXPORTED = "already exported"
SKIP_IN_SERVICE = "being exported by the service"
SKIP_ARCHIVED = "recording archived"
SKIP_DELETED = "recording deleted"
SKIP_NOT_RECORDED = "not recorded"
SKIP_KNOWN = "known to the ledger"


class StatusSource(Protocol):
    def profile_statuses(self, conversation_id: str) -> dict[tuple[str, str], tuple[str, str]]: ...


@dataclass(frozen=True)
class Decision:
    """What to do with one conversation found: `profiles` to export, or why not (`skip`)."""

    conversation_id: str
    profiles: tuple[str, ...] = ()
    skip: str | None = None
    detail: str = ""

    @property
    def export(self) -> bool:
        return self.skip is None


def attributes_of(doc: dict[str, Any]) -> dict[str, str] | None:
    """Every participant attribute of an analytics document (None: it carries none at all, as the
    synchronous query's documents do)."""
    found: dict[str, str] | None = None
    for participant in doc.get("participants") or []:
        attrs = participant.get("attributes") if isinstance(participant, dict) else None
        if isinstance(attrs, dict):
            found = found or {}
            found.update({str(k): str(v) for k, v in attrs.items()})
    return found


def decide(
    doc: dict[str, Any],
    snapshot: Any,
    profiles: list[str],
    queue_ids: set[str],
    ledger: StatusSource | None,
) -> Decision:
    """Scope and exactly-once for one conversation: the selected `profiles` whose scope takes it (the
    service's own scoping) and that neither the ledger nor the written-back status says are exported."""
    cid = str(doc.get("conversationId") or "")
    if queue_ids and not touched_queue_ids(doc) & queue_ids:
        return Decision(cid, skip=SKIP_OUT_OF_SCOPE, detail="none of the selected queues")
    data = ConversationData(cid, doc, {}, ())
    wanted = {p.casefold() for p in profiles}
    applicable = [p.name for p in applicable_profiles(snapshot, data) if p.name.casefold() in wanted]
    if not applicable:
        return Decision(cid, skip=SKIP_OUT_OF_SCOPE, detail="no selected profile's scope takes it")
    statuses = ledger.profile_statuses(cid) if ledger is not None else {}
    attributes = attributes_of(doc) or {}
    todo = [
        name
        for name in applicable
        if statuses.get((name, "audio"), ("", ""))[0] != "exported"
        and attributes.get(status_key(name, "audio", "status")) != "exported"
    ]
    if not todo:
        return Decision(cid, tuple(applicable), skip=SKIP_EXPORTED, detail=", ".join(applicable))
    return Decision(cid, tuple(applicable))


def context_for(
    doc: dict[str, Any], users: dict[str, dict[str, Any]], conversation: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The export's context (`ConversationExport.context_json` shape) from an analytics document:
    the conversation is built from the details with the participant attributes the job results carry
    (or is the one read from Genesys Cloud), so the export reads neither again."""
    cid = str(doc["conversationId"])
    if conversation is None:
        conversation = conversation_from_details(doc)
        by_id = {
            str(p.get("participantId")): p.get("attributes") or {}
            for p in doc.get("participants") or []
            if isinstance(p, dict)
        }
        for participant in conversation["participants"]:
            participant["attributes"] = dict(by_id.get(str(participant.get("id")), {}))
    user_ids = {p.get("userId") for p in doc.get("participants") or [] if p.get("userId")}
    return {
        "conversation_id": cid,
        "details": doc,
        "conversation": conversation,
        "recordings": [],
        "user_names": {u: users[u] for u in user_ids if u in users},
    }


def ended_at(doc: dict[str, Any]) -> float:
    value = str(doc.get("conversationEnd") or doc.get("conversationStart") or "")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def outcome_of(
    statuses: dict[tuple[str, str], tuple[str, str]], profiles: tuple[str, ...], job_error: str | None
) -> tuple[str, str]:
    """("exported" | "skipped" | "failed", reason) of a finished backfill export, from the per-profile
    statuses the export recorded: an archived or deleted recording is a skip with what to do."""
    audio = [statuses.get((p, "audio"), ("", "")) for p in profiles]
    if audio and all(status == "exported" for status, _ in audio):
        return "exported", ""
    details = " ".join(detail for _, detail in audio) + " " + (job_error or "")
    text = details.lower()
    if "archived" in text:
        return "skipped", f"{SKIP_ARCHIVED}: restore it in Genesys Cloud, then run the same backfill again"
    if "deleted" in text:
        return "skipped", f"{SKIP_DELETED}: it cannot be exported"
    if any(status == "skipped" for status, _ in audio) and any(
        words in text for words in ("no recording", "not recorded", "no audio recording", "no call recording")
    ):
        return "skipped", f"{SKIP_NOT_RECORDED}: {details.strip()}"
    if any(status == "exported" for status, _ in audio) and not any(s == "failed" for s, _ in audio):
        return "exported", ""
    if any(status == "skipped" for status, _ in audio) and not any(s == "failed" for s, _ in audio):
        return "skipped", f"skipped: {details.strip() or 'no reason recorded'}"
    return "failed", details.strip() or "see the log"


# -- counts and the run's durable state --------------------------------------------------------------
@dataclass
class Counts:
    found: int = 0
    in_scope: int = 0
    exported: int = 0
    failed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "in_scope": self.in_scope,
            "exported": self.exported,
            "failed": self.failed,
            "skipped": dict(self.skipped),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Counts:
        return cls(
            int(data.get("found", 0)),
            int(data.get("in_scope", 0)),
            int(data.get("exported", 0)),
            int(data.get("failed", 0)),
            Counter({str(k): int(v) for k, v in (data.get("skipped") or {}).items()}),
        )


def skip_label(reason: str) -> str:
    """The counting label of a skip reason (its part before a colon)."""
    return reason.split(":", 1)[0]


@dataclass
class RunState:
    """One backfill run (interval, profiles, queues), kept in `state_dir/backfill/<key>.json` so the
    same command resumes: the discovery engine's state, every conversation's decision and, once its
    export finished, its outcome."""

    key: str
    request: dict[str, Any]
    discovery: dict[str, Any] | None = None
    discovery_done: bool = False
    tracked: dict[str, list[str]] = field(default_factory=dict)  # cid -> profiles (exports of this run)
    outcomes: dict[str, list[str]] = field(default_factory=dict)  # cid -> [outcome, reason]
    skips: dict[str, str] = field(default_factory=dict)  # cid -> reason (no export needed)
    requests: int = 0  # API requests this run made (all runs of it)
    complete: bool = False  # finished: the same command starts a new pass

    def counts(self) -> Counts:
        counts = Counts(found=len(self.tracked) + len(self.skips))
        for reason in self.skips.values():
            counts.skipped[skip_label(reason)] += 1
        counts.in_scope = counts.found - counts.skipped[SKIP_OUT_OF_SCOPE]
        for outcome, reason in self.outcomes.values():
            if outcome == "exported":
                counts.exported += 1
            elif outcome == "failed":
                counts.failed += 1
            else:
                counts.skipped[skip_label(reason)] += 1
        return counts

    def unfinished(self) -> list[str]:
        return [cid for cid in self.tracked if cid not in self.outcomes]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "key": self.key,
            "request": self.request,
            "discovery": self.discovery,
            "discovery_done": self.discovery_done,
            "tracked": self.tracked,
            "outcomes": self.outcomes,
            "skips": self.skips,
            "requests": self.requests,
            "complete": self.complete,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunState:
        return cls(
            key=str(data["key"]),
            request=dict(data.get("request") or {}),
            discovery=data.get("discovery"),
            discovery_done=bool(data.get("discovery_done")),
            tracked={str(k): list(v) for k, v in (data.get("tracked") or {}).items()},
            outcomes={str(k): list(v) for k, v in (data.get("outcomes") or {}).items()},
            skips={str(k): str(v) for k, v in (data.get("skips") or {}).items()},
            requests=int(data.get("requests", 0)),
            complete=bool(data.get("complete")),
        )


def run_key(start: datetime, end: datetime, profiles: list[str], queues: list[str]) -> str:
    """The same interval, profiles and queues make the same run (and resume it)."""
    text = json.dumps(
        [start.isoformat(), end.isoformat(), sorted(p.casefold() for p in profiles), sorted(queues)]
    )
    return f"{start:%Y%m%d}-{end:%Y%m%d}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


class StateFile:
    """The run's state on disk, replaced atomically (a crash leaves the previous version)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> RunState | None:
        if not self.path.exists():
            return None
        try:
            return RunState.from_json(json.loads(self.path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("backfill state %s unreadable (%s): starting the run afresh", self.path, exc)
            return None

    def save(self, state: RunState) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state.to_json(), separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, self.path)


# -- the dry run's estimate -------------------------------------------------------------------------
BYTES_PER_SECOND = {
    "WAV": 32_000.0,  # 16-bit PCM, stereo, 8 kHz (the telephony rate)
    "WAV_ULAW": 16_000.0,
    "MP3": 4_000.0,  # 32 kbit/s
    "OGG_VORBIS": 4_000.0,
    "OGG_OPUS": 3_000.0,
    "WEBM": 3_000.0,
    "M4B": 4_000.0,
    "FLAC": 20_000.0,
}


@dataclass(frozen=True)
class Estimate:
    calls: int
    requests: int
    minutes: float
    bytes: int


RUN_OVERHEAD = 10
"""Requests a run makes besides its calls: the configuration (read by the command and its actors),
the custom-attributes schema, the server time."""


BATCH_REQUESTS_PER_CALL = 0.04
"""A batch download's share per call: one submission and a few polls per 100 calls."""


def requests_per_call(
    *, full_writeback: bool, needs_conversation: bool, transcripts: bool, batch: bool = False
) -> float:
    """API requests an export of one backfilled call makes: the recordings (metadata and media URLs in
    one request, or a share of a batch download), the write-back (1, or 2 with the custom-attributes
    record), the conversation when the analytics documents lack participant attributes a profile
    needs, a transcript URL per call."""
    recordings = BATCH_REQUESTS_PER_CALL if batch else 1.0
    return (
        recordings
        + (2 if full_writeback else 1)
        + (1 if needs_conversation else 0)
        + (1 if transcripts else 0)
    )


def estimate(
    docs: list[tuple[dict[str, Any], list[Any]]],
    *,
    per_call: float,
    discovery_requests: int,
    per_minute: float,
) -> Estimate:
    """Requests, minutes at `per_minute` and bytes written for the (document, profiles) to export."""
    total_bytes = 0.0
    for doc, profiles in docs:
        start, end = ended_at({"conversationEnd": doc.get("conversationStart")}), ended_at(doc)
        seconds = max(0.0, end - start)
        for profile in profiles:
            total_bytes += seconds * BYTES_PER_SECOND.get(str(profile.audio_format).upper(), 32_000.0)
    requests = RUN_OVERHEAD + discovery_requests + round(per_call * len(docs))
    return Estimate(len(docs), requests, requests / max(1e-9, per_minute), int(total_bytes))
