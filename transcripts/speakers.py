"""Who is speaking: internal/external become Agent/Customer, or IVR where the timeline says so.

A phrase's `participantPurpose` only says which side of the call spoke. The conversation details
(analytics `participants[].sessions[].segments[]`) say when the IVR flow was talking and which
agent was connected when, and carry the display names; the transcript document's own top-level
`participants[]` carries IVR start/end times too and is the fallback when details are missing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from transcripts.text import clean_text

logger = logging.getLogger(__name__)

AGENT, CUSTOMER, IVR, UNKNOWN = "agent", "customer", "ivr", "unknown"
LABELS = {AGENT: "Agent", CUSTOMER: "Customer", IVR: "IVR", UNKNOWN: "Unknown"}
_IVR_PURPOSES = {"ivr", "botflow", "voicesurveyflow", "workflow"}
_AGENT_PURPOSES = {"agent", "user"}
_CUSTOMER_PURPOSES = {"customer", "external"}


@dataclass(frozen=True)
class Speaker:
    role: str
    """'agent', 'customer', 'ivr' or 'unknown'."""
    name: str | None = None
    """Display name when known (agent's name, customer's name, IVR flow name)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _text(self.name))

    @property
    def label(self) -> str:
        """'Agent', 'Customer', 'IVR' or 'Unknown'."""
        return LABELS[self.role]

    @property
    def display(self) -> str:
        return self.name or self.label


@dataclass(frozen=True)
class Span:
    start_ms: int
    end_ms: int
    name: str | None = None

    def contains(self, t_ms: float) -> bool:
        return self.start_ms <= t_ms < self.end_ms


@dataclass(frozen=True)
class SpeakerInfo:
    """Names and IVR/agent time spans of one conversation."""

    agent_name: str | None = None
    customer_name: str | None = None
    ivr_name: str | None = None
    ivr_spans: tuple[Span, ...] = ()
    agent_spans: tuple[Span, ...] = ()

    def __post_init__(self) -> None:
        for name in ("agent_name", "customer_name", "ivr_name"):
            object.__setattr__(self, name, _text(getattr(self, name)))

    @classmethod
    def from_details(
        cls, details: dict[str, Any] | None, conversation: dict[str, Any] | None = None
    ) -> SpeakerInfo:
        """From analytics conversation details and/or the REST conversation; defaults when missing."""
        agent_names: list[str] = []
        customer_names: list[str] = []
        ivr_spans: list[Span] = []
        agent_spans: list[Span] = []
        for participant in _dicts((details or {}).get("participants")):
            purpose = str(participant.get("purpose") or "").lower()
            name = _text(participant.get("participantName"))
            for session in _dicts(participant.get("sessions")):
                flow = session.get("flow")
                if not isinstance(flow, dict):
                    flow = {}
                flow_name = _text(flow.get("flowName")) or name
                for segment in _dicts(session.get("segments")):
                    start, end = _epoch_ms(segment.get("segmentStart")), _epoch_ms(segment.get("segmentEnd"))
                    if start is None or end is None or end <= start:
                        continue
                    kind = str(segment.get("segmentType") or "").lower()
                    if purpose in _IVR_PURPOSES or (kind == "ivr" and purpose not in _AGENT_PURPOSES):
                        ivr_spans.append(Span(start, end, flow_name if purpose in _IVR_PURPOSES else None))
                    elif purpose in _AGENT_PURPOSES and kind not in ("wrapup",):
                        agent_spans.append(Span(start, end, name))
            if purpose in _AGENT_PURPOSES and name:
                agent_names.append(name)
            elif purpose in _CUSTOMER_PURPOSES and name:
                customer_names.append(name)
        for participant in _dicts((conversation or {}).get("participants")):
            purpose = str(participant.get("purpose") or "").lower()
            name = _text(participant.get("name")) or _text(participant.get("participantName"))
            start, end = _epoch_ms(participant.get("startTime")), _epoch_ms(participant.get("endTime"))
            if purpose in _AGENT_PURPOSES and name:
                agent_names.append(name)
                if start is not None and end is not None and end > start and not agent_spans:
                    agent_spans.append(Span(start, end, name))
            elif purpose in _CUSTOMER_PURPOSES and name:
                customer_names.append(name)
            elif purpose in _IVR_PURPOSES and start is not None and end is not None and end > start:
                if not any(s.start_ms == start for s in ivr_spans):
                    ivr_spans.append(Span(start, end, name))
        ivr_names = [s.name for s in ivr_spans if s.name]
        return cls(
            agent_name=agent_names[0] if agent_names else None,
            customer_name=customer_names[0] if customer_names else None,
            ivr_name=ivr_names[0] if ivr_names else None,
            ivr_spans=tuple(sorted(ivr_spans, key=lambda s: s.start_ms)),
            agent_spans=tuple(sorted(agent_spans, key=lambda s: s.start_ms)),
        )

    @classmethod
    def from_transcript_participants(cls, participants: Iterable[dict[str, Any]]) -> SpeakerInfo:
        """IVR spans from the transcript document's own top-level `participants[]` (no names there)."""
        spans = []
        for participant in participants:
            purpose = str(participant.get("participantPurpose") or "").lower()
            start, end = participant.get("startTimeMs"), participant.get("endTimeMs")
            if purpose in _IVR_PURPOSES and isinstance(start, int | float) and isinstance(end, int | float):
                if end > start:
                    spans.append(Span(round(start), round(end)))
        return cls(ivr_spans=tuple(sorted(spans, key=lambda s: s.start_ms)))

    def with_fallback(self, other: SpeakerInfo) -> SpeakerInfo:
        """This info, with anything it lacks taken from `other`."""
        return SpeakerInfo(
            agent_name=self.agent_name or other.agent_name,
            customer_name=self.customer_name or other.customer_name,
            ivr_name=self.ivr_name or other.ivr_name,
            ivr_spans=self.ivr_spans or other.ivr_spans,
            agent_spans=self.agent_spans or other.agent_spans,
        )

    def speaker_for(self, purpose: str, start_ms: int, end_ms: int) -> Speaker:
        """The speaker of a phrase of this side ('internal'/'external') at this wall-clock time."""
        middle = (start_ms + end_ms) / 2
        if purpose == "external":
            return Speaker(CUSTOMER, self.customer_name)
        if purpose != "internal":
            return Speaker(UNKNOWN)
        for span in self.ivr_spans:
            if span.contains(middle):
                return Speaker(IVR, span.name or self.ivr_name)
        for span in self.agent_spans:
            if span.contains(middle) and span.name:
                return Speaker(AGENT, span.name)
        return Speaker(AGENT, self.agent_name)

    def roles(self) -> dict[str, str | None]:
        """role -> name for the header blocks of the formats that carry names."""
        return {AGENT: self.agent_name, CUSTOMER: self.customer_name, IVR: self.ivr_name}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    cleaned = clean_text(value) if isinstance(value, str) else ""
    return cleaned or None


def _epoch_ms(value: Any) -> int | None:
    """ISO-8601 (as in details) or epoch milliseconds -> epoch milliseconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return round(value)
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        logger.debug("unreadable timestamp %r in conversation details", value)
        return None
    if moment.tzinfo is None:
        return None
    return round(moment.timestamp() * 1000)
