"""Simulator-generated transcripts in every format, accepted by the independent validators."""

from __future__ import annotations

import json
import random

import pytest
from transcripts_validators import (
    check_audlab,
    check_aws,
    check_csv,
    check_raw,
    check_sami,
    check_srt,
    check_ttml,
    check_vtt,
)

from simulator import documents
from simulator.org import default_org
from simulator.scenarios import generate_call
from transcripts.cues import build_cues
from transcripts.formats.csv_format import TABLE_SCHEMA
from transcripts.parse import load_transcript
from transcripts.render import render
from transcripts.speakers import SpeakerInfo

END_MS = 1_760_000_000_000
KINDS = (
    "inbound_simple",
    "inbound_hold",
    "blind_transfer",
    "consult_transfer",
    "outbound",
    "multi_recording",
    "mono_pair",
)


@pytest.fixture(scope="module")
def org():
    return default_org()


def _simulated(org, kind: str, seed: int = 1):
    call = generate_call(org, random.Random(f"{kind}-{seed}"), end_ms=END_MS, kind=kind, queue_name="Support")
    (communication_id,) = documents.transcript_communication_ids(call)
    raw = documents.transcript_document(call, org, communication_id)
    details = documents.analytics_details(call, org)
    return call, raw, details


@pytest.mark.parametrize("kind", KINDS)
def test_every_format_of_a_simulated_call_passes_the_validators(org, kind, caplog):
    call, raw, details = _simulated(org, kind)
    doc = load_transcript(json.dumps(raw).encode("utf-8"))
    assert doc.warnings == []
    speakers = SpeakerInfo.from_details(details)
    out = {
        name: render(doc, name, speakers=speakers)
        for name in ("RAW", "AWS", "TTML", "SRT", "VTT", "SAMI", "CSV", "AUDLAB", "GCTXT")
    }
    check_raw(out["RAW"], raw)
    aws = check_aws(out["AWS"])
    check_ttml(out["TTML"], caplog)
    subs = check_srt(out["SRT"])
    cues = check_vtt(out["VTT"])
    check_sami(out["SAMI"], call.language)
    rows = check_csv(out["CSV"], TABLE_SCHEMA)
    _, labels = check_audlab(out["AUDLAB"])
    lines = out["GCTXT"].decode().split("\n\n", 1)[1].splitlines()
    # the same phrases everywhere
    assert len(rows) == len(cues) == len(labels) == len(lines) == len(aws["results"]["audio_segments"]) > 3
    assert len(subs) >= len(cues)
    assert {r["speaker"] for r in rows} <= {"Agent", "Customer", "IVR"}
    # each phrase is attributed to the participant who really said it (names from the details)
    speaker_of = {}
    for u in call.utterances:
        speaker_of[u.words[0].start_ms] = call.participant(u.participant_id)
    for cue in build_cues(doc, speakers=speakers).cues:
        truth = speaker_of[cue.phrase.start_ms]
        expected = "Customer" if truth.purpose in ("customer", "external") else "Agent"
        assert (cue.speaker.label, cue.speaker.name) == (expected, truth.name), cue.text
    assert {c.voice for c in cues} <= {p.name for p in call.participants}


def test_simulated_confidences_are_filtered_and_words_are_cross_referenced(org):
    _, raw, _ = _simulated(org, "inbound_hold", seed=7)
    doc = load_transcript(raw)
    rows = check_csv(render(doc, "CSV"), TABLE_SCHEMA)
    assert all(float(r["confidence"]) >= 0.5 for r in rows if r["confidence"])
    aws = check_aws(render(doc, "AWS"))
    assert sum(len(s["items"]) for s in aws["results"]["audio_segments"]) == len(aws["results"]["items"])
