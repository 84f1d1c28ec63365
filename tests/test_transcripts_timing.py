"""Subtitle timing follows the exported audio: segment extraction, a secure pause, holds and silence trim.

A simulated call is rendered to audio by the simulator, exported by the real audio engine (agent
`interact` segments only, concatenated, silence trimmed), and its transcript rendered through the
`ExportTimeline` the engine returned for that file. Every kept phrase's cue (as read back from the
SRT/VTT files by their parsers) must lie within the speech the simulator generated for that phrase,
mapped into the exported file, to within 50 ms. Independently of any timeline, the exported audio
under each cue must be the source audio of that phrase (sample correlation), so the timeline
describes the file that was really written.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import soundfile as sf
from transcripts_validators import check_srt, check_vtt, vtt_ms

from audio.channels import channel_of_side
from audio.export import export_recording
from audio.options import AudioOptions
from simulator import documents
from simulator.audio_synth import render_recording, speech_truth
from simulator.org import default_org
from simulator.recording_variants import with_suppressed_holds
from simulator.scenarios import generate_call
from simulator.transcript_synth import transcribed_recording
from transcripts.confidence import keeps_phrase, score_phrase
from transcripts.cues import build_cues
from transcripts.parse import load_transcript
from transcripts.render import render_many

TOLERANCE_S = 0.050
RATE = 8000


SCENARIOS = {
    # a secure pause (a gap in the media) and a hold (not interact, recorded), one concatenated file
    "concatenated": ("inbound_hold", "timing-4", True, "recorded"),
    # the same call from an org that does not record holds: each hold is a pause cut from the media
    "hold-suppressed": ("inbound_hold", "timing-4", True, "suppressed"),
    # holds cut from the media, one file per agent interact segment (the segments after each hold)
    "hold-suppressed-per-segment": ("inbound_hold", "timing-4", False, "suppressed"),
    # two agents, one file per agent interact segment: each file cuts the other agent's phrases
    "per-segment": ("blind_transfer", "timing-1", False, "recorded"),
}


@pytest.fixture(scope="module", params=list(SCENARIOS))
def exported(request, tmp_path_factory):
    """(call, recording, source audio, exported outputs, transcript document)."""
    kind, seed, concatenate, holds = SCENARIOS[request.param]
    org = default_org()
    call = generate_call(org, random.Random(seed), end_ms=1_760_000_000_000, kind=kind, queue_name="Support")
    if holds == "suppressed":
        call = with_suppressed_holds(call)
        assert any(g.reason == "Hold" for r in call.recordings for g in r.gaps)
    rec = transcribed_recording(call)
    tmp = tmp_path_factory.mktemp("timing")
    source = render_recording(call, rec, sample_rate=RATE)
    sf.write(tmp / "recording.wav", source, RATE, subtype="PCM_16")
    recording = documents.recording(call, rec, org, format_id="WAV", media_uris=None)
    details = documents.analytics_details(call, org)
    options = AudioOptions(
        format="WAV",
        trim_silence=True,
        purposes=("agent",),
        segment_types=("interact",),
        concatenate=concatenate,
    )
    outputs = export_recording(tmp / "recording.wav", recording, details, options, tmp / "out")
    agent_interacts = sum(
        1
        for p in call.agents()
        for s in p.segments
        if s.segment_type == "interact" and rec.wall_span_to_media(s.start_ms, s.end_ms)
    )
    assert len(outputs) == (1 if concatenate else agent_interacts) and len(outputs) >= 1
    (communication_id,) = documents.transcript_communication_ids(call)
    doc = load_transcript(documents.transcript_document(call, org, communication_id))
    source_pcm, _ = sf.read(tmp / "recording.wav", dtype="float32", always_2d=True)
    return call, rec, source_pcm, outputs, doc


def _merged(truth):
    """speech_truth entries, with the pieces of one utterance split by a media gap joined again."""
    out: list[list] = []
    for side, a, b in truth:
        previous = next((m for m in reversed(out) if m[0] == side), None)
        if previous is not None and abs(previous[2] - a) < 0.001:
            previous[2] = b
        else:
            out.append([side, a, b])
    return out


def _media_position(rec, phrase) -> float:
    """Media seconds of the middle of the phrase's first word that is in the recording's media."""
    for word in phrase.words:
        media = rec.wall_to_media_ms((word.start_ms + word.end_ms) // 2)
        if media is not None:
            return media / 1000
    raise AssertionError(f"{phrase.text!r} is not in the media at all")


def test_cues_lie_within_the_generated_speech_in_the_exported_file(exported):
    call, rec, _, outputs, doc = exported
    truth = _merged(speech_truth(call, rec))
    assert sum(o.stats["trimmed_head_s"] + o.stats["trimmed_tail_s"] for o in outputs) > 0  # really trimmed
    shown = 0
    for output in outputs:
        shown += _check_one_file(rec, truth, output, doc)
    assert shown >= len(doc.phrases) * 0.8  # most phrases are in some file


def _check_one_file(rec, truth, output, doc) -> int:
    timemap = output.timeline.timemap
    cue_set = build_cues(doc, timeline=output.timeline)
    assert len(cue_set.cues) >= (5 if output.segment is None else 1)
    outside = [p for p in doc.phrases if not any(p is c.phrase for c in cue_set.cues)]
    files = render_many(doc, ["SRT", "VTT"], timeline=output.timeline)
    srt_cues = check_srt(files["SRT"])
    vtt_cues = check_vtt(files["VTT"])
    assert len(vtt_cues) == len(cue_set.cues)
    checked = 0
    for cue, vtt_cue in zip(cue_set.cues, vtt_cues, strict=True):
        start, end = vtt_ms(vtt_cue.start_time) / 1000, vtt_ms(vtt_cue.end_time) / 1000
        assert (start, end) == (cue.start_ms / 1000, cue.end_ms / 1000)
        media_at = _media_position(rec, cue.phrase)
        (_, a, b) = next(t for t in truth if t[0] == cue.phrase.purpose and t[1] - 0.001 <= media_at <= t[2])
        span = timemap.map_span(a, b)
        assert span is not None, f"{cue.text!r}: its speech is not in the exported file"
        assert span[0] - TOLERANCE_S <= start < end <= span[1] + TOLERANCE_S, (cue.text, (start, end), span)
        # the SRT blocks showing this phrase lie inside its speech too
        for sub in srt_cues:
            if f": {cue.text}" in sub.content and start <= sub.start.total_seconds() < end:
                assert (
                    span[0] - TOLERANCE_S
                    <= sub.start.total_seconds()
                    < sub.end.total_seconds()
                    <= span[1] + TOLERANCE_S
                )
        checked += 1
    assert checked == len(cue_set.cues)
    # a phrase not shown is either below the confidence threshold or was spoken outside the export
    for phrase in outside:
        if keeps_phrase(score_phrase(phrase)):
            assert all(output.timeline.map_span(w.start_ms, w.end_ms) is None for w in phrase.words), (
                phrase.text
            )
    return len(cue_set.cues)


def test_exported_audio_under_each_cue_is_the_phrase_source_audio(exported):
    _, _, source, outputs, doc = exported
    for output in outputs:
        _check_audio(source, output, doc)


def _check_audio(source, output, doc) -> None:
    written, rate = sf.read(output.path, dtype="float32", always_2d=True)
    assert rate == RATE
    assert abs(len(written) / RATE - output.duration_s) < 0.01
    for cue in build_cues(doc, timeline=output.timeline).cues:
        channel = output.channel_of_side(cue.phrase.purpose)
        if channel is None:  # that side's track is not in this file (participant-track selection)
            continue
        out_a, out_b = cue.start_ms / 1000, cue.end_ms / 1000
        piece = next(p for p in output.timeline.timemap.pieces if p.out_start - 0.002 <= out_a < p.out_end)
        length = min(out_b, piece.out_end) - out_a
        media_a = piece.media_start + (out_a - piece.out_start)
        n = int(length * RATE)
        got = written[round(out_a * RATE) : round(out_a * RATE) + n, channel]
        want = source[round(media_a * RATE) : round(media_a * RATE) + n, channel_of_side(cue.phrase.purpose)]
        assert np.sqrt(np.mean(got**2)) > 1e-3, f"{cue.text!r}: silence under the cue"
        correlation = float(np.dot(got, want) / (np.linalg.norm(got) * np.linalg.norm(want)))
        assert correlation > 0.99, (cue.text, correlation)
