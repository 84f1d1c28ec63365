"""Where each participant segment of a conversation lies on one recording's media timeline.

Input: the conversation details (participants -> sessions -> segments, absolute ISO times) and one
`Recording` (its `startTime`/`endTime` and its annotations). Genesys Cloud cuts some stretches out of
the media: pause annotations (reasons `SecurePause`, `FlowOrQueue`, `Pause`, and `Hold` when the trunk
does not record holds); `audio.annotations` decides which, and builds the `audio.timemap.MediaClock`.
The plan maps every segment through that clock, filters by participant purpose and segment type (the
export is the intersection; empty = all), and is plain data that serialises to JSON (the
`--segments PLAN.json` file of `python run.py audio convert`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from audio.annotations import epoch_ms as epoch_ms
from audio.annotations import media_clock as media_clock
from audio.timemap import Gap, MediaClock

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedSegment:
    """One participant segment, placed on the recording's media timeline (seconds)."""

    participant_id: str
    participant_name: str
    purpose: str
    segment_type: str
    ordinal: int
    """1-based position of this segment in the plan (time order): unique within a recording."""
    media_start: float
    media_end: float
    wall_start_ms: int = 0
    wall_end_ms: int = 0

    @property
    def duration(self) -> float:
        return self.media_end - self.media_start

    @property
    def title(self) -> str:
        """Chapter title: participant and segment type."""
        name = self.participant_name or self.purpose
        return f"{name} ({self.purpose}) - {self.segment_type}"


@dataclass(frozen=True)
class SegmentPlan:
    """The segments of one recording that an export keeps, in time order."""

    conversation_id: str
    recording_id: str
    clock: MediaClock
    media_duration: float
    segments: tuple[PlannedSegment, ...]

    def to_json(self) -> str:
        return json.dumps(
            {
                "conversationId": self.conversation_id,
                "recordingId": self.recording_id,
                "startEpochMs": self.clock.start_epoch_ms,
                "gaps": [
                    {"wallStartMs": g.wall_start_ms, "durationMs": g.duration_ms} for g in self.clock.gaps
                ],
                "mediaDuration": self.media_duration,
                "segments": [asdict(s) for s in self.segments],
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> SegmentPlan:
        doc = json.loads(text)
        try:
            clock = MediaClock(
                int(doc["startEpochMs"]),
                tuple(Gap(int(g["wallStartMs"]), int(g["durationMs"])) for g in doc.get("gaps", [])),
            )
            segments = tuple(PlannedSegment(**s) for s in doc.get("segments", []))
            return cls(
                str(doc.get("conversationId", "")),
                str(doc.get("recordingId", "")),
                clock,
                float(doc["mediaDuration"]),
                segments,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a segment plan: {exc}") from exc

    @classmethod
    def load(cls, path: Path) -> SegmentPlan:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


def wall_span_to_media(clock: MediaClock, start_ms: float, end_ms: float) -> tuple[float, float] | None:
    """Media span (seconds) of what the recording kept of a wall-clock span; None if nothing.

    Like `MediaClock.span_to_media`, but an end that falls exactly on the start of a gap maps to that
    point of the media (MediaClock treats the gap's first millisecond as inside it and gives None, which
    would drop a segment that ends where a suppressed IVR stretch begins).
    """
    gaps = sorted(clock.gaps, key=lambda g: g.wall_start_ms)
    for gap in gaps:
        if gap.wall_start_ms <= start_ms < gap.wall_start_ms + gap.duration_ms:
            start_ms = gap.wall_start_ms + gap.duration_ms
    for gap in reversed(gaps):
        if gap.wall_start_ms < end_ms <= gap.wall_start_ms + gap.duration_ms:
            end_ms = gap.wall_start_ms
    if end_ms <= start_ms:
        return None

    def media(t: float) -> float:
        removed = sum(g.duration_ms for g in gaps if g.wall_start_ms + g.duration_ms <= t)
        return (t - clock.start_epoch_ms - removed) / 1000.0

    return max(media(start_ms), 0.0), media(end_ms)


def recording_media_duration(recording: dict, clock: MediaClock) -> float:
    """Media length implied by the recording's start, end and cuts (seconds)."""
    end = recording.get("endTime")
    if not end:
        return 0.0
    wall = epoch_ms(end) - clock.start_epoch_ms
    return max(0.0, (wall - sum(g.duration_ms for g in clock.gaps)) / 1000.0)


def plan_segments(
    details: dict,
    recording: dict,
    *,
    purposes: tuple[str, ...] | list[str] = (),
    segment_types: tuple[str, ...] | list[str] = (),
    media_duration_s: float | None = None,
) -> SegmentPlan:
    """Place the conversation's voice segments on `recording`'s media timeline, filtered.

    A segment is kept when its participant's purpose is in `purposes` and its type in `segment_types`
    (each empty = all) and some of it lies in the recording's media. Times are clamped to the media.
    `media_duration_s` is the decoded media's length when known (see `audio.annotations`).
    """
    clock = media_clock(recording, media_duration_s=media_duration_s)
    duration = recording_media_duration(recording, clock)
    want_purposes = {p.lower() for p in purposes}
    want_types = {t.lower() for t in segment_types}
    found: list[PlannedSegment] = []
    for participant in details.get("participants") or []:
        purpose = str(participant.get("purpose", "")).lower()
        if want_purposes and purpose not in want_purposes:
            continue
        for session in participant.get("sessions") or []:
            if str(session.get("mediaType", "voice")).lower() != "voice":
                continue
            for seg in session.get("segments") or []:
                seg_type = str(seg.get("segmentType", "")).lower()
                if want_types and seg_type not in want_types:
                    continue
                if "segmentStart" not in seg or "segmentEnd" not in seg:
                    continue
                wall0, wall1 = epoch_ms(seg["segmentStart"]), epoch_ms(seg["segmentEnd"])
                span = wall_span_to_media(clock, wall0, wall1)
                if span is None:
                    continue
                start, end = max(0.0, span[0]), span[1]
                if duration > 0:
                    end = min(end, duration)
                if end - start < 0.001:
                    continue
                found.append(
                    PlannedSegment(
                        participant_id=str(participant.get("participantId", "")),
                        participant_name=str(participant.get("participantName") or ""),
                        purpose=purpose,
                        segment_type=seg_type,
                        ordinal=0,
                        media_start=round(start, 3),
                        media_end=round(end, 3),
                        wall_start_ms=wall0,
                        wall_end_ms=wall1,
                    )
                )
    found.sort(key=lambda s: (s.media_start, s.media_end, s.participant_id))
    segments = tuple(PlannedSegment(**{**asdict(s), "ordinal": i}) for i, s in enumerate(found, start=1))
    return SegmentPlan(
        conversation_id=str(details.get("conversationId", recording.get("conversationId", ""))),
        recording_id=str(recording.get("id", "")),
        clock=clock,
        media_duration=duration,
        segments=segments,
    )


def resolve_overlaps(
    segments: tuple[PlannedSegment, ...] | list[PlannedSegment],
) -> list[tuple[PlannedSegment, float, float]]:
    """Non-overlapping (segment, start, end) pieces in time order; where segments overlap the longest wins.

    Each segment, longest first, claims what is still unclaimed of its span; a shorter segment keeps
    only the parts no longer one covers (and disappears if it is covered entirely).
    """
    claimed: list[tuple[float, float]] = []
    pieces: list[tuple[PlannedSegment, float, float]] = []
    for seg in sorted(segments, key=lambda s: (-s.duration, s.media_start, s.ordinal)):
        free = [(seg.media_start, seg.media_end)]
        for a, b in claimed:
            nxt = []
            for x, y in free:
                if b <= x or a >= y:
                    nxt.append((x, y))
                    continue
                if x < a:
                    nxt.append((x, a))
                if b < y:
                    nxt.append((b, y))
            free = nxt
        for x, y in free:
            if y - x >= 0.001:
                pieces.append((seg, x, y))
                claimed.append((x, y))
    pieces.sort(key=lambda p: p[1])
    return pieces


def chapter_spans(
    segments: Sequence[PlannedSegment], duration: float
) -> list[tuple[str, float, float, PlannedSegment]]:
    """One chapter per segment on a whole-recording timeline: (title, start, end, segment), in order.

    Segments nest (the customer's segment spans the IVR, the queue and the agent's), so at every
    instant the segment that began most recently is the one the listener is in. Chapters cover the
    file from 0 to `duration` without gaps (a chapter-aware player needs the first to start at 0), so a
    stretch with no segment belongs to the chapter before it.
    """
    segs = [s for s in segments if s.media_end > s.media_start and s.media_start < duration]
    if not segs or duration <= 0:
        return []
    bounds = sorted(
        {
            0.0,
            duration,
            *(min(s.media_start, duration) for s in segs),
            *(min(s.media_end, duration) for s in segs),
        }
    )
    chapters: list[list] = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        if b - a <= 0:
            continue
        active = [s for s in segs if s.media_start <= a and s.media_end >= b]
        if active:
            # innermost first; on a tie the internal party (agent, IVR, queue) names the chapter
            seg = max(
                active, key=lambda s: (s.media_start, -s.media_end, s.purpose != "customer", -s.ordinal)
            )
        elif chapters:
            seg = chapters[-1][3]
        else:
            seg = min(segs, key=lambda s: s.media_start)
        if chapters and chapters[-1][3] is seg:
            chapters[-1][2] = b
        else:
            chapters.append([seg.title, a, b, seg])
    return [(t, round(a, 3), round(b, 3), s) for t, a, b, s in chapters]
