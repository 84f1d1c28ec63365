"""The template context: every placeholder's value for one output file, from Genesys Cloud's own JSON.

``build_context`` reads the analytics conversation details, and optionally the recording, the STA
transcript document, the REST conversation (for customer participant ``attributes``) and name lookups.
Values that change per call of a template (``Now``, ``NewGuid``, ``RandomNumber``, ``SequenceNumber``)
are drawn lazily, once per context, so a sequence number is only consumed when a template uses it and
the same file name never mixes two values.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from typing import Any, Protocol

from storage.functions import Value
from storage.placeholders import ATTRIBUTE_PREFIX, MISSING_TEXT, PLACEHOLDERS
from storage.timezones import parse_time_zone, parse_timestamp

logger = logging.getLogger(__name__)

CUSTOMER_PURPOSES = ("customer", "external")
AGENT_PURPOSES = ("agent", "user")


class SequenceSource(Protocol):
    """Hands out a profile's sequence numbers (``storage.sequence.SequenceStore.source``)."""

    def next_value(self) -> int: ...


class ProfileLike(Protocol):
    """What a template context reads of a profile (`profiles.model.Profile`, a frozen dataclass)."""

    @property
    def name(self) -> str: ...
    @property
    def time_zone_offset(self) -> str: ...


@dataclass
class TemplateContext:
    """Placeholder values for one output file; renders through ``storage.templates.render``."""

    values: dict[str, Value]
    attributes: dict[str, str]
    tz: tzinfo
    lazy: dict[str, Callable[[], Value]] = field(default_factory=dict)
    _drawn: dict[str, Value] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def value(self, name: str) -> Value:
        if name.startswith(ATTRIBUTE_PREFIX):
            key = name[len(ATTRIBUTE_PREFIX) :]
            if key in self.attributes:
                return self.attributes[key]
            folded = {k.casefold(): v for k, v in self.attributes.items()}
            return folded.get(key.casefold())
        if name in self.lazy:
            with self._lock:
                if name not in self._drawn:
                    self._drawn[name] = self.lazy[name]()
                return self._drawn[name]
        return self.values.get(name)

    def fallback(self, name: str) -> Value:
        spec = PLACEHOLDERS.get(name)
        seen: set[str] = set()
        while spec is not None and spec.type == "time" and spec.fallback and spec.name not in seen:
            seen.add(spec.name)
            value = self.value(spec.fallback)
            if value is not None:
                return value
            spec = PLACEHOLDERS.get(spec.fallback)
        if spec is not None and spec.type == "number":
            return 0
        return MISSING_TEXT

    def localize(self, moment: datetime) -> datetime:
        """A timestamp shifted to the profile's TimeZoneOffset (DST-aware for IANA zones)."""
        return moment.astimezone(self.tz)

    def bucket_time(self) -> datetime:
        """The time the Hierarchical and Flat modes file a call under (recording start first)."""
        for name in ("Recording.StartTime", "Transcript.StartTime", "Conversation.StartTime"):
            value = self.value(name)
            if isinstance(value, datetime):
                return self.localize(value)
        return self.localize(datetime.now(UTC))

    def with_values(self, **values: Value) -> TemplateContext:
        """A copy with some values replaced (keys use ``_`` for ``.``: ``Recording_Id=...``)."""
        merged = dict(self.values)
        merged.update({key.replace("_", "."): value for key, value in values.items()})
        return replace(self, values=merged, _drawn={}, _lock=threading.Lock())


def _time(value: Any) -> datetime | None:
    try:
        return parse_timestamp(value)
    except (TypeError, ValueError):
        logger.warning("ignoring a timestamp that does not parse: %r", value)
        return None


def _participants(details: Mapping[str, Any], purposes: Iterable[str]) -> list[dict[str, Any]]:
    wanted = tuple(purposes)
    return [p for p in details.get("participants") or [] if str(p.get("purpose", "")).lower() in wanted]


def _segments(participant: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [seg for session in participant.get("sessions") or [] for seg in session.get("segments") or []]


def _first_start(participant: Mapping[str, Any] | None, segment_type: str | None = None) -> datetime | None:
    if not participant:
        return None
    starts = [
        t
        for seg in _segments(participant)
        if segment_type is None or seg.get("segmentType") == segment_type
        if (t := _time(seg.get("segmentStart"))) is not None
    ]
    return min(starts) if starts else None


def _voice_session(participant: Mapping[str, Any] | None) -> dict[str, Any]:
    if not participant:
        return {}
    sessions = participant.get("sessions") or []
    for session in sessions:
        if session.get("mediaType", "voice") == "voice":
            return session
    return sessions[0] if sessions else {}


def _strip_scheme(address: Any) -> str | None:
    if not address:
        return None
    text = str(address)
    for scheme in ("tel:", "sip:", "sips:"):
        if text.lower().startswith(scheme):
            text = text[len(scheme) :]
    return text.split(";", 1)[0] or None


def _pick_agent(details: Mapping[str, Any], recording: Mapping[str, Any] | None) -> dict[str, Any] | None:
    agents = [p for p in _participants(details, AGENT_PURPOSES) if p.get("userId")]
    if recording:
        user_ids = {u.get("id") for u in recording.get("users") or [] if isinstance(u, Mapping)}
        for agent in agents:
            if agent.get("userId") in user_ids:
                return agent
    for agent in agents:
        if _first_start(agent, "interact") is not None:
            return agent
    return agents[0] if agents else None


def _queue_id(agent: Mapping[str, Any] | None, acd: Mapping[str, Any] | None) -> str | None:
    for participant in (agent, acd):
        for seg in _segments(participant or {}):
            if seg.get("queueId"):
                return str(seg["queueId"])
    return None


def _customer_attributes(
    details: Mapping[str, Any], conversation: Mapping[str, Any] | None
) -> dict[str, str]:
    attributes: dict[str, str] = {}
    sources = _participants(details, CUSTOMER_PURPOSES)
    if conversation:
        sources += _participants(conversation, CUSTOMER_PURPOSES)
    for participant in sources:  # REST conversation last: it wins
        for key, value in (participant.get("attributes") or {}).items():
            if value is not None:
                attributes[str(key)] = str(value)
    return attributes


def build_context(
    *,
    details: Mapping[str, Any],
    profile: ProfileLike,
    recording: Mapping[str, Any] | None = None,
    transcript: Mapping[str, Any] | None = None,
    conversation: Mapping[str, Any] | None = None,
    queue_names: Mapping[str, str] | None = None,
    user_names: Mapping[str, Mapping[str, Any]] | None = None,
    flow_names: Mapping[str, str] | None = None,
    file_extension: str = "",
    format_name: str = "",
    sequence: SequenceSource | None = None,
    now: datetime | None = None,
    machine_name: str | None = None,
) -> TemplateContext:
    """Every placeholder's value for one file (see ``storage.placeholders`` for the list)."""
    queue_names = queue_names or {}
    user_names = user_names or {}
    flow_names = flow_names or {}
    customer = next(
        iter(_participants(details, ("customer",)) or _participants(details, CUSTOMER_PURPOSES)), None
    )
    agent = _pick_agent(details, recording)
    acds = _participants(details, ("acd",))
    acd = acds[0] if acds else None
    ivrs = _participants(details, ("ivr",))
    ivr = ivrs[0] if ivrs else None
    queue_id = _queue_id(agent, acd)
    if queue_id and acds:
        acd = next((p for p in acds if queue_id in {s.get("queueId") for s in _segments(p)}), acd)
    flow = (
        next(
            (
                s.get("flow")
                for p in ivrs or details.get("participants") or []
                for s in p.get("sessions") or []
                if s.get("flow")
            ),
            None,
        )
        or {}
    )
    customer_session = _voice_session(customer)
    direction = customer_session.get("direction") or details.get("originatingDirection")
    other = (
        customer_session.get("dnis") if str(direction).lower() == "outbound" else customer_session.get("ani")
    )
    agent_id = agent.get("userId") if agent else None
    agent_user = user_names.get(agent_id or "", {})

    recording = recording or {}
    rec_users = [u for u in recording.get("users") or [] if isinstance(u, Mapping)]
    rec_user = dict(rec_users[0]) if rec_users else {}
    if rec_user.get("id") in user_names:
        rec_user = {**user_names[rec_user["id"]], **{k: v for k, v in rec_user.items() if v}}

    transcript = transcript or {}
    inner = (transcript.get("transcripts") or [{}])[0] or {}
    flow_id = flow.get("flowId")

    values: dict[str, Value] = {
        "Conversation.Id": details.get("conversationId") or recording.get("conversationId"),
        "Conversation.StartTime": _time(details.get("conversationStart")),
        "Conversation.EndTime": _time(details.get("conversationEnd")),
        "Agent.Name": agent_user.get("name") or (agent or {}).get("participantName"),
        "Agent.Id": agent_id,
        "Agent.Username": agent_user.get("username") or agent_user.get("email"),
        "Agent.ConnectTime": _first_start(agent, "interact") or _first_start(agent),
        "Customer.Name": (customer or {}).get("participantName"),
        "Customer.Id": (customer or {}).get("participantId"),
        "Customer.ConnectTime": _first_start(customer),
        "Acd.Name": queue_names.get(queue_id or "") or None,
        "Acd.Id": queue_id,
        "Acd.ConnectTime": _first_start(acd),
        "Ivr.Name": flow.get("flowName") or flow_names.get(flow_id or "") or None,
        "Ivr.Id": flow_id,
        "Ivr.ConnectTime": _first_start(ivr),
        "CustomerCall.Direction": str(direction).lower() if direction else None,
        "CustomerCall.Other.Name": _strip_scheme(other),
        "Recording.Id": recording.get("id"),
        "Recording.StartTime": _time(recording.get("startTime")),
        "Recording.EndTime": _time(recording.get("endTime")),
        "Recording.MediaSubtype": recording.get("mediaSubtype"),
        "Recording.MediaSubject": recording.get("mediaSubject"),
        "Recording.User.Name": rec_user.get("name"),
        "Recording.User.Username": rec_user.get("username") or rec_user.get("email"),
        "Transcript.Id": inner.get("transcriptId"),
        "Transcript.StartTime": _time(transcript.get("startTime") or inner.get("startTime")),
        "Transcript.CommunicationId": transcript.get("communicationId"),
        "FileExtension": file_extension.lstrip(".") or None,
        "FormatName": format_name or None,
        "Profile.Name": profile.name,
        "MachineName": machine_name or socket.gethostname(),
    }
    lazy: dict[str, Callable[[], Value]] = {
        "Now": (lambda: now) if now is not None else (lambda: datetime.now(UTC)),
        "NewGuid": lambda: str(uuid.uuid4()),
        "RandomNumber": lambda: random.SystemRandom().randint(0, 999_999),
    }
    if sequence is not None:
        lazy["SequenceNumber"] = sequence.next_value
    return TemplateContext(
        values=values,
        attributes=_customer_attributes(details, conversation),
        tz=parse_time_zone(profile.time_zone_offset),
        lazy=lazy,
    )
