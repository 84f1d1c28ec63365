"""Where a moment of the call ends up in an exported file.

Two steps, shared by the audio engine (which makes the cuts) and the transcript module
(which must follow them so that subtitles stay in sync):

1. `MediaClock`: wall-clock time (epoch milliseconds, as in conversation details and
   transcripts) -> seconds into the recording's decoded media. Stretches that Genesys Cloud
   cut out of the media (secure pauses, suppressed IVR/queue audio) are `gaps`.
2. `TimeMap`: seconds into the recording's media -> seconds into one exported file. An
   export keeps some pieces of the media (segment extraction, concatenation, silence trim)
   and lays them end to end; the identity map keeps everything.

`ExportTimeline` chains both; `ExportTimeline.map_span` is what a transcript cue needs.
All times are floats in seconds unless the name says `_ms`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Gap:
    """A wall-clock stretch that is absent from the recording's media."""

    wall_start_ms: int
    duration_ms: int


@dataclass(frozen=True)
class MediaClock:
    """Maps wall-clock epoch milliseconds to seconds into the recording's media."""

    start_epoch_ms: int
    gaps: tuple[Gap, ...] = ()

    def to_media(self, epoch_ms: float) -> float | None:
        """Media offset of a wall-clock instant; None inside a gap (that audio does not exist)."""
        removed = 0.0
        for gap in sorted(self.gaps, key=lambda g: g.wall_start_ms):
            if epoch_ms <= gap.wall_start_ms:  # the gap's edges are instants of the media (the cut point)
                break
            if epoch_ms < gap.wall_start_ms + gap.duration_ms:
                return None
            removed += gap.duration_ms
        return (epoch_ms - self.start_epoch_ms - removed) / 1000.0

    def span_to_media(self, start_ms: float, end_ms: float) -> tuple[float, float] | None:
        """Media span of a wall-clock span, with ends that fall in a gap moved to its edge."""
        starts = sorted(self.gaps, key=lambda g: g.wall_start_ms)
        for gap in starts:
            if gap.wall_start_ms <= start_ms < gap.wall_start_ms + gap.duration_ms:
                start_ms = gap.wall_start_ms + gap.duration_ms
        for gap in reversed(starts):
            if gap.wall_start_ms < end_ms <= gap.wall_start_ms + gap.duration_ms:
                end_ms = gap.wall_start_ms
        if end_ms <= start_ms:
            return None
        a, b = self.to_media(start_ms), self.to_media(end_ms)
        if a is None or b is None:  # pragma: no cover - ends were moved out of gaps above
            return None
        return max(a, 0.0), b


@dataclass(frozen=True)
class Piece:
    """A kept stretch of media [media_start, media_end) placed at out_start in the export."""

    media_start: float
    media_end: float
    out_start: float

    @property
    def out_end(self) -> float:
        return self.out_start + (self.media_end - self.media_start)


@dataclass(frozen=True)
class TimeMap:
    """Maps media seconds to export seconds through the pieces an export keeps."""

    pieces: tuple[Piece, ...]

    @classmethod
    def identity(cls, duration: float) -> TimeMap:
        return cls((Piece(0.0, duration, 0.0),))

    @classmethod
    def concatenation(cls, spans: list[tuple[float, float]]) -> TimeMap:
        """Keep these media spans (in the given order), laid end to end."""
        pieces, out = [], 0.0
        for start, end in spans:
            if end > start:
                pieces.append(Piece(start, end, out))
                out += end - start
        return cls(tuple(pieces))

    @property
    def duration(self) -> float:
        return max((p.out_end for p in self.pieces), default=0.0)

    def to_output(self, media_t: float) -> float | None:
        for piece in self.pieces:
            if piece.media_start <= media_t <= piece.media_end:
                return piece.out_start + (media_t - piece.media_start)
        return None

    def map_span(self, media_start: float, media_end: float) -> tuple[float, float] | None:
        """Export span covering what is kept of [media_start, media_end]; None if nothing is."""
        outs: list[float] = []
        for piece in self.pieces:
            a, b = max(media_start, piece.media_start), min(media_end, piece.media_end)
            if b > a:
                outs += [piece.out_start + (a - piece.media_start), piece.out_start + (b - piece.media_start)]
        return (min(outs), max(outs)) if outs else None

    def trimmed(self, head: float, tail: float) -> TimeMap:
        """This map after `head` seconds were cut from the start and `tail` from the end of the export."""
        end = self.duration - tail
        pieces = []
        for piece in self.pieces:
            a, b = max(piece.out_start, head), min(piece.out_end, end)
            if b > a:
                offset = a - piece.out_start
                pieces.append(
                    Piece(piece.media_start + offset, piece.media_start + offset + (b - a), a - head)
                )
        return TimeMap(tuple(pieces))


@dataclass(frozen=True)
class ExportTimeline:
    """Wall clock -> export file: a MediaClock followed by a TimeMap."""

    clock: MediaClock
    timemap: TimeMap

    def map_span(self, start_ms: float, end_ms: float) -> tuple[float, float] | None:
        media = self.clock.span_to_media(start_ms, end_ms)
        return self.timemap.map_span(*media) if media else None
