"""Helpers shared by the format writers: clock strings and non-overlapping cue blocks."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from transcripts.cues import Cue

logger = logging.getLogger(__name__)


def clock(ms: int, decimal: str = ".") -> str:
    """HH:MM:SS<decimal>mmm (hours grow past 99 if they must)."""
    ms = max(int(ms), 0)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{decimal}{millis:03d}"


@dataclass(frozen=True)
class Block:
    """A stretch of time in which the same phrases are being spoken."""

    start_ms: int
    end_ms: int
    cues: tuple[Cue, ...]


def stacked_blocks(cues: list[Cue]) -> list[Block]:
    """Split overlapping cues into non-overlapping blocks, each showing every phrase spoken in it.

    For formats whose strict consumers reject overlaps (SRT) or can show only one caption at a
    time (SAMI). At every start or end of a phrase a new block begins; a block lists the phrases
    active throughout it, in the order they started. So no text is lost, nothing overlaps, and
    every block showing a phrase lies inside that phrase's own time.
    """
    events: list[tuple[int, int, int]] = []  # (time, kind 0=end 1=start, cue index)
    for i, cue in enumerate(cues):
        events.append((cue.start_ms, 1, i))
        events.append((cue.end_ms, 0, i))
    events.sort()
    blocks: list[Block] = []
    active: dict[int, None] = {}
    last_t: int | None = None
    k = 0
    while k < len(events):
        t = events[k][0]
        if active and last_t is not None and t > last_t:
            ordered = sorted(active, key=lambda i: (cues[i].start_ms, i))
            blocks.append(Block(last_t, t, tuple(cues[i] for i in ordered)))
        while k < len(events) and events[k][0] == t:
            _, kind, i = events[k]
            if kind:
                active[i] = None
            else:
                active.pop(i, None)
            k += 1
        last_t = t
    return blocks
