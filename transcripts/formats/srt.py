"""SRT (SubRip): numbered cues, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, text lines, blank line.

Overlaps: strict SRT validators reject overlapping cues, and agent and customer often talk at
once. We split rather than merge or clip: at every phrase start or end a new cue begins, and each
cue shows every phrase being spoken during it, one `Speaker: text` line each (see
`stacked_blocks`). No text is lost, cues never overlap, and no cue extends beyond the speech of
any phrase it shows.
"""

from __future__ import annotations

import logging

from transcripts.cues import CueSet
from transcripts.formats._common import clock, stacked_blocks

logger = logging.getLogger(__name__)


def render(cue_set: CueSet) -> bytes:
    out: list[str] = []
    for number, block in enumerate(stacked_blocks(cue_set.cues), start=1):
        out.append(str(number))
        out.append(f"{clock(block.start_ms, ',')} --> {clock(block.end_ms, ',')}")
        out.extend(f"{cue.speaker.label}: {_line(cue.text)}" for cue in block.cues)
        out.append("")
    return ("\n".join(out) + ("\n" if out else "")).encode("utf-8")


def _line(text: str) -> str:
    """SRT has no escaping: an arrow inside the text would read as a timing line to lax parsers."""
    return text.replace("-->", "->")
