"""Low-confidence filtering, speakers (Agent/Customer/IVR and names) and time mapping."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from transcripts_fixtures import SAMPLE_START, rich_document, sample
from transcripts_validators import check_srt, check_vtt

from audio.timemap import ExportTimeline, Gap, MediaClock, TimeMap
from transcripts import confidence
from transcripts.confidence import FilterPolicy, score_phrase
from transcripts.cues import build_cues
from transcripts.formats import FORMATS
from transcripts.parse import load_transcript
from transcripts.render import render
from transcripts.speakers import SpeakerInfo


def _texts(doc, **kwargs):
    return [c.text for c in build_cues(doc, **kwargs).cues]


def test_thresholds_are_module_constants_with_a_reason():
    assert 0 < confidence.WORD_MIN_CONFIDENCE < confidence.PHRASE_MIN_SCORE < 1
    assert "stability" in confidence.__doc__ and "not a confidence" in confidence.__doc__
    assert FilterPolicy().phrase_min_score == confidence.PHRASE_MIN_SCORE


def test_phrase_score_prefers_phrase_confidence_then_word_mean_or_min():
    doc = load_transcript(rich_document())
    bonjour = doc.transcripts[0].phrases[1]
    assert score_phrase(bonjour).source == "phrase" and score_phrase(bonjour).value == 0.82
    how = load_transcript(sample()).transcripts[0].phrases[1]  # words 0.93 0.93 0.39
    assert score_phrase(how).source == "words_mean" and score_phrase(how).value == pytest.approx(0.75)
    strict = FilterPolicy(score_from_words="min")
    assert score_phrase(how, strict).source == "words_min" and score_phrase(how, strict).value == 0.39
    assert "how are you" not in _texts(load_transcript(sample()), policy=strict)


def test_low_phrases_are_dropped_uniformly_in_every_filtered_format():
    doc = load_transcript(rich_document())
    # phrase 3 (words 0.2/0.3, mean 0.25) and phrase 4 (phrase confidence 0.3 despite good words)
    for name in FORMATS:
        if name == "RAW":
            continue
        data = render(doc, name).decode()
        assert "mumble" not in data and "grr" not in data, name
        assert "revoir" not in data, name
        assert "encore moi" in data, name
    assert "revoir" in render(doc, "RAW").decode()  # RAW is the full document


def test_stability_is_ignored():
    raw = sample()
    for phrase in raw["transcripts"][0]["phrases"]:
        phrase["stability"] = 0.01
    assert len(build_cues(load_transcript(raw)).cues) == 5


def test_low_words_inside_kept_phrases_are_dropped_or_masked_consistently():
    doc = load_transcript(rich_document())
    kept = build_cues(doc).cues
    tab = next(c for c in kept if c.text.startswith("tab"))
    assert tab.text == "tab here merci" and tab.low_words == 1
    assert [w.text for w in tab.words] == ["tab here", "merci"]
    masked = build_cues(doc, policy=FilterPolicy(low_word_action="mask")).cues
    assert next(c for c in masked if c.text.startswith("tab")).text == "tab here [?] merci"
    # a kept phrase with no low word keeps its punctuated decoratedText
    assert kept[0].text == "Bienvenue chez Acme & Co <inc>."


def test_phrase_without_any_confidence_is_kept():
    doc = load_transcript(
        {
            "transcripts": [
                {
                    "startTime": 0,
                    "phrases": [
                        {
                            "text": "hi",
                            "startTimeMs": 10,
                            "duration": {"milliseconds": 5},
                            "participantPurpose": "external",
                        }
                    ],
                }
            ]
        }
    )
    (cue,) = build_cues(doc).cues
    assert cue.score.source == "none" and cue.text == "hi"


def test_speakers_from_details_names_agents_customer_and_ivr():
    start = SAMPLE_START

    def iso(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).isoformat()

    details = {
        "participants": [
            {
                "purpose": "customer",
                "participantName": "Kari Nordmann",
                "sessions": [
                    {
                        "segments": [
                            {
                                "segmentStart": iso(start),
                                "segmentEnd": iso(start + 60000),
                                "segmentType": "interact",
                            }
                        ]
                    }
                ],
            },
            {
                "purpose": "ivr",
                "participantName": "Main IVR",
                "sessions": [
                    {
                        "flow": {"flowName": "Welcome flow"},
                        "segments": [
                            {
                                "segmentStart": iso(start),
                                "segmentEnd": iso(start + 12000),
                                "segmentType": "ivr",
                            }
                        ],
                    }
                ],
            },
            {
                "purpose": "agent",
                "participantName": "Åse Øvergård",
                "sessions": [
                    {
                        "segments": [
                            {
                                "segmentStart": iso(start + 12000),
                                "segmentEnd": iso(start + 30000),
                                "segmentType": "interact",
                            }
                        ]
                    }
                ],
            },
            {
                "purpose": "agent",
                "participantName": "Bob Berg",
                "sessions": [
                    {
                        "segments": [
                            {
                                "segmentStart": iso(start + 30000),
                                "segmentEnd": iso(start + 60000),
                                "segmentType": "interact",
                            }
                        ]
                    }
                ],
            },
        ]
    }
    speakers = SpeakerInfo.from_details(details)
    assert (speakers.agent_name, speakers.customer_name, speakers.ivr_name) == (
        "Åse Øvergård",
        "Kari Nordmann",
        "Welcome flow",
    )
    cues = build_cues(load_transcript(sample()), speakers=speakers).cues
    # 'hello Jane Doe' runs 10.9-14.5 s: its middle (12.7 s) is after the IVR (ends at 12 s)
    assert [(c.speaker.label, c.speaker.name) for c in cues] == [
        ("Agent", "Åse Øvergård"),
        ("Agent", "Åse Øvergård"),
        ("Customer", "Kari Nordmann"),
        ("Agent", "Åse Øvergård"),
        ("Agent", "Bob Berg"),
    ]
    vtt = render(load_transcript(sample()), "VTT", speakers=speakers).decode()
    assert "<v.agent Bob Berg>thank you goodbye</v>" in vtt
    assert "Customer: Kari Nordmann" in vtt  # NOTE block lists the names
    check_vtt(vtt.encode())


def test_internal_phrase_inside_the_ivr_is_labelled_ivr_from_transcript_participants():
    raw = sample()
    ivr = next(p for p in raw["participants"] if p["participantPurpose"] == "ivr")
    ivr["endTimeMs"] = 1610679614000  # IVR now covers 'hello Jane Doe'
    cues = build_cues(load_transcript(raw)).cues
    assert [c.speaker.label for c in cues] == ["IVR", "Agent", "Customer", "Agent", "Agent"]
    assert "IVR: hello Jane Doe" in render(load_transcript(raw), "SRT").decode()


def test_missing_details_give_role_defaults():
    speakers = SpeakerInfo.from_details(None)
    assert speakers.speaker_for("internal", 0, 1).display == "Agent"
    assert speakers.speaker_for("external", 0, 1).display == "Customer"
    assert speakers.speaker_for("weird", 0, 1).label == "Unknown"
    rest = {"participants": [{"purpose": "agent", "name": "Ann"}, {"purpose": "customer", "name": "Cy"}]}
    assert SpeakerInfo.from_details({}, rest).roles()["agent"] == "Ann"


def _timeline(pieces, gaps=()):
    return ExportTimeline(MediaClock(SAMPLE_START, tuple(gaps)), TimeMap.concatenation(pieces))


def test_timeline_maps_clips_and_drops_phrases():
    doc = load_transcript(sample())
    # keep media 10-15 s and 16.6-20 s: 'hello Jane Doe' (10.9-14.5) whole, 'how are you' (16.4-17.3)
    # clipped to 16.6 (losing the word 'how'), 'thank you goodbye' (49.5-50.9) cut out entirely.
    cue_set = build_cues(doc, timeline=_timeline([(10.0, 15.0), (16.6, 20.0)]))
    spans = {c.text: (c.start_ms, c.end_ms, c.clipped) for c in cue_set.cues}
    assert spans["hello Jane Doe"] == (900, 4500, False)
    assert spans["are you"] == (5000, 5700, True)  # the word 'how' (16.40-16.49 s) was cut
    assert spans["i'm fine how about you"] == (5200, 7200, False)
    assert "thank you goodbye" not in spans
    assert cue_set.dropped_cut == 1
    # 'i'm' (16.84-16.99) is kept; the word 'hello' etc. map with the same cuts
    hello = next(c for c in cue_set.cues if c.text == "hello Jane Doe")
    assert [(w.text, w.start_ms) for w in hello.words] == [("hello", 1190), ("Jane", 3420), ("Doe", 4150)]


def test_words_cut_from_the_audio_leave_the_text():
    doc = load_transcript(sample())
    # 'hello' (11.19-12.19) is wholly inside the removed stretch 11-12.3 s
    cue_set = build_cues(doc, timeline=_timeline([(0.0, 11.0), (12.3, 60.0)]))
    hello = next(c for c in cue_set.cues if "Jane" in c.text)
    assert hello.text == "Jane Doe" and hello.clipped


def test_gaps_in_the_media_shift_times():
    doc = load_transcript(sample())
    # 5 s of wall clock (1-6 s after the start) are absent from the recording's media
    timeline = _timeline([(0.0, 100.0)], gaps=[Gap(SAMPLE_START + 1000, 5000)])
    cues = build_cues(doc, timeline=timeline).cues
    assert (cues[0].start_ms, cues[0].end_ms) == (5900, 9500)


def test_srt_and_vtt_stay_valid_through_a_timeline():
    doc = load_transcript(rich_document())
    timeline = ExportTimeline(MediaClock(doc.start_ms), TimeMap.concatenation([(0.0, 4.5), (5.5, 30.0)]))
    check_srt(render(doc, "SRT", timeline=timeline))
    check_vtt(render(doc, "VTT", timeline=timeline))


def test_no_timeline_times_are_relative_to_the_transcript_start():
    raw = sample()
    raw["transcripts"][0]["startTime"] += 1000
    cues = build_cues(load_transcript(raw)).cues
    assert cues[0].start_ms == 9900


def test_cue_dataclass_is_frozen():
    cue = build_cues(load_transcript(sample())).cues[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cue.text = "x"  # type: ignore[misc]


def test_gctxt_names_the_wall_clock_start_of_the_exported_file():
    doc = load_transcript(sample())
    # 5 s of wall clock absent from the media at +1 s; the file starts at media 10 s -> wall +15 s
    timeline = _timeline([(10.0, 60.0)], gaps=[Gap(SAMPLE_START + 1000, 5000)])
    text = render(doc, "GCTXT", timeline=timeline).decode()
    assert "Media start (UTC): 2021-01-15T03:00:13.066Z (exported audio file)" in text
    # 'hello Jane Doe' (wall 10.9-14.5 s = media 5.9-9.5 s) is before the file; 'how are you' at
    # wall 16.4 s = media 11.4 s is 1.4 s into it
    assert "hello Jane Doe" not in text
    assert "[00:00:01.400] Agent: how are you" in text
    assert "Phrases: 4 (1 outside the exported audio)" in text
