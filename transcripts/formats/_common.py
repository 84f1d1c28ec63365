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


MIN_BLOCK_MS = 40
"""Blocks shorter than this (about one video frame) are dropped when the phrases they show are also
shown by the block right before or after them: they are slivers where two phrases almost touch."""


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
    return _without_slivers(blocks)


def _without_slivers(blocks: list[Block]) -> list[Block]:
    kept: list[Block] = []
    for k, block in enumerate(blocks):
        if block.end_ms - block.start_ms < MIN_BLOCK_MS:
            shown = {id(c) for c in block.cues}
            before = kept[-1] if kept and kept[-1].end_ms == block.start_ms else None
            after = blocks[k + 1] if k + 1 < len(blocks) and blocks[k + 1].start_ms == block.end_ms else None
            elsewhere = {id(c) for b in (before, after) if b is not None for c in b.cues}
            if shown <= elsewhere:
                continue
        kept.append(block)
    return kept
