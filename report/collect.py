"""Collect the reconciliation report: every conversation that ended in an interval in a watched
queue, and for each export profile whether it was in scope, what was exported and written back, or
why nothing was.

Sources, each for what only it knows:

* Genesys Cloud analytics (`genesys.bulk.DetailsJobRunner`: the asynchronous jobs for the settled part
  of the interval, the synchronous query for the rest) finds the conversations and their queues;
  job results carry the participant attributes, so the status written back to Genesys
  (`callexport.<profile>.<kind>.status`, which survives a lost state directory) comes with them;
* the service's ledger (`ledger.Ledger`: `profile_status`, `outputs`, `jobs`) gives the files
  written, the failure causes and what is still pending;
* the scoping is the service's own (`export.output_plan.applicable_profiles`);
* for an in-scope conversation that nothing says anything about, `recordingmetadata` tells whether
  it was recorded at all, or its recordings were archived or deleted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from export.output_plan import applicable_profiles, status_key
from export.steps import ConversationData
from genesys.bulk import DetailsJobRunner, Ready, run_to_end
from genesys.errors import GenesysError, NotFound
from profiles.scoping import has_agent_participant, touched_queue_ids

if TYPE_CHECKING:
    from genesys.rest import GenesysClient
    from ledger.store import Job, Ledger
    from messages.config import ConfigSnapshot
    from profiles.model import Profile

logger = logging.getLogger(__name__)

OUTCOMES = (
    "exported",
    "not recorded",
    "recording unavailable",
    "failed",
    "pending",
    "not exported",
    "out of scope",
)
"""Per conversation and profile, in the order a reader cares about."""
NOTHING_EXPORTED = ("not recorded", "recording unavailable", "failed", "pending", "not exported")
MAX_QUEUE_PREDICATES = 100
UNFINISHED_JOBS = ("queued", "running", "parked", "held")


class ReportInputError(ValueError):
    """The report cannot be made with these inputs (exit code 2, nothing started)."""


@dataclass(frozen=True)
class ReportRequest:
    start: datetime  # inclusive (UTC)
    end: datetime  # exclusive (UTC)
    profiles: tuple[str, ...] = ()  # empty: every active profile
    queues: tuple[str, ...] = ()  # empty: every watched queue


@dataclass
class ProfileResult:
    profile: str
    in_scope: bool
    outcome: str
    reason: str = ""
    audio_status: str = ""
    transcript_status: str = ""
    files: list[str] = field(default_factory=list)
    written_back: str = ""  # the audio status in the participant attributes
    source: str = ""  # where the status came from: "ledger", "Genesys Cloud", ""


@dataclass
class ConversationResult:
    conversation_id: str
    day: date
    start: str
    end: str
    queues: list[str]
    direction: str
    recording: str = ""  # "recorded", "not recorded", "archived", "deleted", "" (not looked up)
    profiles: list[ProfileResult] = field(default_factory=list)

    def result(self, profile: str) -> ProfileResult | None:
        return next((p for p in self.profiles if p.profile == profile), None)


@dataclass
class Report:
    request: ReportRequest
    generated_at: datetime
    api_url: str
    profiles: list[str]
    queues: list[str]
    conversations: list[ConversationResult]
    data_availability: str | None = None
    api_requests: int = 0
    ledger_used: bool = True

    def days(self) -> list[date]:
        first, last = self.request.start.date(), self.request.end.date()
        span = (last - first).days + (1 if self.request.end.time() != datetime.min.time() else 0)
        return [date.fromordinal(first.toordinal() + i) for i in range(max(1, span))]

    def totals_by_day(self) -> dict[date, dict[str, Any]]:
        """Day → {"found": n, "profiles": {profile: Counter(outcome → n)}}."""
        out: dict[date, dict[str, Any]] = {
            d: {"found": 0, "profiles": {p: Counter() for p in self.profiles}} for d in self.days()
        }
        for conv in self.conversations:
            bucket = out.setdefault(conv.day, {"found": 0, "profiles": {p: Counter() for p in self.profiles}})
            bucket["found"] += 1
            for result in conv.profiles:
                bucket["profiles"][result.profile][result.outcome] += 1
        return out

    def totals_by_profile(self) -> dict[str, Counter[str]]:
        out: dict[str, Counter[str]] = {p: Counter() for p in self.profiles}
        for conv in self.conversations:
            for result in conv.profiles:
                out[result.profile][result.outcome] += 1
        return out

    def exceptions(self) -> list[tuple[ConversationResult, ProfileResult]]:
        """In-scope conversations with nothing exported, with the reason (what an auditor asks about)."""
        return [
            (conv, result)
            for conv in self.conversations
            for result in conv.profiles
            if result.in_scope and result.outcome != "exported"
        ]


def _iso_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _attributes(doc: dict[str, Any]) -> dict[str, str] | None:
    """The participant attributes of a job result (None: the document carries none at all, as the
    synchronous query's `AnalyticsConversationWithoutAttributes` does)."""
    found: dict[str, str] | None = None
    for participant in doc.get("participants") or []:
        attrs = participant.get("attributes")
        if isinstance(attrs, dict):
            found = found or {}
            found.update({str(k): str(v) for k, v in attrs.items()})
    return found


class Collector:
    """Builds a `Report` (blocking: network, ledger)."""

    def __init__(
        self,
        client: GenesysClient,
        snapshot: ConfigSnapshot,
        ledger: Ledger | None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.snapshot = snapshot
        self.ledger = ledger
        self.clock = clock
        self._requests = 0

    # -- inputs ------------------------------------------------------------------------------------
    def select_profiles(self, names: tuple[str, ...]) -> list[Profile]:
        profiles = list(self.snapshot.config.profiles)
        if not names:
            return profiles
        by_name = {p.name.casefold(): p for p in profiles}
        unknown = [n for n in names if n.casefold() not in by_name]
        if unknown:
            known = ", ".join(p.name for p in profiles) or "none"
            raise ReportInputError(f"unknown profile(s): {', '.join(unknown)} (active profiles: {known})")
        return [by_name[n.casefold()] for n in names]

    def queue_ids(self, profiles: list[Profile], names: tuple[str, ...]) -> dict[str, str]:
        """Queue id → name of the queues to report on: the selected profiles' queues and the queues of
        their retention policies, or the queues named (which must exist in the org)."""
        names_by_id: dict[str, str] = dict(self.snapshot.queue_names)
        ids_by_name = {n.casefold(): i for i, n in names_by_id.items()}
        if names:
            unknown = [n for n in names if n.casefold() not in ids_by_name]
            if unknown:
                raise ReportInputError(
                    f"unknown queue(s): {', '.join(unknown)} (queues in the org: {', '.join(sorted(names_by_id.values()))})"
                )
            return {ids_by_name[n.casefold()]: names_by_id[ids_by_name[n.casefold()]] for n in names}
        watched: dict[str, str] = {}
        policies = {k.casefold(): v for k, v in self.snapshot.policy_queue_ids.items()}
        for profile in profiles:
            for name in profile.queues:
                qid = ids_by_name.get(name.casefold())
                if qid:
                    watched[qid] = names_by_id[qid]
            for policy in profile.retention_policies:
                for qid in policies.get(policy.casefold(), ()):
                    watched[qid] = names_by_id.get(qid, qid)
        return watched

    # -- the report --------------------------------------------------------------------------------
    def collect(
        self, request: ReportRequest, *, api_url: str = "", stop: threading.Event | None = None
    ) -> Report:
        profiles = self.select_profiles(request.profiles)
        queues = self.queue_ids(profiles, request.queues)
        if not queues:
            raise ReportInputError("no queue to report on: the selected profiles name no queue of the org")
        segment_filters = (
            [
                {
                    "type": "or",
                    "predicates": [
                        {"type": "dimension", "dimension": "queueId", "operator": "matches", "value": q}
                        for q in sorted(queues)
                    ],
                }
            ]
            if len(queues) <= MAX_QUEUE_PREDICATES
            else []
        )
        runner = DetailsJobRunner(self.client, request.start, request.end, segment_filters=segment_filters)
        found: list[dict[str, Any]] = []
        run = run_to_end(runner, stop=stop, on_items=found.extend)
        self._requests += runner.requests
        if not isinstance(run.outcome, Ready):
            raise GenesysError("analytics", 0, message=run.outcome.reason)
        logger.info(
            "report %s..%s: %d conversation(s) found in %d queue(s) (%d API requests)",
            request.start.date(),
            request.end.date(),
            len(found),
            len(queues),
            runner.requests,
        )
        conversations = []
        for doc in sorted(
            found, key=lambda d: (d.get("conversationEnd") or "", d.get("conversationId") or "")
        ):
            touched = touched_queue_ids(doc) & set(queues)
            if not touched:
                continue
            conversations.append(self._conversation(doc, touched, profiles))
        return Report(
            request=request,
            generated_at=datetime.fromtimestamp(self.clock(), UTC),
            api_url=api_url,
            profiles=[p.name for p in profiles],
            queues=sorted(queues.values()),
            conversations=conversations,
            data_availability=runner.data_availability,
            api_requests=self._requests,
            ledger_used=self.ledger is not None,
        )

    def _conversation(
        self, doc: dict[str, Any], touched: set[str], profiles: list[Profile]
    ) -> ConversationResult:
        cid = str(doc["conversationId"])
        names = self.snapshot.queue_names
        conv = ConversationResult(
            conversation_id=cid,
            day=_iso_day(_parse(doc["conversationEnd"])),
            start=str(doc.get("conversationStart") or ""),
            end=str(doc.get("conversationEnd") or ""),
            queues=sorted(names.get(q, q) for q in touched_queue_ids(doc)),
            direction=str(doc.get("originatingDirection") or ""),
        )
        data = ConversationData(cid, doc, {}, ())
        applicable = {p.name for p in applicable_profiles(self.snapshot, data)}
        attributes = _attributes(doc)
        statuses = self.ledger.profile_statuses(cid) if self.ledger is not None else {}
        job = self.ledger.job(cid) if self.ledger is not None else None
        for profile in profiles:
            if profile.name not in applicable:
                conv.profiles.append(
                    ProfileResult(profile.name, False, "out of scope", _why_out(profile, conv, doc))
                )
                continue
            if attributes is None and (profile.name, "audio") not in statuses:
                attributes = self._conversation_attributes(cid)
            conv.profiles.append(self._profile(conv, profile.name, statuses, attributes or {}, job))
        return conv

    def _profile(
        self,
        conv: ConversationResult,
        name: str,
        statuses: dict[tuple[str, str], tuple[str, str]],
        attributes: dict[str, str],
        job: Job | None,
    ) -> ProfileResult:
        cid = conv.conversation_id
        written = attributes.get(status_key(name, "audio", "status"), "")
        ledger_audio = statuses.get((name, "audio"))
        ledger_transcript = statuses.get((name, "transcript"))
        audio = ledger_audio[0] if ledger_audio else written
        detail = ledger_audio[1] if ledger_audio else ""
        result = ProfileResult(
            name,
            True,
            "not exported",
            audio_status=audio,
            transcript_status=(
                ledger_transcript[0]
                if ledger_transcript
                else attributes.get(status_key(name, "transcript", "status"), "")
            ),
            written_back=written,
            source="ledger" if ledger_audio else "Genesys Cloud" if written else "",
        )
        if self.ledger is not None:
            result.files = sorted(
                o.path.replace("\\", "/").rsplit("/", 1)[-1]
                for o in self.ledger.outputs(cid, name)
                if o.status == "written" and o.path
            )
        if not result.files and attributes.get(status_key(name, "audio", "files")):
            result.files = [f for f in attributes[status_key(name, "audio", "files")].split(";") if f]
        if audio == "exported":
            result.outcome = "exported"
            if conv.recording == "":
                conv.recording = "recorded"
        elif audio == "failed":
            result.outcome = "failed"
            cause = detail or (job.last_error if job is not None else "") or "see the service log"
            result.reason = f"export failed: {cause}"
        elif job is not None and job.state in UNFINISHED_JOBS:
            result.outcome = "pending"
            result.reason = f"the export is {job.state}" + (
                f" ({job.park_reason})" if job.park_reason else ""
            )
        elif audio == "pending":
            result.outcome = "pending"
            result.reason = "the export was still waiting when its status was written back"
        elif audio == "skipped" and _says_not_recorded(detail):
            result.outcome, result.reason = "not recorded", detail or "the call was not recorded"
            conv.recording = conv.recording or "not recorded"
        elif audio == "skipped" and detail:
            result.outcome, result.reason = "not exported", f"skipped: {detail}"
        elif job is not None and job.state == "failed" and not audio:
            result.outcome = "failed"
            result.reason = f"export failed: {job.last_error or 'see the service log'}"
        else:
            result.outcome, result.reason = self._recording_reason(conv, audio)
        return result

    def _recording_reason(self, conv: ConversationResult, status: str) -> tuple[str, str]:
        """No status says why: ask Genesys about the recordings themselves."""
        state = conv.recording or self._recording_state(conv.conversation_id)
        conv.recording = state
        if state == "not recorded":
            return "not recorded", "Genesys Cloud has no recording of this conversation"
        if state == "deleted":
            return "recording unavailable", "the recording was deleted (retention policy or by hand)"
        if state == "archived":
            return (
                "recording unavailable",
                "the recording is archived: restore it in Genesys Cloud, then run backfill",
            )
        if status == "skipped":
            return "not exported", "skipped (no detail recorded)"
        return "not exported", "never exported by the service: run backfill for this day"

    def _recording_state(self, cid: str) -> str:
        self._requests += 1
        try:
            metadata = [m for m in self.client.get_recording_metadata(cid) if isinstance(m, dict)]
        except NotFound:
            metadata = []
        audio = [m for m in metadata if str(m.get("media") or "audio").lower() == "audio"]
        if not audio:
            return "not recorded"
        states = {str(m.get("fileState")) for m in audio}
        if states <= {"DELETED"}:
            return "deleted"
        if states <= {"ARCHIVED", "DELETED"}:
            return "archived"
        return "recorded"

    def _conversation_attributes(self, cid: str) -> dict[str, str]:
        self._requests += 1
        try:
            conversation = self.client.get_conversation(cid)
        except NotFound:
            return {}
        out: dict[str, str] = {}
        for participant in conversation.get("participants") or []:
            out.update({str(k): str(v) for k, v in (participant.get("attributes") or {}).items()})
        return out


def _says_not_recorded(detail: str) -> bool:
    text = detail.lower()
    return "no recording" in text or "not recorded" in text


def _why_out(profile: Profile, conv: ConversationResult, doc: dict[str, Any]) -> str:
    wanted = {q.casefold() for q in profile.queues}
    if any(q.casefold() in wanted for q in conv.queues) and profile.require_agent_participant:
        if not has_agent_participant(doc):
            return "no agent took part (RequireAgentParticipant)"
    return f"queue {', '.join(conv.queues) or '(none)'} is not one of the profile's queues"
