"""Segment plan, extraction, concatenation and chapters against the simulator's truth of the call."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import SR, decode_av, sim_call

from audio.channels import INTERNAL_CHANNEL
from audio.export import export_recording
from audio.options import AudioOptions
from audio.segments import SegmentPlan, chapter_spans, plan_segments, resolve_overlaps


def _truth_spans(
    call, purpose: str | None = None, segment_type: str | None = None
) -> list[tuple[str, str, float, float]]:
    """(participant id, type, media start, media end) of every truth segment heard in the recording."""
    out = []
    for p in call.call.participants:
        if purpose and p.purpose != purpose:
            continue
        for s in p.segments:
            if segment_type and s.segment_type != segment_type:
                continue
            spans = call.rec.wall_span_to_media(s.start_ms, s.end_ms)
            if spans:
                out.append((p.participant_id, s.segment_type, spans[0][0] / 1000, spans[-1][1] / 1000))
    return sorted(out, key=lambda t: (t[2], t[3], t[0]))


@pytest.mark.parametrize(
    ("kind", "seed"), [("inbound_hold", 3), ("consult_transfer", 3), ("inbound_simple", 6)]
)
def test_plan_places_every_segment_where_the_truth_has_it(tmp_path, kind, seed):
    call = sim_call(tmp_path, kind, seed=seed, duration_s=60.0)
    plan = plan_segments(call.details, call.recording)
    got = sorted(
        ((s.participant_id, s.segment_type, s.media_start, s.media_end) for s in plan.segments),
        key=lambda t: (t[2], t[3], t[0]),
    )
    want = _truth_spans(call)
    assert [(g[0], g[1]) for g in got] == [(w[0], w[1]) for w in want]
    assert np.allclose([g[2:] for g in got], [w[2:] for w in want], atol=0.002)
    assert abs(plan.media_duration - len(call.samples) / SR) < 0.002
    if kind == "inbound_simple":  # seed 6 has suppressed IVR/queue audio cut from the media
        assert call.rec.gaps and plan.clock.gaps


def test_plan_filters_are_an_intersection_and_round_trip_through_json(tmp_path):
    call = sim_call(tmp_path, "inbound_hold", seed=3, duration_s=60.0)
    plan = plan_segments(call.details, call.recording, purposes=["agent"], segment_types=["interact"])
    assert plan.segments and {(s.purpose, s.segment_type) for s in plan.segments} == {("agent", "interact")}
    assert [s.ordinal for s in plan.segments] == list(range(1, len(plan.segments) + 1))
    assert SegmentPlan.from_json(plan.to_json()) == plan
    only_agent = plan_segments(call.details, call.recording, purposes=["agent"])
    assert {s.segment_type for s in only_agent.segments} >= {"interact", "hold"}
    nothing = plan_segments(call.details, call.recording, purposes=["agent"], segment_types=["ivr"])
    assert nothing.segments == ()


def test_agent_interact_segments_are_exactly_the_agents_interact_spans(tmp_path):
    """The seed example: ParticipantPurpose = agent and CallSegment = interact."""
    call = sim_call(tmp_path, "inbound_hold", seed=3, duration_s=60.0)
    options = AudioOptions(format="WAV", purposes=("agent",), segment_types=("interact",))
    outputs = export_recording(call.wav, call.recording, call.details, options, tmp_path / "o")
    want = _truth_spans(call, "agent", "interact")
    assert len(want) >= 3 and len(outputs) == len(want)
    source, _ = sf.read(str(call.wav), dtype="int16")
    agent = next(p for p in call.call.participants if p.purpose == "agent")
    for out, (_, _, a, b) in zip(outputs, want, strict=True):
        assert out.segment.participant_name == agent.name and out.segment.segment_type == "interact"
        assert agent.name.replace(" ", "_") in out.path.name and "interact" in out.path.name
        assert f"_{out.segment.ordinal:03d}_" in out.path.name
        y, rate = sf.read(str(out.path), dtype="int16")
        assert abs(len(y) / rate - (b - a)) <= 0.002
        start = int(round(a * SR))
        fade = int(0.005 * SR)
        # An agent's segment file is the agent's track only (mono; see test_audio_tracks.py).
        assert y.ndim == 1 and out.channels == 1
        assert np.array_equal(y[fade:-fade], source[start + fade : start + len(y) - fade, INTERNAL_CHANNEL])


def test_concatenation_keeps_the_interact_audio_and_drops_hold_and_ivr(tmp_path):
    call = sim_call(tmp_path, "inbound_hold", seed=3, duration_s=60.0)
    options = AudioOptions(format="MP3", purposes=("agent",), segment_types=("interact",), concatenate=True)
    (out,) = export_recording(call.wav, call.recording, call.details, options, tmp_path / "o")
    want = _truth_spans(call, "agent", "interact")
    total = sum(b - a for _, _, a, b in want)
    samples, rate = decode_av(out.path)
    assert abs(len(samples) / rate - total) <= 0.020 and abs(out.duration_s - total) <= 0.002
    pieces = out.timeline.timemap.pieces
    assert np.allclose(
        [(p.media_start, p.media_end) for p in pieces], [(a, b) for _, _, a, b in want], atol=0.002
    )
    tm = out.timeline.timemap
    for kind, a, b in call.sounds_media():  # hold music, IVR prompts, queue music: none of it is kept
        assert kind in ("hold_music", "ivr_prompt", "queue_music", "beep")
        assert tm.map_span(a + 0.01, b - 0.01) is None
    # Wall clock -> file time goes through the cuts: each interact segment starts where the previous ended.
    agent = next(p for p in call.call.participants if p.purpose == "agent")
    interacts = [s for s in agent.segments if s.segment_type == "interact"]
    assert out.timeline.map_span(interacts[1].start_ms, interacts[1].start_ms + 500)[0] == pytest.approx(
        want[0][3] - want[0][2], abs=0.002
    )


def test_concatenating_overlapping_segments_lets_the_longest_win(tmp_path):
    call = sim_call(tmp_path, "inbound_simple", seed=1, duration_s=60.0)
    options = AudioOptions(
        format="WAV", purposes=("agent", "customer", "acd"), segment_types=("interact",), concatenate=True
    )
    plan = plan_segments(
        call.details, call.recording, purposes=options.purposes, segment_types=options.segment_types
    )
    pieces = resolve_overlaps(plan.segments)
    spans = [(a, b) for _, a, b in pieces]
    assert all(b1 <= a2 + 1e-9 for (_, b1), (a2, _) in zip(spans, spans[1:], strict=False))  # no overlap
    longest = max(plan.segments, key=lambda s: s.duration)
    assert (longest.media_start, longest.media_end) in [(a, b) for s, a, b in pieces if s is longest]
    assert all(s is longest for s, _, _ in pieces)  # the customer's segment covers the others
    (out,) = export_recording(call.wav, call.recording, call.details, options, tmp_path / "o")
    union = longest.media_end - longest.media_start
    assert abs(out.duration_s - union) <= 0.002


def test_chapters_follow_the_call_one_per_participant_segment(tmp_path):
    call = sim_call(tmp_path, "inbound_hold", seed=3, duration_s=60.0)
    plan = plan_segments(call.details, call.recording)
    chapters = chapter_spans(plan.segments, len(call.samples) / SR)
    titles = [t for t, *_ in chapters]
    agent = next(p for p in call.call.participants if p.purpose == "agent")
    assert chapters[0][1] == 0.0 and chapters[-1][2] == pytest.approx(len(call.samples) / SR)
    assert all(c1[2] == c2[1] for c1, c2 in zip(chapters, chapters[1:], strict=False))
    assert any("ivr" in t for t in titles)
    assert f"{agent.name} (agent) - hold" in titles and f"{agent.name} (agent) - interact" in titles
    for title, a, b, seg in chapters:
        if seg.segment_type == "hold":
            truth = [(x, y) for _, t, x, y in _truth_spans(call, "agent", "hold")]
            assert any(abs(a - x) < 0.002 and abs(b - y) < 0.002 for x, y in truth), title


def test_a_filter_that_leaves_nothing_exports_nothing_with_a_clear_log_line(tmp_path, caplog):
    call = sim_call(tmp_path, "inbound_hold", seed=3, duration_s=60.0)
    caplog.set_level(logging.INFO, logger="audio.export")
    for concatenate in (False, True):
        options = AudioOptions(format="MP3", purposes=("voicemail",), concatenate=concatenate)
        assert export_recording(call.wav, call.recording, call.details, options, tmp_path / "o") == []
    assert "no participant segment matches" in caplog.text and call.call.conversation_id in caplog.text
    assert not [p for p in (tmp_path / "o").iterdir() if not p.name.startswith(".")]


def test_timeline_follows_the_cuts_and_the_trim_for_the_transcripts(tmp_path):
    """A word's wall-clock time, mapped through the file's timeline, lands on the same audio in the file."""
    call = sim_call(tmp_path, "inbound_hold", seed=3, duration_s=60.0)
    options = AudioOptions(
        format="WAV", purposes=("agent",), segment_types=("interact",), concatenate=True, trim_silence=True
    )
    (out,) = export_recording(call.wav, call.recording, call.details, options, tmp_path / "o")
    assert out.stats["trimmed_head_s"] > 0  # the first interact segment starts with silence
    y, _ = sf.read(str(out.path), dtype="int16")
    x, _ = sf.read(str(call.wav), dtype="int16")
    x = x[:, INTERNAL_CHANNEL]  # an agent-only export carries the agent's track only (mono)
    checked = 0
    for u in call.call.utterances:
        mapped = out.timeline.map_span(u.start_ms, u.end_ms)
        media = call.rec.wall_span_to_media(u.start_ms, u.end_ms)
        if mapped is None or not media or out.timeline.timemap.to_output(media[0][0] / 1000) is None:
            continue
        a_out, a_media = int(round(mapped[0] * SR)), int(round(media[0][0] / 1000 * SR))
        n = min(800, len(y) - a_out)
        assert np.array_equal(y[a_out + 40 : a_out + n], x[a_media + 40 : a_media + n])
        checked += 1
    assert checked >= 3
