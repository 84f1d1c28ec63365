"""STA transcript documents: the reference shape, aligned with the speech in the audio."""

from __future__ import annotations

import json
import random

import jsonschema
import numpy as np
import pytest
from sim_world_fixtures import END_MS, call_of_kind, org

from audio.channels import channel_of_side
from simulator import documents
from simulator.audio_synth import render_recording, speech_truth
from simulator.model import Call
from simulator.scenarios import KINDS, generate_call
from simulator.transcript_synth import transcribed_recording

TOP_KEYS = {
    "organizationId",
    "conversationId",
    "communicationId",
    "transcripts",
    "participants",
    "uri",
    "startTime",
    "duration",
    "mediaType",
    "conversationStartTime",
}
PHRASE_KEYS = {"text", "stability", "startTimeMs", "duration", "words", "alternatives", "participantPurpose"}
OPTIONAL_PHRASE_KEYS = {"confidence", "decoratedText", "phraseIndex"}


_DURATION = {
    "type": "object",
    "required": ["milliseconds"],
    "properties": {"milliseconds": {"type": "integer", "minimum": 0}},
}
_EPOCH_MS = {"type": "integer", "minimum": 1_000_000_000_000}
TRANSCRIPT_SCHEMA = {
    "type": "object",
    "required": sorted(TOP_KEYS),
    "properties": {
        "startTime": _EPOCH_MS,
        "conversationStartTime": _EPOCH_MS,
        "duration": _DURATION,
        "transcripts": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["transcriptId", "language", "startTime", "duration", "phrases"],
                "properties": {
                    "startTime": _EPOCH_MS,
                    "duration": _DURATION,
                    "phrases": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": sorted(PHRASE_KEYS),
                            "properties": {
                                "text": {"type": "string"},
                                "startTimeMs": _EPOCH_MS,
                                "duration": _DURATION,
                                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                                "participantPurpose": {"enum": ["internal", "external"]},
                                "words": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {
                                        "type": "object",
                                        "required": ["word", "confidence", "startTimeMs", "duration"],
                                        "properties": {
                                            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                                            "startTimeMs": _EPOCH_MS,
                                            "duration": _DURATION,
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
        "participants": {
            "type": "array",
            "items": {"type": "object", "required": ["participantPurpose", "startTimeMs", "endTimeMs"]},
        },
    },
}
"""A permissive schema of the STA transcript (unknown keys allowed), after the reference sample."""


def _transcribed_calls(n: int = 60) -> list[Call]:
    rng = random.Random(21)
    calls = []
    while len(calls) < n:
        c = generate_call(org(), rng, end_ms=END_MS, duration_s=rng.uniform(40, 400))
        if c.transcript_available:
            calls.append(c)
    return calls


def test_document_has_the_reference_shape() -> None:
    call = call_of_kind("inbound_simple")
    assert call.transcript_available, "fixture call should be transcribed"
    (cid,) = documents.transcript_communication_ids(call)
    doc = documents.transcript_document(call, org(), cid)
    json.loads(json.dumps(doc, allow_nan=False))
    jsonschema.validate(doc, TRANSCRIPT_SCHEMA)
    assert set(doc) == TOP_KEYS
    assert doc["mediaType"] == "call" and doc["conversationStartTime"] == call.start_ms
    rec = transcribed_recording(call)
    assert doc["startTime"] == rec.start_ms == doc["transcripts"][0]["startTime"]
    assert doc["uri"].endswith(f"/conversations/{call.conversation_id}/communications/{cid}")
    (t,) = doc["transcripts"]
    assert t["language"] == "en-US" and t["transcriptId"] and t["phrases"]
    for p in t["phrases"]:
        assert PHRASE_KEYS <= set(p) <= PHRASE_KEYS | OPTIONAL_PHRASE_KEYS
        assert p["participantPurpose"] in ("internal", "external") and p["stability"] == 1
        assert p["text"] == " ".join(w["word"] for w in p["words"])
        for w in p["words"]:
            assert set(w) == {"word", "confidence", "startTimeMs", "duration"}
            assert 0 < w["confidence"] <= 1
            assert p["startTimeMs"] <= w["startTimeMs"] <= p["startTimeMs"] + p["duration"]["milliseconds"]
        assert isinstance(p["startTimeMs"], int) and p["startTimeMs"] > 1_700_000_000_000
    purposes = {pp["participantPurpose"] for pp in doc["participants"]}
    assert {"customer", "ivr", "acd", "agent"} == purposes
    agent = call.agents()[0]
    entry = next(pp for pp in doc["participants"] if pp.get("userId") == agent.user_id)
    assert entry["queueId"] == agent.queue_id and entry["startTimeMs"] == agent.start_ms
    customer = next(pp for pp in doc["participants"] if pp["participantPurpose"] == "customer")
    assert customer["queueId"] == agent.queue_id
    assert customer["ani"] == f"tel:{call.ani}" and customer["dnis"] == f"tel:{call.dnis}"


@pytest.mark.parametrize("kind", ["no_recording", "abandoned", "ivr_only"])
def test_no_transcript_where_nothing_was_transcribed(kind: str) -> None:
    call = call_of_kind(kind)
    assert documents.transcript_communication_ids(call) == []
    with pytest.raises(KeyError):
        documents.transcript_document(call, org(), call.customer().communication_id)


def test_phrases_fall_inside_the_speech_of_the_audio() -> None:
    checked = 0
    for kind in ("inbound_simple", "consult_transfer", "conference", "outbound"):
        call = call_of_kind(kind)
        if not call.transcript_available:
            continue
        rec = transcribed_recording(call)
        truth = speech_truth(call, rec)
        audio = render_recording(call, rec, 8000)
        doc = documents.transcript_document(call, org(), documents.transcript_communication_ids(call)[0])
        for p in doc["transcripts"][0]["phrases"]:
            start = rec.wall_to_media_ms(p["startTimeMs"])
            end = rec.wall_to_media_ms(p["startTimeMs"] + p["duration"]["milliseconds"])
            assert start is not None and end is not None, "phrase inside a recording gap"
            inside = [
                (a, b)
                for s, a, b in truth
                if s == p["participantPurpose"] and a - 1e-3 <= start / 1000 and end / 1000 <= b + 1e-3
            ]
            assert inside, (
                f"phrase {p['text']!r} at {start / 1000:.2f}s is not inside {p['participantPurpose']} speech"
            )
            ch = channel_of_side(p["participantPurpose"])
            seg = audio[start * 8 : end * 8, ch].astype(np.float64)
            assert 20 * np.log10(np.sqrt(np.mean(seg**2))) > -32
            checked += 1
    assert checked > 30


def test_confidence_decoration_and_overlaps_vary_like_real_transcripts() -> None:
    low_words = low_phrases = with_conf = without_conf = decorated = plain = overlaps = 0
    for call in _transcribed_calls():
        doc = documents.transcript_document(call, org(), documents.transcript_communication_ids(call)[0])
        jsonschema.validate(doc, TRANSCRIPT_SCHEMA)
        phrases = doc["transcripts"][0]["phrases"]
        for p in phrases:
            confs = [w["confidence"] for w in p["words"]]
            low_words += sum(c < 0.5 for c in confs)
            low_phrases += float(np.mean(confs)) < 0.6
            with_conf += "confidence" in p
            without_conf += "confidence" not in p
            decorated += "decoratedText" in p
            plain += "decoratedText" not in p
        for a, b in zip(phrases, phrases[1:], strict=False):
            if a["participantPurpose"] != b["participantPurpose"]:
                overlaps += b["startTimeMs"] < a["startTimeMs"] + a["duration"]["milliseconds"]
    assert low_words > 10 and low_phrases > 0
    assert with_conf and without_conf and decorated and plain
    assert overlaps > 0


def test_words_cut_by_a_recording_gap_are_not_transcribed() -> None:
    rng = random.Random(31)
    for _ in range(400):
        call = generate_call(org(), rng, end_ms=END_MS, kind="inbound_simple", duration_s=300)
        rec = transcribed_recording(call)
        if call.transcript_available and any(g.reason == "SecurePause" for g in rec.gaps):
            break
    else:
        pytest.fail("no transcribed call with a secure pause")
    doc = documents.transcript_document(call, org(), documents.transcript_communication_ids(call)[0])
    gap = next(g for g in rec.gaps if g.reason == "SecurePause")
    spoken_in_gap = [
        u for u in call.utterances if gap.wall_start_ms <= u.start_ms and u.end_ms <= gap.wall_end_ms
    ]
    for p in doc["transcripts"][0]["phrases"]:
        for w in p["words"]:
            mid = w["startTimeMs"] + w["duration"]["milliseconds"] // 2
            assert not gap.wall_start_ms <= mid < gap.wall_end_ms
    assert len(doc["transcripts"][0]["phrases"]) <= len(
        [u for u in call.utterances if u.scope == "main"]
    ) - len(spoken_in_gap)


def test_transcripts_are_deterministic() -> None:
    for kind in KINDS:
        call = call_of_kind(kind)
        for cid in documents.transcript_communication_ids(call):
            assert documents.transcript_document(call, org(), cid) == documents.transcript_document(
                call, org(), cid
            )
