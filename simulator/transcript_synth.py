"""Truth -> Genesys Cloud Speech & Text Analytics transcript document (docs/transcripts.md).

Phrases are the call's main-scope utterances (what the trunk recording hears), with absolute
epoch-millisecond times that match the synthetic audio word for word. Words that fall into a
recording gap (secure pause, suppressed IVR/queue) are not transcribed. Optional fields vary the
way real documents do: phrase `confidence` is sometimes absent, some documents carry
`decoratedText`/`phraseIndex` and sentiment events, others do not.
"""

from __future__ import annotations

import logging
import random
import uuid
from typing import Any

from simulator.model import Call, Recording, Utterance, Word
from simulator.org import Org

logger = logging.getLogger(__name__)

PROGRAM_ID = "1b9a8f4c-5d2e-4e6f-9a7b-0c1d2e3f4a5b"


def _tel(number: str) -> str:
    return number if number.startswith(("tel:", "sip:")) else f"tel:{number}"


def transcribed_recording(call: Call) -> Recording | None:
    """The recording the transcript follows: the main-scope Trunk recording carrying the customer."""
    for rec in call.recordings:
        if rec.subtype == "Trunk" and rec.scope == "main":
            return rec
    return None


def _kept_words(u: Utterance, rec: Recording) -> list[Word]:
    """Words wholly inside the recording's media (a word touching a gap was not heard)."""
    return [w for w in u.words if rec.wall_span_to_media(w.start_ms, w.end_ms) == [_media_span(rec, w)]]


def _media_span(rec: Recording, w: Word) -> tuple[int, int]:
    a = rec.wall_to_media_ms(w.start_ms)
    return (-1, -1) if a is None else (a, a + w.end_ms - w.start_ms)


def _decorate(text: str, rng: random.Random) -> str:
    text = text[0].upper() + text[1:]
    text = text.replace(" i ", " I ").replace(" i'", " I'")
    return text + rng.choice((".", ".", ".", "?", "!"))


def transcribed_utterances(call: Call, rec: Recording | None = None) -> list[tuple[Utterance, list[Word]]]:
    """(utterance, words kept by the recording) for every phrase the transcript (of `rec`, default
    the first Trunk recording) will contain."""
    rec = rec or transcribed_recording(call)
    if rec is None:
        return []
    out = []
    for u in call.utterances:
        if u.scope != "main":
            continue
        words = _kept_words(u, rec)
        if words:
            out.append((u, words))
    return out


def transcript_document(
    call: Call, org: Org, communication_id: str, recording: Recording | None = None, part: int = 0
) -> dict:
    """The transcript JSON for `communication_id` (the customer's call id) of one recording (default:
    the first Trunk recording; `part` numbers the recordings of a multi-recording communication)."""
    rec = recording or transcribed_recording(call)
    if rec is None:
        raise LookupError(f"call {call.conversation_id} has no trunk recording to transcribe")
    rng = random.Random(f"transcript-{call.audio_seed}-{communication_id}" + (f"-{part}" if part else ""))
    decorated = rng.random() < 0.6
    with_confidence = rng.random() < 0.7
    phrases: list[dict[str, Any]] = []
    sentiment: list[dict[str, Any]] = []
    for index, (u, words) in enumerate(transcribed_utterances(call, rec)):
        start, end = words[0].start_ms, words[-1].end_ms
        text = " ".join(w.text for w in words)
        phrase: dict[str, Any] = {
            "text": text,
            "stability": 1,
            "startTimeMs": start,
            "duration": {"milliseconds": end - start},
            "words": [
                {
                    "word": w.text,
                    "confidence": w.confidence,
                    "startTimeMs": w.start_ms,
                    "duration": {"milliseconds": w.end_ms - w.start_ms},
                }
                for w in words
            ],
            "alternatives": [],
            "participantPurpose": u.side,
        }
        if with_confidence and rng.random() < 0.85:
            phrase["confidence"] = round(sum(w.confidence for w in words) / len(words), 3)
        if decorated:
            phrase["phraseIndex"] = index
            phrase["decoratedText"] = _decorate(text, rng)
            if rng.random() < 0.25:
                sentiment.append(
                    {
                        "participant": u.side,
                        "phrase": text,
                        "phraseIndex": index,
                        "sentiment": round(rng.uniform(-1.0, 1.0), 2),
                        "startTimeMs": start,
                        "duration": {"milliseconds": end - start},
                    }
                )
        phrases.append(phrase)
    participants = []
    for p in call.participants:
        entry: dict[str, Any] = {
            "participantPurpose": p.purpose,
            "initialDirection": p.direction,
            "divisionId": call.division_id,
            "ani": _tel(p.ani or call.ani),
            "dnis": _tel(p.dnis or call.dnis),
            "startTimeMs": p.start_ms,
            "endTimeMs": p.end_ms,
        }
        if p.user_id:
            entry["userId"] = p.user_id
        queue_id = p.queue_id or next((sg.queue_id for sg in p.segments if sg.queue_id), None)
        if queue_id:
            entry["queueId"] = queue_id
        if p.flow_id:
            entry["flowId"] = p.flow_id
        participants.append(entry)
    duration = rec.end_ms - rec.start_ms
    transcript_id = call.transcript_ids.get(communication_id, communication_id)
    if part:
        transcript_id = str(uuid.uuid5(uuid.UUID(transcript_id), f"part-{part}"))
    return {
        "organizationId": org.id,
        "conversationId": call.conversation_id,
        "communicationId": communication_id,
        "transcripts": [
            {
                "transcriptId": transcript_id,
                "language": call.language,
                "programId": PROGRAM_ID,
                "startTime": rec.start_ms,
                "duration": {"milliseconds": duration},
                "phrases": phrases,
                "analytics": {"sentiment": sentiment},
            }
        ],
        "participants": participants,
        "uri": f"/transcript/v1/organizations/{org.id}/conversations/{call.conversation_id}/communications/{communication_id}",
        "startTime": rec.start_ms,
        "duration": {"milliseconds": duration},
        "mediaType": "call",
        "conversationStartTime": call.start_ms,
    }
