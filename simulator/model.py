"""The truth of a simulated call: participants, segments, recordings, speech and sounds.

Every time is an absolute wall-clock instant in epoch milliseconds (like analytics details and
STA transcripts). Everything is frozen: a `Call` is generated once (`simulator.scenarios`) and then
rendered into documents, audio and transcripts by other modules, any number of times.

Vocabulary:

* A participant's `segments` use the analytics vocabulary (`system`, `ivr`, `delay`, `interact`,
  `alert`, `hold`, `wrapup`) and camelCase analytics disconnect types (`client`, `peer`,
  `transfer`, `consultTransfer`, ...). The agent's `wrapup` segment runs from the moment the agent
  left the call to `wrapup_submitted_ms`.
* `side` is `external` (customer) or `internal` (agents, IVR, queue and hold audio), the same words
  as the transcript's `participantPurpose` and `audio.channels`.
* `scope` says which conversation leg a sound or utterance belongs to: `main` (what the customer
  hears and says: the trunk recording) or `consult` (agent-to-agent during a consult transfer, heard
  only in the consult recording).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

WRAPUP_TIMEOUT_CODE = "ININ-WRAP-UP-TIMEOUT"


@dataclass(frozen=True)
class Segment:
    segment_type: str
    start_ms: int
    end_ms: int
    queue_id: str | None = None
    disconnect_type: str | None = None
    wrap_up_code: str | None = None
    conference: bool = False


@dataclass(frozen=True)
class Participant:
    participant_id: str
    purpose: str
    name: str
    communication_id: str
    address: str
    direction: str
    segments: tuple[Segment, ...]
    user_id: str | None = None
    queue_id: str | None = None
    flow_id: str | None = None
    wrapup_required: bool = False
    wrapup_submitted_ms: int | None = None
    wrapup_code: str | None = None
    wrapup_prompt: str | None = None
    wrapup_timeout_ms: int | None = None
    attributes: Mapping[str, str] = field(default_factory=dict, hash=False)
    ani: str = ""
    dnis: str = ""
    consult_participant_id: str | None = None

    @property
    def start_ms(self) -> int:
        return self.segments[0].start_ms

    @property
    def end_ms(self) -> int:
        """When this participant left the call (wrap-up is after this)."""
        return max(s.end_ms for s in self.segments if s.segment_type != "wrapup")

    @property
    def connected_ms(self) -> int | None:
        for s in self.segments:
            if s.segment_type in ("interact", "ivr", "system", "delay", "hold"):
                return s.start_ms
        return None

    @property
    def disconnect_type(self) -> str | None:
        """Analytics (camelCase) disconnect type of the last media segment."""
        media = [s for s in self.segments if s.segment_type != "wrapup"]
        return media[-1].disconnect_type if media else None

    @property
    def wrapup_timed_out(self) -> bool:
        return self.wrapup_code == WRAPUP_TIMEOUT_CODE

    def segment_at(self, at_ms: int) -> Segment | None:
        for s in self.segments:
            if s.start_ms <= at_ms < s.end_ms:
                return s
        return None

    def spans(self, segment_type: str) -> list[tuple[int, int]]:
        return [(s.start_ms, s.end_ms) for s in self.segments if s.segment_type == segment_type]


@dataclass(frozen=True)
class Word:
    text: str
    start_ms: int
    end_ms: int
    confidence: float


@dataclass(frozen=True)
class Utterance:
    side: str
    participant_id: str
    start_ms: int
    end_ms: int
    text: str
    words: tuple[Word, ...]
    confidence: float
    scope: str = "main"
    voice: int = 0
    """Index of the voice that speaks it (pitch/formants in the synthetic audio)."""


@dataclass(frozen=True)
class Sound:
    """Non-speech audio: `ivr_prompt`, `queue_music`, `hold_music`, `beep`."""

    kind: str
    start_ms: int
    end_ms: int
    side: str = "internal"
    scope: str = "main"


@dataclass(frozen=True)
class RecordingGap:
    """A wall-clock stretch cut out of a recording's media (suppressed IVR/queue, secure pause)."""

    wall_start_ms: int
    duration_ms: int
    reason: str

    @property
    def wall_end_ms(self) -> int:
        return self.wall_start_ms + self.duration_ms


@dataclass(frozen=True)
class Recording:
    recording_id: str
    subtype: str
    start_ms: int
    end_ms: int
    layout: str
    """`dual` (two channels), `external` or `internal` (mono, one side only)."""
    user_ids: tuple[str, ...]
    session_id: str
    gaps: tuple[RecordingGap, ...] = ()
    scope: str = "main"
    holds: tuple[tuple[int, int], ...] = ()
    """Wall-clock hold spans inside the recording (annotated with reason `Hold`)."""
    channel_layout: str = "standard"
    """Which channel carries whom (`simulator.recording_variants`): `standard` (dual: the customer on
    `audio.channels.EXTERNAL_CHANNEL`; mono: the one side of `layout`), `swapped` (dual: the other way
    round) or `mixed` (every channel carries the whole call, its own side louder)."""

    @property
    def channels(self) -> int:
        return 2 if self.layout == "dual" else 1

    @property
    def sides(self) -> tuple[str, ...]:
        """The call sides heard in the recording (not their channel order)."""
        if self.layout == "dual" or self.channel_layout == "mixed":
            return ("external", "internal")
        return (self.layout,)

    @property
    def media_duration_ms(self) -> int:
        return self.end_ms - self.start_ms - sum(g.duration_ms for g in self.gaps)

    def wall_to_media_ms(self, wall_ms: int) -> int | None:
        """Media offset (ms) of a wall-clock instant; None when it falls in a gap or outside."""
        if wall_ms < self.start_ms or wall_ms > self.end_ms:
            return None
        removed = 0
        for g in self.gaps:
            if wall_ms < g.wall_start_ms:
                break
            if wall_ms < g.wall_end_ms:
                return None
            removed += g.duration_ms
        return wall_ms - self.start_ms - removed

    def media_pieces(self) -> list[tuple[int, int, int]]:
        """Kept wall-clock pieces as (wall_start_ms, wall_end_ms, media_start_ms)."""
        pieces: list[tuple[int, int, int]] = []
        cursor, media = self.start_ms, 0
        for g in self.gaps:
            if g.wall_start_ms > cursor:
                pieces.append((cursor, g.wall_start_ms, media))
                media += g.wall_start_ms - cursor
            cursor = max(cursor, g.wall_end_ms)
        if self.end_ms > cursor:
            pieces.append((cursor, self.end_ms, media))
        return pieces

    def wall_span_to_media(self, start_ms: int, end_ms: int) -> list[tuple[int, int]]:
        """Media spans (ms) of what is kept of a wall-clock span."""
        out = []
        for w0, w1, m0 in self.media_pieces():
            a, b = max(start_ms, w0), min(end_ms, w1)
            if b > a:
                out.append((m0 + a - w0, m0 + b - w0))
        return out


@dataclass(frozen=True)
class Call:
    conversation_id: str
    kind: str
    start_ms: int
    end_ms: int
    direction: str
    participants: tuple[Participant, ...]
    recordings: tuple[Recording, ...]
    utterances: tuple[Utterance, ...]
    sounds: tuple[Sound, ...]
    transcript_available: bool
    customer_attributes: Mapping[str, str] = field(hash=False)
    ani: str
    dnis: str
    queue_name: str | None
    division_id: str
    language: str = "en-US"
    audio_seed: int = 0
    transcript_ids: Mapping[str, str] = field(default_factory=dict, hash=False)
    """communication id -> transcript id (one STA transcript per transcribed communication)."""

    def agents(self) -> list[Participant]:
        return [p for p in self.participants if p.purpose == "agent"]

    def customer(self) -> Participant:
        for p in self.participants:
            if p.purpose in ("customer", "external") and p.user_id is None:
                return p
        raise LookupError(f"call {self.conversation_id} has no customer participant")

    def participant(self, participant_id: str) -> Participant:
        for p in self.participants:
            if p.participant_id == participant_id:
                return p
        raise KeyError(f"call {self.conversation_id} has no participant {participant_id!r}")

    def queue_ids(self) -> list[str]:
        """Queues the conversation touched, in order of first appearance."""
        out: list[str] = []
        for p in self.participants:
            for qid in [p.queue_id, *(s.queue_id for s in p.segments)]:
                if qid and qid not in out:
                    out.append(qid)
        return out

    def wrapup_done_ms(self) -> int:
        """The instant the last required wrap-up is submitted (or `end_ms` if none is required)."""
        done = self.end_ms
        for p in self.agents():
            if p.wrapup_required and p.wrapup_submitted_ms is not None:
                done = max(done, p.wrapup_submitted_ms)
        return done

    def last_event_ms(self) -> int:
        """The last state change of the conversation, including optional wrap-ups."""
        instants = [self.end_ms] + [p.wrapup_submitted_ms for p in self.agents() if p.wrapup_submitted_ms]
        return max(instants)

    def speech_spans(self, side: str, scope: str = "main") -> list[tuple[int, int]]:
        """Wall-clock spans in which someone on `side` speaks (overlapping spans merged)."""
        spans = sorted((u.start_ms, u.end_ms) for u in self.utterances if u.side == side and u.scope == scope)
        merged: list[tuple[int, int]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        return merged

    def recording(self, recording_id: str) -> Recording:
        for r in self.recordings:
            if r.recording_id == recording_id:
                return r
        raise KeyError(f"call {self.conversation_id} has no recording {recording_id!r}")

    def is_over(self, at_ms: int) -> bool:
        return at_ms >= self.end_ms

    def is_wrapped_up(self, at_ms: int) -> bool:
        return at_ms >= self.wrapup_done_ms()
