"""AWS: Amazon Transcribe batch-output JSON with channel identification.

Layout (Transcribe's documented batch output): `jobName`, `accountId` (12 digits; Genesys has
none, so twelve zeros), `status: "COMPLETED"`, `results.transcripts[0].transcript` (the kept
phrases' text in order), `results.items` (one `pronunciation` item per kept word, in time order,
with `id`, string `start_time`/`end_time` in seconds, `alternatives[0].confidence` as a string and
`channel_label`), `results.channel_labels` (both channels, each listing its items as the very same
objects) and `results.audio_segments` (one per phrase, naming its item ids).

Channels follow `audio.channels`: `ch_0` is the external side (customer), `ch_1` the internal side
(agent, IVR), so `ch_N` is also the channel of the exported stereo audio. A phrase without words
gets one item per whitespace-separated token, spread evenly over the phrase, with the phrase's
score as confidence ("1.0" when it has none).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from audio.channels import INTERNAL_CHANNEL
from transcripts.cues import Cue, CueSet, CueWord
from transcripts.text import UNDETERMINED_LANGUAGE

logger = logging.getLogger(__name__)

ACCOUNT_ID = "000000000000"
_JOB_NAME = re.compile(r"[^0-9A-Za-z._-]+")


def _seconds(ms: int) -> str:
    return f"{ms / 1000:.3f}"


def _confidence(value: float | None) -> str:
    return "1.0" if value is None else repr(round(float(value), 4))


def _words(cue: Cue) -> list[CueWord]:
    if cue.words:
        return list(cue.words)
    tokens = cue.text.split()
    step = (cue.end_ms - cue.start_ms) / len(tokens)
    return [
        CueWord(
            token,
            cue.start_ms + round(k * step),
            max(cue.start_ms + round((k + 1) * step), cue.start_ms + round(k * step) + 1),
            cue.score.value,
        )
        for k, token in enumerate(tokens)
    ]


def job_name(cue_set: CueSet) -> str:
    doc = cue_set.doc
    parts = [p for p in (doc.conversation_id, doc.communication_id) if p] or ["genesys-transcript"]
    return _JOB_NAME.sub("-", "_".join(parts))[:200]


def render(cue_set: CueSet) -> bytes:
    staged: list[tuple[int, int, int, int, dict[str, Any]]] = []
    for cue_number, cue in enumerate(cue_set.cues):
        channel = cue.channel_index if cue.channel_index is not None else INTERNAL_CHANNEL
        for word in _words(cue):
            item: dict[str, Any] = {
                "type": "pronunciation",
                "start_time": _seconds(word.start_ms),
                "end_time": _seconds(max(word.end_ms, word.start_ms + 1)),
                "alternatives": [{"confidence": _confidence(word.confidence), "content": word.text}],
                "channel_label": f"ch_{channel}",
            }
            staged.append((word.start_ms, word.end_ms, channel, cue_number, item))
    staged.sort(key=lambda s: (s[0], s[1], s[2], s[3]))
    items: list[dict[str, Any]] = []
    segment_items: dict[int, list[int]] = {}
    by_channel: dict[int, list[dict[str, Any]]] = {0: [], 1: []}
    for item_id, (_, _, channel, cue_number, item) in enumerate(staged):
        item = {"id": item_id, **item}
        items.append(item)
        by_channel[channel].append(item)
        segment_items.setdefault(cue_number, []).append(item_id)
    segments = [
        {
            "id": number,
            "transcript": cue.text,
            "start_time": _seconds(cue.start_ms),
            "end_time": _seconds(cue.end_ms),
            "channel_label": f"ch_{cue.channel_index if cue.channel_index is not None else INTERNAL_CHANNEL}",
            "items": segment_items.get(number, []),
        }
        for number, cue in enumerate(cue_set.cues)
    ]
    results: dict[str, Any] = {
        "transcripts": [{"transcript": " ".join(cue.text for cue in cue_set.cues)}],
        "items": items,
        "channel_labels": {
            "number_of_channels": 2,
            "channels": [{"channel_label": f"ch_{n}", "items": by_channel[n]} for n in (0, 1)],
        },
        "audio_segments": segments,
    }
    if cue_set.language and cue_set.language != UNDETERMINED_LANGUAGE:
        results["language_code"] = cue_set.language
    document = {
        "jobName": job_name(cue_set),
        "accountId": ACCOUNT_ID,
        "status": "COMPLETED",
        "results": results,
    }
    # Compact like Transcribe's own output files (and fast: 2-hour calls give ~10 MB).
    return (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
