"""Hold and pause annotations: the recording timeline when holds are recorded and when they are cut.

An org either records holds (hold music in the media, a hold annotation whose `absoluteDurationMs`
equals its `durationMs`) or suppresses them (a *pause* annotation with reason `Hold` and
`absoluteDurationMs` 0, the stretch cut from the media). The simulator produces both
(`simulator.recording_variants`); the segment plan and the exported segment files must follow the
media in both, also when the annotations do not say how much of the hold is in the media (then the
media's length decides).
"""

from __future__ import annotations

import copy
import random

import numpy as np
import pytest
import soundfile as sf
from sim_fidelity import assert_sdk_roundtrip

from audio.annotations import media_clock, pauses
from audio.channels import INTERNAL_CHANNEL
from audio.export import export_recording
from audio.options import AudioOptions
from audio.segments import plan_segments
from simulator import documents
from simulator.audio_synth import render_recording
from simulator.org import default_org
from simulator.recording_variants import with_suppressed_holds
from simulator.scenarios import generate_call

SR = 8000
END_MS = 1_781_000_000_000


@pytest.fixture(scope="module")
def org():
    return default_org()


def _call(org, holds: str):
    call = generate_call(org, random.Random("holds-2"), end_ms=END_MS, kind="inbound_hold", duration_s=75.0)
    assert call.recordings[0].holds, "the scenario must have a hold"
    return with_suppressed_holds(call) if holds == "suppressed" else call


def _truth(call, rec) -> list[tuple[str, str, float, float]]:
    out = []
    for p in call.participants:
        for s in p.segments:
            spans = rec.wall_span_to_media(s.start_ms, s.end_ms)
            if spans:
                out.append((p.participant_id, s.segment_type, spans[0][0] / 1000, spans[-1][1] / 1000))
    return sorted(out, key=lambda t: (t[2], t[3], t[0]))


def _plan_matches_truth(plan, call, rec) -> None:
    got = sorted(
        ((s.participant_id, s.segment_type, s.media_start, s.media_end) for s in plan.segments),
        key=lambda t: (t[2], t[3], t[0]),
    )
    want = _truth(call, rec)
    assert [(g[0], g[1]) for g in got] == [(w[0], w[1]) for w in want]
    assert np.allclose([g[2:] for g in got], [w[2:] for w in want], atol=0.002)
    assert abs(plan.media_duration - rec.media_duration_ms / 1000) < 0.002


def test_a_suppressed_hold_is_a_pause_annotation_and_is_cut_from_the_simulated_media(org):
    recorded, suppressed = _call(org, "recorded"), _call(org, "suppressed")
    rec_r, rec_s = recorded.recordings[0], suppressed.recordings[0]
    held = sum(b - a for a, b in rec_r.holds)
    assert rec_s.media_duration_ms == rec_r.media_duration_ms - held
    assert len(render_recording(suppressed, rec_s, SR)) == round(rec_s.media_duration_ms * SR / 1000)
    for call, rec, media in ((recorded, rec_r, held), (suppressed, rec_s, 0)):
        doc = documents.recording(call, rec, org, format_id="WAV", media_uris=None)
        assert_sdk_roundtrip(doc, "Recording")
        holds = [a for a in doc["annotations"] if a["reason"] == "Hold"]
        assert holds and sum(a["durationMs"] for a in holds) == held
        assert sum(a["absoluteDurationMs"] for a in holds) == media
    doc = documents.recording(suppressed, rec_s, org, format_id="WAV", media_uris=None)
    pause_ids = {a["id"] for a in doc["annotations"] if a["absoluteDurationMs"] == 0}
    assert len(pause_ids) == 1  # "All pause annotations on a recording will share an ID value" (SDK)


@pytest.mark.parametrize("holds", ["recorded", "suppressed"])
def test_segment_plan_follows_the_media_whether_holds_are_recorded_or_cut(org, holds):
    call = _call(org, holds)
    rec = call.recordings[0]
    doc = documents.recording(call, rec, org, format_id="WAV", media_uris=None)
    details = documents.analytics_details(call, org)
    _plan_matches_truth(plan_segments(details, doc), call, rec)


@pytest.mark.parametrize("holds", ["recorded", "suppressed"])
def test_a_hold_that_does_not_say_is_settled_by_the_media_length(org, holds):
    """Without absoluteDurationMs, the decoded media's length (or outputDurationMs) tells recorded
    holds from cut ones."""
    call = _call(org, holds)
    rec = call.recordings[0]
    doc = documents.recording(call, rec, org, format_id="WAV", media_uris=None)
    details = documents.analytics_details(call, org)
    bare = copy.deepcopy(doc)
    for a in bare["annotations"]:
        if a["reason"] == "Hold":
            for key in ("absoluteDurationMs", "absoluteLocation", "recordingDurationMs", "recordingLocation"):
                a.pop(key, None)
    assert any(p.cut_ms is None for p in pauses(bare))
    _plan_matches_truth(plan_segments(details, bare), call, rec)  # outputDurationMs decides
    bare.pop("outputDurationMs")
    media_s = rec.media_duration_ms / 1000
    _plan_matches_truth(plan_segments(details, bare, media_duration_s=media_s), call, rec)
    # with neither the annotation's media duration nor a media length, a pause annotation is a cut
    held = sum(b - a for a, b in _call(org, "recorded").recordings[0].holds)
    other = sum(g.duration_ms for g in rec.gaps if g.reason != "Hold")
    assert sum(g.duration_ms for g in media_clock(bare).gaps) == other + held


@pytest.mark.parametrize("holds", ["recorded", "suppressed"])
def test_agent_segment_files_after_a_hold_are_the_agents_audio(org, holds, tmp_path):
    """Each agent interact file is the source audio of that segment's media span (per the truth)."""
    call = _call(org, holds)
    rec = call.recordings[0]
    doc = documents.recording(call, rec, org, format_id="WAV", media_uris=None)
    details = documents.analytics_details(call, org)
    source = render_recording(call, rec, SR)
    wav = tmp_path / "rec.wav"
    sf.write(wav, source, SR, subtype="PCM_16")
    pcm = sf.read(wav, dtype="int16", always_2d=True)[0]
    options = AudioOptions(
        format="WAV", purposes=("agent",), segment_types=("interact",), channel_layout="default"
    )
    outputs = export_recording(wav, doc, details, options, tmp_path / "out")
    agent = call.agents()[0]
    want = [
        (spans[0][0] / 1000, spans[-1][1] / 1000)
        for s in agent.segments
        if s.segment_type == "interact" and (spans := rec.wall_span_to_media(s.start_ms, s.end_ms))
    ]
    assert len(outputs) == len(want) >= 2
    fade = int(0.005 * SR)
    for out, (a, b) in zip(outputs, want, strict=True):
        assert abs(out.segment.media_start - a) < 0.002 and abs(out.segment.media_end - b) < 0.002
        got = sf.read(out.path, dtype="int16")[0]
        start = round(a * SR)
        assert abs(len(got) - round((b - a) * SR)) <= 1
        assert out.sides == ("internal",)
        assert np.array_equal(got[fade:-fade], pcm[start + fade : start + len(got) - fade, INTERNAL_CHANNEL])
