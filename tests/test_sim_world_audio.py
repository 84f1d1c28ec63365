"""The synthetic audio matches the truth: who speaks where, prompts, music, noise, gaps."""

from __future__ import annotations

import random
from functools import cache

import numpy as np
import pyloudnorm
import pytest
from sim_world_fixtures import END_MS, call_of_kind, org

from audio.channels import EXTERNAL_CHANNEL, INTERNAL_CHANNEL
from simulator.audio_synth import (
    RecordingRenderer,
    media_frames,
    render_block,
    render_recording,
    speech_truth,
)
from simulator.model import Call, Recording
from simulator.scenarios import generate_call

SR = 8000


def _db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12))


@cache
def _rendered(kind: str, index: int = 0) -> tuple[Call, Recording, np.ndarray]:
    call = call_of_kind(kind)
    rec = call.recordings[index]
    return call, rec, render_recording(call, rec, SR)


def _solo_spans(call: Call, rec: Recording, side: str) -> list[tuple[int, int]]:
    """Media frame spans where only `side` speaks (no other speech or sound on either side)."""
    truth = speech_truth(call, rec)
    busy_other = [(a, b) for s, a, b in truth if s != side]
    for snd in call.sounds:
        if snd.scope == rec.scope:
            busy_other += [(a / 1000, b / 1000) for a, b in rec.wall_span_to_media(snd.start_ms, snd.end_ms)]
    out = []
    for s, a, b in truth:
        if s == side and b - a > 0.6 and not any(x < b + 0.1 and a - 0.1 < y for x, y in busy_other):
            out.append((int(a * SR), int(b * SR)))
    return out


def _quiet_spans(call: Call, rec: Recording, frames: int) -> list[tuple[int, int]]:
    busy = np.zeros(frames, dtype=bool)
    for _s, a, b in speech_truth(call, rec):
        busy[max(0, int(a * SR) - 800) : int(b * SR) + 800] = True
    for snd in call.sounds:
        for a, b in rec.wall_span_to_media(snd.start_ms, snd.end_ms):
            busy[max(0, a * SR // 1000 - 800) : b * SR // 1000 + 800] = True
    quiet = ~busy
    return [(i, i + SR) for i in range(0, frames - SR, SR) if quiet[i : i + SR].all()]


def test_dual_recording_puts_customer_and_agent_on_their_channels() -> None:
    call, rec, x = _rendered("inbound_simple")
    assert x.dtype == np.float32 and x.shape == (media_frames(rec, SR), 2)
    assert abs(len(x) / SR * 1000 - rec.media_duration_ms) <= 1
    for side, own, other in (
        ("external", EXTERNAL_CHANNEL, INTERNAL_CHANNEL),
        ("internal", INTERNAL_CHANNEL, EXTERNAL_CHANNEL),
    ):
        spans = _solo_spans(call, rec, side)
        assert len(spans) >= 3, f"not enough solo {side} speech to test"
        for a, b in spans:
            assert _db(x[a:b, own]) > -30, f"{side} speech missing on its channel at {a / SR:.1f}s"
            assert _db(x[a:b, other]) < -45, f"{side} speech leaks onto the other channel at {a / SR:.1f}s"


def test_silence_has_a_noise_floor_and_mains_hum() -> None:
    call, rec, x = _rendered("inbound_simple")
    quiet = _quiet_spans(call, rec, len(x))
    assert quiet, "no quiet second in the call"
    for a, b in quiet[:5]:
        for ch in range(2):
            assert -62 < _db(x[a:b, ch]) < -45
    a, b = quiet[0]
    spectrum = np.abs(np.fft.rfft(x[a:b, 0].astype(np.float64)))
    freqs = np.fft.rfftfreq(b - a, 1 / SR)
    hum = spectrum[np.argmin(np.abs(freqs - 50))]
    around = np.median(spectrum[(freqs > 60) & (freqs < 95)])
    assert hum > 10 * around, "50 Hz mains hum not present"


def test_ivr_prompts_queue_music_and_hold_music_are_on_the_internal_side() -> None:
    rng = random.Random(5)
    call = generate_call(org(), rng, end_ms=END_MS, kind="inbound_hold", duration_s=150)
    while call.recordings[0].gaps:
        call = generate_call(org(), rng, end_ms=END_MS, kind="inbound_hold", duration_s=150)
    rec = call.recordings[0]
    x = render_recording(call, rec, SR)
    kinds = set()
    for snd in call.sounds:
        for a, b in rec.wall_span_to_media(snd.start_ms, snd.end_ms):
            fa, fb = a * SR // 1000, b * SR // 1000
            if fb - fa < SR:
                continue
            kinds.add(snd.kind)
            assert _db(x[fa:fb, INTERNAL_CHANNEL]) > -40, f"{snd.kind} inaudible"
            customer_speaks = any(
                s == "external" and sa < fb / SR and fa / SR < sb for s, sa, sb in speech_truth(call, rec)
            )
            if not customer_speaks:
                assert _db(x[fa:fb, EXTERNAL_CHANNEL]) < -45, f"{snd.kind} leaks onto the customer channel"
    assert {"ivr_prompt", "hold_music"} <= kinds


def test_speech_is_loud_like_speech_and_speakers_differ_in_pitch() -> None:
    call, rec, x = _rendered("inbound_simple")
    meter = pyloudnorm.Meter(SR)
    pitches = {}
    for side, ch in (("external", EXTERNAL_CHANNEL), ("internal", INTERNAL_CHANNEL)):
        spans = _solo_spans(call, rec, side)
        speech = np.concatenate([x[a:b, ch] for a, b in spans]).astype(np.float64)
        loudness = meter.integrated_loudness(speech)
        assert -35 < loudness < -12, f"{side} speech loudness {loudness:.1f} LUFS"
        pitches[side] = _median_pitch(speech)
    assert 70 < pitches["external"] < 300 and 70 < pitches["internal"] < 300
    assert abs(pitches["external"] - pitches["internal"]) > 20, pitches


def _median_pitch(x: np.ndarray) -> float:
    frame = 400
    out = []
    for i in range(0, len(x) - frame, frame):
        seg = x[i : i + frame] - x[i : i + frame].mean()
        if np.sqrt(np.mean(seg**2)) < 0.02:
            continue
        ac = np.correlate(seg, seg, "full")[frame - 1 :]
        lo, hi = SR // 320, SR // 70
        lag = lo + int(np.argmax(ac[lo:hi]))
        out.append(SR / lag)
    return float(np.median(out))


def test_gaps_are_cut_out_of_the_media() -> None:
    rng = random.Random(0)
    for _ in range(200):
        call = generate_call(org(), rng, end_ms=END_MS, kind="inbound_simple", duration_s=150)
        if call.recordings[0].gaps:
            break
    else:
        pytest.fail("no call with a recording gap")
    rec = call.recordings[0]
    x = render_recording(call, rec, SR)
    assert abs(len(x) / SR * 1000 - (rec.end_ms - rec.start_ms - sum(g.duration_ms for g in rec.gaps))) <= 1
    for _side, a, b in speech_truth(call, rec):
        assert 0 <= a < b <= len(x) / SR + 1e-3
    for g in rec.gaps:
        for u in call.utterances:
            if g.wall_start_ms <= u.start_ms and u.end_ms <= g.wall_end_ms:
                assert not rec.wall_span_to_media(u.start_ms, u.end_ms)


def test_mono_recordings_carry_one_side_each() -> None:
    call = call_of_kind("mono_pair")
    trunk, station = call.recordings
    for rec, side in ((trunk, "external"), (station, "internal")):
        x = render_recording(call, rec, SR)
        assert x.shape == (media_frames(rec, SR), 1)
        truth = speech_truth(call, rec)
        assert truth and {s for s, _a, _b in truth} == {side}
        loud = [_db(x[int(a * SR) : int(b * SR), 0]) for _s, a, b in truth if b - a > 0.5]
        assert np.median(loud) > -30


def test_consult_recording_holds_the_agents_private_conversation() -> None:
    call = call_of_kind("consult_transfer")
    consult = call.recordings[1]
    x = render_recording(call, consult, SR)
    truth = speech_truth(call, consult)
    assert truth and all(
        u.scope == "consult"
        for u in call.utterances
        if consult.start_ms <= u.start_ms < consult.end_ms and u.scope == "consult"
    )
    assert max(_db(x[int(a * SR) : int(b * SR)]) for _s, a, b in truth) > -30


def test_block_rendering_equals_whole_rendering_and_is_deterministic() -> None:
    call, rec, whole = _rendered("inbound_hold")
    renderer = RecordingRenderer(call, rec, SR)
    parts = [renderer.render_block(s, 12_345) for s in range(0, renderer.total_frames, 12_345)]
    assert np.array_equal(np.concatenate(parts), whole)
    assert np.array_equal(render_block(call, rec, 40_000, 5_000, SR), whole[40_000:45_000])
    assert len(render_block(call, rec, len(whole) - 10, 100, SR)) == 10
    again = generate_call(org(), random.Random("7-inbound_hold"), end_ms=END_MS, kind="inbound_hold")
    assert np.array_equal(render_recording(again, again.recordings[0], SR), whole)
    other = call_of_kind("inbound_simple")
    assert not np.array_equal(render_block(other, other.recordings[0], 0, 8000, SR), whole[:8000])


def test_a_speech_denoiser_keeps_the_voices_and_removes_the_floor() -> None:
    import noisereduce

    call, rec, x = _rendered("inbound_simple")
    ch = EXTERNAL_CHANNEL
    spans = _solo_spans(call, rec, "external")
    quiet = _quiet_spans(call, rec, len(x))
    end = min(len(x), max(b for _a, b in spans[:4]) + SR)
    chunk = x[:end, ch].astype(np.float64)
    qa, qb = quiet[0]
    noise = x[qa:qb, ch].astype(np.float64)
    cleaned = noisereduce.reduce_noise(y=chunk, sr=SR, y_noise=noise, stationary=True)
    for a, b in spans[:4]:
        assert _db(cleaned[a:b]) > _db(chunk[a:b]) - 3, "the denoiser treated speech as noise"
    qa, qb = next((a, b) for a, b in quiet if b <= end)
    assert _db(cleaned[qa:qb]) < _db(chunk[qa:qb]) - 6, "the noise floor was not recognised as noise"
