"""WebVTT: one cue per phrase with a `<v>` voice span naming the speaker.

The voice class carries the role and the annotation the name, e.g. `<v.agent Jane Smith>` (or
`<v.customer Customer>` when no name is known). WebVTT allows overlapping cues, so each phrase keeps
its own timing; cues are in start order. A NOTE block after the header lists the conversation and
the speakers.
"""

from __future__ import annotations

import logging

from transcripts.cues import CueSet
from transcripts.formats._common import clock

logger = logging.getLogger(__name__)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _note_line(text: str) -> str:
    return text.replace("-->", "->")


def render(cue_set: CueSet) -> bytes:
    doc = cue_set.doc
    out = ["WEBVTT", ""]
    note = ["NOTE"]
    if doc.conversation_id:
        note.append(_note_line(f"Conversation: {doc.conversation_id}"))
    if doc.communication_id:
        note.append(_note_line(f"Communication: {doc.communication_id}"))
    note.append(_note_line(f"Language: {cue_set.language}"))
    for role, name in cue_set.speakers.roles().items():
        if name:
            note.append(_note_line(f"{role.capitalize() if role != 'ivr' else 'IVR'}: {name}"))
    out += note + [""]
    for cue in cue_set.cues:
        voice = escape(cue.speaker.display).replace("\n", " ")
        out.append(f"{clock(cue.start_ms)} --> {clock(cue.end_ms)}")
        out.append(f"<v.{cue.speaker.role} {voice}>{escape(cue.text)}</v>")
        out.append("")
    return "\n".join(out).encode("utf-8")
