"""Parsing STA transcript documents: tolerance, warnings and the promised errors."""

from __future__ import annotations

import json
import logging

import pytest
from transcripts_fixtures import (
    SAMPLE_CONVERSATION,
    SAMPLE_START,
    TUTORIAL_SAMPLE_TEXT,
    rich_document,
    sample,
)

from transcripts.errors import TranscriptError
from transcripts.parse import load_transcript


def test_tutorial_sample_is_not_strict_json_but_is_recovered_with_a_warning(caplog):
    with pytest.raises(json.JSONDecodeError):
        json.loads(TUTORIAL_SAMPLE_TEXT)
    with caplog.at_level(logging.WARNING, logger="transcripts.parse"):
        doc = load_transcript(TUTORIAL_SAMPLE_TEXT.encode("utf-8"))
    assert any("trailing comma" in w for w in doc.warnings)
    assert any(
        "trailing comma" in r.getMessage() and SAMPLE_CONVERSATION in r.getMessage() for r in caplog.records
    )
    assert doc.conversation_id == SAMPLE_CONVERSATION
    assert doc.start_ms == SAMPLE_START
    (transcript,) = doc.transcripts
    assert transcript.language == "en-US"
    assert [p.text for p in transcript.phrases] == [
        "hello Jane Doe",
        "how are you",
        "i'm fine how about you",
        "okay",
        "thank you goodbye",
    ]
    assert [p.purpose for p in transcript.phrases][:3] == ["internal", "internal", "external"]
    assert transcript.phrases[1].words[2].confidence == 0.39
    assert transcript.phrases[0].confidence is None  # absent in real documents
    assert doc.raw["transcripts"][0]["phrases"][4]["text"] == "thank you goodbye"


def test_strict_document_has_no_warnings():
    doc = load_transcript(json.dumps(sample()))
    assert doc.warnings == []


def test_several_transcripts_are_all_kept_with_optional_fields():
    doc = load_transcript(rich_document())
    assert [t.transcript_id for t in doc.transcripts] == ["tr-1", "tr-2"]
    assert doc.start_ms == doc.transcripts[0].start_ms
    first = doc.transcripts[0].phrases[1]
    assert first.decorated_text.startswith("Bonjour")
    assert first.confidence == 0.82
    assert first.sentiment == 0.6
    assert doc.transcripts[0].phrases[0].channel == "INTERNAL"
    assert len(doc.phrases) == 6


def test_utf8_bom_is_accepted_with_a_warning():
    doc = load_transcript(b"\xef\xbb\xbf" + json.dumps(sample()).encode())
    assert any("byte order mark" in w for w in doc.warnings)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (TUTORIAL_SAMPLE_TEXT[: len(TUTORIAL_SAMPLE_TEXT) // 2], "truncated"),
        ('{"conversationId": "c-9", "transcripts": [}', "not valid JSON"),
        ('{"conversationId": "c-9", "transcripts": [{"startTime": NaN}]}', "NaN"),
        ("", "empty"),
        ("[1, 2]", "JSON array"),
        ('{"conversationId": "c-9"}', "no 'transcripts' list"),
        ('{"conversationId": "c-9", "transcripts": {}}', "'transcripts' is a JSON object"),
        (
            '{"conversationId": "c-9", "transcripts": [{"phrases": 5, "startTime": 1}]}',
            "transcripts[0].phrases",
        ),
        ('{"conversationId": "c-9", "transcripts": [7]}', "transcripts[0] is a JSON number"),
        (b'{"conversationId": "c-9", "x": "\xff"}', "not UTF-8"),
    ],
)
def test_what_cannot_be_understood_raises_an_error_naming_conversation_and_problem(data, expected):
    with pytest.raises(TranscriptError) as info:
        load_transcript(data)
    message = str(info.value)
    assert expected in message
    if "c-9" in str(data) or (isinstance(data, str) and SAMPLE_CONVERSATION in data):
        assert "conversation " in message


def test_caller_conversation_id_is_named_in_errors():
    with pytest.raises(TranscriptError, match=r"^conversation abc-123: not valid JSON"):
        load_transcript("{oops", conversation_id="abc-123")


def test_truncated_sample_names_the_sample_conversation():
    with pytest.raises(
        TranscriptError, match=f"conversation {SAMPLE_CONVERSATION}: the document is truncated"
    ):
        load_transcript(TUTORIAL_SAMPLE_TEXT[:3000])


def test_bad_phrases_are_skipped_with_warnings_and_the_rest_kept():
    doc = sample()
    phrases = doc["transcripts"][0]["phrases"]
    phrases[0] = "not a phrase"
    del phrases[1]["startTimeMs"]  # recovered from its first word
    del phrases[2]["duration"]  # recovered from its words
    phrases[3]["words"][0]["confidence"] = 7  # out of range: ignored
    phrases.append({"text": "", "words": []})  # nothing to show: skipped
    parsed = load_transcript(doc)
    texts = [p.text for p in parsed.transcripts[0].phrases]
    assert texts == ["how are you", "i'm fine how about you", "okay", "thank you goodbye"]
    assert parsed.transcripts[0].phrases[0].start_ms == 1610679614466
    assert parsed.transcripts[0].phrases[1].duration_ms == 1610679616546 + 290 - 1610679614866
    assert parsed.transcripts[0].phrases[2].words[0].confidence is None
    joined = " | ".join(parsed.warnings)
    for fragment in (
        "phrases[0] is a JSON string",
        "no numeric 'startTimeMs'",
        "no usable duration",
        "outside 0..1",
    ):
        assert fragment in joined


def test_repeated_problems_are_counted_not_repeated():
    doc = sample()
    for phrase in doc["transcripts"][0]["phrases"]:
        for word in phrase["words"]:
            word["confidence"] = "high"
    parsed = load_transcript(doc)
    assert len(parsed.warnings) == 1
    assert "and 14 more like it" in parsed.warnings[0]


def test_conversation_id_mismatch_is_a_warning():
    parsed = load_transcript(sample(), conversation_id="other")
    assert parsed.conversation_id == "other"
    assert any("expected 'other'" in w for w in parsed.warnings)


def test_missing_transcript_start_falls_back_to_document_start():
    doc = sample()
    del doc["transcripts"][0]["startTime"]
    parsed = load_transcript(doc)
    assert parsed.transcripts[0].start_ms == SAMPLE_START
    assert any("startTime" in w for w in parsed.warnings)


def test_empty_transcripts_list_is_a_document_without_speech():
    parsed = load_transcript({"conversationId": "c-1", "transcripts": [], "startTime": 5})
    assert parsed.transcripts == [] and parsed.start_ms == 5
    assert parsed.warnings
