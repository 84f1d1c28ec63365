"""A recording's timeline from its annotations: which wall-clock stretches are missing from the media.

Genesys Cloud's `Annotation` model (PureCloudPlatformClientV2 `Annotation`):

* `reason` is "Reason for a *pause* annotation", one of `Hold`, `SecurePause`, `FlowOrQueue`, `Pause`:
  an annotation with a reason marks a stretch during which the recording was paused. Annotations
  without a reason (bookmarks and the like) say nothing about the media and are ignored here.
* `realtimeLocation` is the offset from the start of the recording *before* removing the pauses that
  came earlier (the wall clock); `absoluteLocation` the offset *after* removing all pauses (the media);
  `location` the plain offset (read as a media offset when it is all there is).
* `durationMs` is the annotated stretch's length on the wall clock; `absoluteDurationMs` its length
  after removing the pauses, i.e. how much of it is in the media (0 for a stretch cut out entirely).

Which pauses are cut depends on the org's settings. A secure pause always stops capture; suppressed IVR
and queue audio (`FlowOrQueue`) is cut; hold is cut only when the trunk's "Holds" recording is turned
off (Genesys Cloud help, "Call recording in Genesys Cloud overview": "To suppress recording when the
call is on hold, disable Holds ..."), otherwise the hold (music) is recorded. So for each pause:

1. `absoluteDurationMs` given: the media keeps that much of it, the rest is cut;
2. otherwise a `SecurePause`, `FlowOrQueue` or `Pause` reason is cut whole;
3. otherwise (a `Hold` pause that does not say) the media's real length decides: the holds are cut when
   the media is as long as the wall span minus every cut including the holds, and recorded when it is
   as long as the wall span minus the other cuts. The media length is the decoded file's (the DSP
   worker knows it) or the recording's `outputDurationMs`. Without either, a `Hold` pause is taken as
   cut, as the SDK calls it a pause, and an INFO line says so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from audio.timemap import Gap, MediaClock

logger = logging.getLogger(__name__)

PAUSE_REASONS = frozenset({"Hold", "SecurePause", "FlowOrQueue", "Pause"})
"""`Annotation.reason` values (SDK): each marks a pause annotation."""

ALWAYS_CUT_REASONS = frozenset({"SecurePause", "FlowOrQueue", "Pause"})
"""Pauses whose stretch is never in the media (capture stops)."""

LENGTH_TOLERANCE_MS = 250
"""How far the media's length may be from the length a hold interpretation predicts (encoders pad)."""


def epoch_ms(value: str | int | float) -> int:
    """Epoch milliseconds of an ISO-8601 instant (as Genesys writes them) or of a number."""
    if isinstance(value, int | float):
        return int(value)
    return int(round(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000))


@dataclass(frozen=True)
class Pause:
    """One pause annotation, on the wall clock (ms from the recording's start)."""

    reason: str
    wall_offset_ms: int
    wall_duration_ms: int
    media_duration_ms: int | None
    """`absoluteDurationMs`: how much of the stretch is in the media; None when not given."""

    @property
    def cut_ms(self) -> int | None:
        """Milliseconds of this stretch absent from the media; None when only the media length can say."""
        if self.media_duration_ms is not None:
            return max(0, self.wall_duration_ms - self.media_duration_ms)
        if self.reason in ALWAYS_CUT_REASONS:
            return self.wall_duration_ms
        return None


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def pauses(recording: Mapping[str, Any]) -> list[Pause]:
    """The recording's pause annotations in time order, placed on the wall clock."""
    raw = [
        a
        for a in recording.get("annotations") or []
        if isinstance(a, Mapping)
        and a.get("reason") in PAUSE_REASONS
        and (_int(a.get("durationMs")) or 0) > 0
    ]

    def media_at(a: Mapping[str, Any]) -> int:
        value = _int(a.get("absoluteLocation"))
        return value if value is not None else _int(a.get("location")) or 0

    out: list[Pause] = []
    removed = 0  # ms cut before the current annotation (media offset -> wall offset)

    def order(a: Mapping[str, Any]) -> int:
        realtime = _int(a.get("realtimeLocation"))
        return realtime if realtime is not None else media_at(a)

    ordered = sorted(raw, key=order)
    for a in ordered:
        wall_duration = int(a["durationMs"])
        realtime = _int(a.get("realtimeLocation"))
        offset = realtime if realtime is not None else media_at(a) + removed
        pause = Pause(str(a["reason"]), offset, wall_duration, _int(a.get("absoluteDurationMs")))
        out.append(pause)
        removed += pause.cut_ms if pause.cut_ms is not None else wall_duration
    return out


def media_length_ms(recording: Mapping[str, Any], media_duration_s: float | None = None) -> int | None:
    """The media's real length: the decoded file's, else the recording's `outputDurationMs`."""
    if media_duration_s is not None and media_duration_s > 0:
        return int(round(media_duration_s * 1000))
    value = _int(recording.get("outputDurationMs"))
    return value if value and value > 0 else None


def holds_are_cut(
    recording: Mapping[str, Any], found: list[Pause], media_ms: int | None, label: str = ""
) -> bool:
    """Whether the `Hold` pauses that do not give their media duration are cut from the media."""
    open_holds = [p for p in found if p.cut_ms is None]
    if not open_holds:
        return False
    held = sum(p.wall_duration_ms for p in open_holds)
    start, end = recording.get("startTime"), recording.get("endTime")
    if media_ms is not None and start and end:
        wall = epoch_ms(end) - epoch_ms(start)
        other_cuts = sum(p.cut_ms or 0 for p in found)
        recorded, suppressed = wall - other_cuts, wall - other_cuts - held
        if abs(media_ms - suppressed) < abs(media_ms - recorded):
            if abs(media_ms - suppressed) > max(LENGTH_TOLERANCE_MS, held // 2):
                logger.warning(
                    "%s: media is %d ms, neither %d (hold recorded) nor %d (hold cut); taking hold as cut",
                    label or "recording",
                    media_ms,
                    recorded,
                    suppressed,
                )
            return True
        return False
    logger.info(
        "%s: %d hold pause(s) without absoluteDurationMs and no media length; taking them as cut from the media",
        label or "recording",
        len(open_holds),
    )
    return True


def media_clock(recording: Mapping[str, Any], *, media_duration_s: float | None = None) -> MediaClock:
    """The recording's `MediaClock`: its start and the wall-clock stretches absent from its media.

    `media_duration_s` is the decoded media's length when known (it settles holds that do not say
    whether they were recorded).
    """
    start = epoch_ms(recording["startTime"])
    label = f"conversation {recording.get('conversationId', '?')} recording {recording.get('id', '?')}"
    found = pauses(recording)
    cut_holds = holds_are_cut(recording, found, media_length_ms(recording, media_duration_s), label)
    gaps: list[Gap] = []
    for p in found:
        cut = p.cut_ms if p.cut_ms is not None else (p.wall_duration_ms if cut_holds else 0)
        if cut <= 0:
            continue
        kept = p.wall_duration_ms - cut  # a partly kept stretch: its start is in the media, the rest cut
        gaps.append(Gap(start + p.wall_offset_ms + kept, cut))
    return MediaClock(start, tuple(gaps))
