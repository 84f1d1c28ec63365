"""AUDLAB: an Audacity label track, one `start<TAB>end<TAB>label` line per phrase.

Times are seconds with six decimals (as Audacity writes them), labels are `Speaker: text` with
tabs, newlines and backslashes at the start replaced so that every line imports as one label.
Labels may overlap (two speakers at once); Audacity sorts labels on import anyway.
"""

from __future__ import annotations

import logging

from transcripts.cues import CueSet

logger = logging.getLogger(__name__)


def label_text(text: str) -> str:
    text = text.replace("\t", " ").replace("\r", " ").replace("\n", " ").strip()
    # A line starting with a backslash is Audacity's spectral-range continuation line.
    return text.lstrip("\\") or "-"


def render(cue_set: CueSet) -> bytes:
    lines = [
        f"{cue.start_ms / 1000:.6f}\t{cue.end_ms / 1000:.6f}\t{label_text(f'{cue.speaker.label}: {cue.text}')}"
        for cue in cue_set.cues
    ]
    return ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")
