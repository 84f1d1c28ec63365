"""Each output format, on hand-made documents, checked by independent validators."""

from __future__ import annotations

import json
import re

import pytest
from transcripts_fixtures import TUTORIAL_SAMPLE_TEXT, rich_document, sample
from transcripts_validators import check_audlab, check_csv, check_raw, check_srt, check_vtt

from transcripts.formats import FORMATS, get_format
from transcripts.formats.csv_format import COLUMNS, TABLE_SCHEMA
from transcripts.parse import load_transcript
from transcripts.render import render
from transcripts.speakers import SpeakerInfo

GCTXT_LINE = re.compile(r"^\[(\d{2}):([0-5]\d):([0-5]\d)\.(\d{3})\] (Agent|Customer|IVR|Unknown): .+$")


@pytest.fixture
def tutorial():
    return load_transcript(TUTORIAL_SAMPLE_TEXT)


@pytest.fixture
def rich():
    return load_transcript(rich_document())


def test_registry_has_the_nine_formats_with_their_extensions():
    assert {name: f.extension for name, f in FORMATS.items()} == {
        "RAW": ".json",
        "AWS": ".json",
        "TTML": ".ttml",
        "SRT": ".srt",
        "VTT": ".vtt",
        "SAMI": ".smi",
        "CSV": ".csv",
        "AUDLAB": ".txt",
        "GCTXT": ".txt",
    }
    assert all(f.content_type for f in FORMATS.values())
    assert get_format("srt").name == "SRT"
    with pytest.raises(ValueError, match="unknown transcript format 'DOCX'.*RAW, AWS"):
        get_format("DOCX")


def test_raw_is_the_full_document_indented_and_repaired(tutorial):
    data = render(tutorial, "RAW")
    check_raw(data, sample())


def test_srt_of_the_tutorial_splits_overlaps_into_stacked_cues(tutorial):
    subs = check_srt(render(tutorial, "SRT"))
    assert subs[0].content == "Agent: hello Jane Doe"
    assert (subs[0].start.total_seconds(), subs[0].end.total_seconds()) == (10.9, 14.5)
    # Agent 16.4-17.3 and Customer 16.8-18.8 overlap: the overlap is one cue showing both.
    overlap = next(s for s in subs if s.start.total_seconds() == 16.8)
    assert overlap.content == "Agent: how are you\nCustomer: i'm fine how about you"
    assert overlap.end.total_seconds() == 17.3
    # every phrase's text appears, none is lost
    for text in ("how are you", "i'm fine how about you", "okay", "thank you goodbye"):
        assert any(text in s.content for s in subs)


def test_srt_text_cannot_contain_an_arrow(rich):
    subs = check_srt(render(rich, "SRT"))
    assert any('"Zoë" -> ici.' in s.content for s in subs)


def test_vtt_has_voices_escapes_and_keeps_overlaps(tutorial, rich):
    cues = check_vtt(render(tutorial, "VTT"))
    assert [c.voice for c in cues] == ["Agent", "Agent", "Customer", "Agent", "Agent"]
    assert (cues[1].start, cues[1].end, cues[2].start) == ("00:00:16.400", "00:00:17.300", "00:00:16.800")
    data = render(rich, "VTT").decode()
    assert "Acme &amp; Co &lt;inc&gt;." in data
    assert "--&gt; ici" in data
    check_vtt(data.encode())


def test_vtt_voice_carries_the_name_and_the_class_the_role(tutorial):
    speakers = SpeakerInfo(agent_name="Jane <Smith>", customer_name="Bob & Co")
    data = render(tutorial, "VTT", speakers=speakers).decode()
    assert "<v.agent Jane &lt;Smith&gt;>hello Jane Doe</v>" in data
    assert "<v.customer Bob &amp; Co>" in data
    cues = check_vtt(data.encode())
    assert cues[2].voice == "Bob &amp; Co"


def test_csv_rows_columns_and_quoting(tutorial, rich):
    rows = check_csv(render(tutorial, "CSV"), TABLE_SCHEMA)
    assert list(rows[0]) == COLUMNS
    assert [r["text"] for r in rows][:2] == ["hello Jane Doe", "how are you"]
    assert rows[0]["start_offset_ms"] == "10900" and rows[0]["end_offset_ms"] == "14500"
    assert rows[0]["confidence_source"] == "words_mean" and rows[0]["min_word_confidence"] == "0.69"
    assert rows[0]["start_time_utc"] == "2021-01-15T03:00:08.966Z"
    rich_rows = check_csv(render(rich, "CSV"), TABLE_SCHEMA)
    bonjour = next(r for r in rich_rows if r["text"].startswith("Bonjour"))
    assert bonjour["text"] == 'Bonjour, "Zoë" --> ici.'
    assert bonjour["confidence"] == "0.82" and bonjour["confidence_source"] == "phrase"
    assert bonjour["sentiment"] == "0.6" and bonjour["language"] == "fr-CA"
    assert b'"Bonjour, ""Zo\xc3\xab"" --> ici."' in render(rich, "CSV")
    assert {r["transcript_id"] for r in rich_rows} == {"tr-1", "tr-2"}


def test_audacity_labels(tutorial, rich):
    intervals, labels = check_audlab(render(tutorial, "AUDLAB"))
    assert labels[0] == "Agent: hello Jane Doe"
    assert list(intervals[0]) == [10.9, 14.5]
    assert (
        render(tutorial, "AUDLAB").decode().splitlines()[0] == "10.900000\t14.500000\tAgent: hello Jane Doe"
    )
    _, rich_labels = check_audlab(render(rich, "AUDLAB"))
    assert "Agent: tab here merci" in rich_labels


def test_gctxt_header_and_lines(tutorial):
    speakers = SpeakerInfo(agent_name="Jane Smith", customer_name="John Doe")
    text = render(tutorial, "GCTXT", speakers=speakers).decode()
    header, body = text.split("\n\n", 1)
    assert header.splitlines()[:5] == [
        "Conversation: 12345abc-1234-123a-5678-abc123xyz",
        "Communication: 12345abc-1234-123a-5678-abc123xyz",
        "Transcript: 12345abc-1234-123a-5678-abc123xyz",
        "Language: en-US",
        "Media start (UTC): 2021-01-15T02:59:58.066Z",
    ]
    assert "Agent: Jane Smith" in header and "Customer: John Doe" in header
    lines = body.rstrip("\n").split("\n")
    assert all(GCTXT_LINE.match(line) for line in lines), lines
    assert lines[0] == "[00:00:10.900] Agent: hello Jane Doe"


def test_language_override(tutorial):
    rows = check_csv(render(tutorial, "CSV", language="en-GB"), TABLE_SCHEMA)
    assert {r["language"] for r in rows} == {"en-GB"}
    assert "Language: en-GB" in render(tutorial, "GCTXT", language="en-GB").decode()


def test_empty_document_renders_valid_empty_outputs():
    doc = load_transcript({"conversationId": "c-1", "transcripts": [], "startTime": 5})
    assert check_srt(render(doc, "SRT")) == []
    assert check_vtt(render(doc, "VTT")) == []
    assert check_csv(render(doc, "CSV"), TABLE_SCHEMA) == []
    assert render(doc, "AUDLAB") == b""


def test_node_validators_accept_srt_and_vtt_and_catch_overlaps(tutorial):
    from transcripts_validators import node_errors, node_modules

    if node_modules() is None:
        pytest.skip("node srt-validator/webvtt-parser not installed (set CALLEXPORT_NODE_MODULES)")
    assert node_errors("srt", render(tutorial, "SRT")) == []
    assert node_errors("vtt", render(tutorial, "VTT")) == []
    # the validators are strict: overlapping SRT cues and decreasing WebVTT starts are errors
    overlapping = b"1\n00:00:01,000 --> 00:00:02,000\na\n\n2\n00:00:01,500 --> 00:00:03,000\nb\n"
    assert node_errors("srt", overlapping)
    decreasing = b"WEBVTT\n\n00:00:02.000 --> 00:00:03.000\na\n\n00:00:01.000 --> 00:00:03.000\nb\n"
    assert node_errors("vtt", decreasing)


def test_srt_drops_slivers_only_when_their_text_is_shown_next_to_them():
    def phrase(text, start, ms, purpose):
        return {
            "text": text,
            "startTimeMs": start,
            "duration": {"milliseconds": ms},
            "participantPurpose": purpose,
        }

    doc = load_transcript(
        {
            "transcripts": [
                {
                    "startTime": 0,
                    "phrases": [
                        phrase("first", 1000, 2010, "internal"),  # ends 10 ms after 'second' starts
                        phrase("second", 3000, 2000, "external"),
                        phrase("blip", 6000, 20, "internal"),  # a 20 ms phrase of its own is kept
                    ],
                }
            ]
        }
    )
    subs = check_srt(render(doc, "SRT"))
    assert [(s.start.total_seconds(), s.end.total_seconds(), s.content) for s in subs] == [
        (1.0, 3.0, "Agent: first"),
        (3.01, 5.0, "Customer: second"),
        (6.0, 6.02, "Agent: blip"),
    ]


HOSTILE = '\ud800bad\x07 \ufffe<b>&\t--> "q"\nnew line'


def test_hostile_characters_never_break_any_format(caplog):
    from transcripts_validators import check_aws, check_sami, check_ttml

    raw = sample()
    raw["conversationId"] = "conv\n-->1"
    raw["transcripts"][0]["language"] = "english please"
    raw["transcripts"][0]["phrases"][0]["text"] = HOSTILE
    raw["transcripts"][0]["phrases"][0]["words"][0]["word"] = HOSTILE
    doc = load_transcript(raw)
    speakers = SpeakerInfo(agent_name=HOSTILE, customer_name="x\x00y")
    out = {name: render(doc, name, speakers=speakers) for name in FORMATS}
    for name, data in out.items():
        data.decode("utf-8")  # always valid UTF-8
        assert "\ud800" not in data.decode("utf-8"), name
    assert json.loads(out["RAW"])["transcripts"][0]["phrases"][0]["text"] == HOSTILE  # kept, escaped
    check_srt(out["SRT"])
    check_vtt(out["VTT"])
    check_ttml(out["TTML"], caplog)
    check_sami(out["SAMI"], "und")
    check_aws(out["AWS"])
    check_csv(out["CSV"], TABLE_SCHEMA)
    check_audlab(out["AUDLAB"])
    assert all(GCTXT_LINE.match(line) for line in out["GCTXT"].decode().split("\n\n", 1)[1].splitlines())
    assert "Conversation: conv -->1" in out["GCTXT"].decode()
