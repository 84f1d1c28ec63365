"""CSV: one row per kept phrase, RFC 4180 (CRLF, minimal quoting), UTF-8 without BOM.

Column order is stable and documented in `COLUMNS` / `TABLE_SCHEMA` (a Frictionless Table Schema):
integers for milliseconds, `.` decimals, `true`/`false` booleans, empty fields for nulls.
Filtering is the same as every other format: phrases below the confidence threshold are not rows;
`low_confidence_words` counts the words removed or masked from `text`.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import UTC, datetime
from typing import Any

from transcripts.cues import Cue, CueSet

logger = logging.getLogger(__name__)

TABLE_SCHEMA: dict[str, Any] = {
    "fields": [
        {"name": "conversation_id", "type": "string"},
        {"name": "communication_id", "type": "string"},
        {"name": "transcript_id", "type": "string"},
        {"name": "language", "type": "string"},
        {"name": "phrase_index", "type": "integer", "constraints": {"required": True}},
        {"name": "channel", "type": "string", "constraints": {"enum": ["internal", "external", "unknown"]}},
        {"name": "participant_purpose", "type": "string"},
        {
            "name": "speaker",
            "type": "string",
            "constraints": {"enum": ["Agent", "Customer", "IVR", "Unknown"]},
        },
        {"name": "speaker_name", "type": "string"},
        {"name": "start_offset_ms", "type": "integer", "constraints": {"required": True, "minimum": 0}},
        {"name": "end_offset_ms", "type": "integer", "constraints": {"required": True, "minimum": 0}},
        {"name": "duration_ms", "type": "integer", "constraints": {"required": True, "minimum": 0}},
        {"name": "start_time_utc", "type": "datetime", "constraints": {"required": True}},
        {"name": "confidence", "type": "number", "constraints": {"minimum": 0, "maximum": 1}},
        {
            "name": "confidence_source",
            "type": "string",
            "constraints": {"enum": ["phrase", "words_mean", "words_min", "none"]},
        },
        {"name": "min_word_confidence", "type": "number", "constraints": {"minimum": 0, "maximum": 1}},
        {"name": "word_count", "type": "integer", "constraints": {"minimum": 0}},
        {"name": "low_confidence_words", "type": "integer", "constraints": {"minimum": 0}},
        {"name": "clipped", "type": "boolean", "trueValues": ["true"], "falseValues": ["false"]},
        {"name": "sentiment", "type": "number"},
        {"name": "text", "type": "string", "constraints": {"required": True}},
    ],
    "missingValues": [""],
}
COLUMNS: list[str] = [f["name"] for f in TABLE_SCHEMA["fields"]]


def _number(value: float | None) -> str:
    return "" if value is None else repr(round(float(value), 4))


def utc_iso(epoch_ms: int) -> str:
    return (
        datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def _row(cue_set: CueSet, cue: Cue) -> list[str]:
    doc = cue_set.doc
    return [
        doc.conversation_id or "",
        doc.communication_id or "",
        cue.transcript.transcript_id,
        cue_set.language,
        str(cue.phrase.index),
        cue.side,
        cue.phrase.purpose,
        cue.speaker.label,
        cue.speaker.name or "",
        str(cue.start_ms),
        str(cue.end_ms),
        str(cue.end_ms - cue.start_ms),
        utc_iso(cue.phrase.start_ms),
        _number(cue.score.value),
        cue.score.source,
        _number(cue.score.min_word_confidence),
        str(len(cue.words)),
        str(cue.low_words),
        "true" if cue.clipped else "false",
        _number(cue.phrase.sentiment),
        cue.text,
    ]


def render(cue_set: CueSet) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(_row(cue_set, cue) for cue in cue_set.cues)
    return buffer.getvalue().encode("utf-8")
