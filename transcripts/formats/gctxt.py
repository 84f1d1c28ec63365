"""GCTXT: a human-readable transcript: a header block, a blank line, one line per phrase.

    Conversation: 0b4a...
    Communication: 77a8...
    Transcript: 12ab...
    Language: en-US
    Media start (UTC): 2021-01-15T02:59:58.066Z
    Agent: Jane Smith
    Customer: John Doe
    Phrases: 42 (3 below confidence 0.50 left out)

    [00:00:10.900] Agent: hello Jane Doe

Every phrase line matches `^\\[\\d{2}:[0-5]\\d:[0-5]\\d\\.\\d{3}\\] (Agent|Customer|IVR|Unknown): .+$`
(hours grow past 99 only for calls longer than four days). Lines are in start order and are not
wrapped.
"""

from __future__ import annotations

import logging

from audio.timemap import ExportTimeline
from transcripts.cues import CueSet
from transcripts.formats._common import clock
from transcripts.formats.csv_format import utc_iso

logger = logging.getLogger(__name__)


def _export_start_ms(timeline: ExportTimeline) -> int:
    """Wall-clock instant heard at second 0 of the exported file."""
    pieces = sorted(timeline.timemap.pieces, key=lambda p: p.out_start)
    media_ms = pieces[0].media_start * 1000 if pieces else 0.0
    wall = timeline.clock.start_epoch_ms + media_ms
    for gap in sorted(timeline.clock.gaps, key=lambda g: g.wall_start_ms):
        if gap.wall_start_ms <= wall:
            wall += gap.duration_ms
    return round(wall)


def render(cue_set: CueSet) -> bytes:
    doc = cue_set.doc
    header = [
        f"Conversation: {doc.conversation_id or 'unknown'}",
        f"Communication: {doc.communication_id or 'unknown'}",
        f"Transcript: {', '.join(t.transcript_id for t in doc.transcripts) or 'none'}",
        f"Language: {cue_set.language}",
    ]
    if cue_set.timeline is None:
        header.append(f"Media start (UTC): {utc_iso(doc.start_ms)}")
    else:
        header.append(
            f"Media start (UTC): {utc_iso(_export_start_ms(cue_set.timeline))} (exported audio file)"
        )
    for role, name in cue_set.speakers.roles().items():
        if name:
            header.append(f"{'IVR' if role == 'ivr' else role.capitalize()}: {name}")
    left_out = []
    if cue_set.dropped_low_confidence:
        left_out.append(
            f"{cue_set.dropped_low_confidence} below confidence {cue_set.policy.phrase_min_score:.2f} left out"
        )
    if cue_set.dropped_cut:
        left_out.append(f"{cue_set.dropped_cut} outside the exported audio")
    header.append(f"Phrases: {len(cue_set.cues)}" + (f" ({'; '.join(left_out)})" if left_out else ""))
    lines = [f"[{clock(cue.start_ms)}] {cue.speaker.label}: {cue.text}" for cue in cue_set.cues]
    return ("\n".join([*header, "", *lines]) + "\n").encode("utf-8")
