"""The processing chain measured on the simulator's calls against the simulator's truth."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
from audio_fixtures import SR, db, sim_call, speechlike, true_peak_dbtp

from audio.denoise import NoiseProfile, SpectralGate
from audio.export import export_recording
from audio.limiter import TruePeakLimiter
from audio.loudness import LoudnessMeter
from audio.options import AudioOptions
from simulator.audio_synth import speech_truth


@pytest.mark.parametrize(("kind", "seed"), [("inbound_hold", 3), ("conference", 2)])
def test_noise_reduction_drops_the_floor_10_db_and_keeps_speech_within_1_db(tmp_path, kind, seed):
    call = sim_call(tmp_path, kind, seed=seed, duration_s=100.0)
    (out,) = export_recording(
        call.wav, call.recording, call.details, AudioOptions(format="WAV", reduce_noise=True), tmp_path / "o"
    )
    y, rate = sf.read(str(out.path), dtype="float32")
    x = call.samples
    assert rate == SR and y.shape == x.shape
    quiet = call.quiet_mask()
    assert quiet.sum() > 3 * SR  # enough speech-free, sound-free audio to measure
    for ch in range(2):
        floor_drop = db(x[quiet, ch]) - db(y[quiet, ch])
        speech = call.speech_mask(ch)
        assert speech.sum() > 2 * SR
        speech_change = db(y[speech, ch]) - db(x[speech, ch])
        print(
            f"{kind} ch{ch}: floor {db(x[quiet, ch]):.1f} -> {db(y[quiet, ch]):.1f} dBFS, speech change {speech_change:+.2f} dB"
        )
        assert floor_drop >= 10.0
        assert abs(speech_change) <= 1.0


def _first_last_speech(call) -> tuple[float, float]:
    spans = [(a, b) for _, a, b in speech_truth(call.call, call.rec)]
    return min(a for a, _ in spans), max(b for _, b in spans)


@pytest.mark.parametrize(("kind", "seed"), [("outbound", 4), ("inbound_simple", 1)])
def test_trim_lands_within_100_ms_of_the_first_and_last_sound(tmp_path, kind, seed):
    call = sim_call(tmp_path, kind, seed=seed, duration_s=40.0)
    first, last = _first_last_speech(call)
    sounds = call.sounds_media()
    if sounds:  # an IVR prompt before the first word is not silence
        first = min(first, min(a for _, a, _ in sounds))
    (out,) = export_recording(
        call.wav, call.recording, call.details, AudioOptions(format="WAV", trim_silence=True), tmp_path / "o"
    )
    pieces = out.timeline.timemap.pieces
    kept_start, kept_end = pieces[0].media_start, pieces[-1].media_end
    assert first - 0.100 <= kept_start <= first
    assert last <= kept_end <= last + 0.100
    assert out.stats["trimmed_head_s"] > 0.2 or first < 0.3


def test_trim_never_touches_silence_between_sounds(tmp_path):
    call = sim_call(tmp_path, "outbound", seed=4, duration_s=40.0)
    (out,) = export_recording(
        call.wav, call.recording, call.details, AudioOptions(format="WAV", trim_silence=True), tmp_path / "o"
    )
    y, _ = sf.read(str(out.path), dtype="int16")
    x, _ = sf.read(str(call.wav), dtype="int16")
    start = int(round(out.timeline.timemap.pieces[0].media_start * SR))
    assert len(y) < len(x)
    fade = int(0.005 * SR)
    # Everything between the cut points is the original, sample for sample (inner pauses included).
    assert np.array_equal(y[fade:-fade], x[start + fade : start + len(y) - fade])
    first, last = _first_last_speech(call)
    gaps = [
        (a, b)
        for (_, _, a), (_, b, _) in zip(
            speech_truth(call.call, call.rec), speech_truth(call.call, call.rec)[1:], strict=False
        )
    ]
    assert any(b - a > 1.0 for a, b in gaps if a > first)  # the call has long inner pauses, and they are kept


def test_streaming_loudness_meter_agrees_with_pyloudnorm(tmp_path):
    call = sim_call(tmp_path, "inbound_hold", seed=3, duration_s=45.0)
    meter = LoudnessMeter(SR, 2)
    for i in range(0, len(call.samples), 7777):  # odd block size: steps straddle blocks
        meter.add(call.samples[i : i + 7777])
    assert abs(meter.integrated() - pyloudnorm.Meter(SR).integrated_loudness(call.samples)) < 0.02
    short = np.stack([speechlike(0.25, np.random.default_rng(2))] * 2, axis=1)
    m = LoudnessMeter(SR, 2)
    m.add(short)
    expected = pyloudnorm.Meter(SR, block_size=0.25).integrated_loudness(short)
    assert abs(m.integrated() - expected) < 0.05
    silent = LoudnessMeter(SR, 2)
    silent.add(np.zeros((SR, 2), dtype=np.float32))
    assert silent.integrated() == -np.inf


def test_limiter_holds_the_ceiling_and_leaves_quiet_audio_bit_exact():
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((SR * 10, 2)) * 0.25).astype(np.float32)
    x[::997] *= 4
    lim = TruePeakLimiter(SR, 2, ceiling_dbtp=-3.0, gain=2.0)
    out = np.concatenate([lim.process(x[i : i + 5000]) for i in range(0, len(x), 5000)] + [lim.flush()])
    assert out.shape == x.shape
    assert true_peak_dbtp(out, SR) <= -3.0 + 0.1  # 8x detector vs a 24x meter, on white noise (worst case)
    quiet = (rng.standard_normal((SR * 3, 2)) * 0.01).astype(np.float32)
    lim = TruePeakLimiter(SR, 2, ceiling_dbtp=-1.0)
    same = np.concatenate([lim.process(quiet), lim.flush()])
    assert np.array_equal(same, quiet)


def test_spectral_gate_in_blocks_equals_one_pass():
    rng = np.random.default_rng(3)
    x = np.stack([speechlike(6.0, rng, level_db=-25), speechlike(6.0, rng, level_db=-30)], axis=1)
    x += (rng.standard_normal(x.shape) * 0.003).astype(np.float32)
    profile = NoiseProfile(np.full((129, 2), -45.0, dtype=np.float32), 1.0)

    def run(block: int) -> np.ndarray:
        gate = SpectralGate(SR, 2, profile)
        parts = [gate.process(x[i : i + block]) for i in range(0, len(x), block)]
        return np.concatenate([*parts, gate.flush()])

    whole, small, odd = run(len(x)), run(1000), run(4099)
    assert whole.shape == x.shape
    assert np.allclose(whole, small, atol=1e-6) and np.allclose(whole, odd, atol=1e-6)


def _traced_peak(src: str, work: str) -> tuple[float, int]:
    """In a fresh process: the chain's peak traced allocation (no other test's threads allocating)."""
    options = AudioOptions(format="MP3", trim_silence=True, reduce_noise=True, normalize_loudness=True)
    tracemalloc.start()
    try:
        (out,) = export_recording(Path(src), {"id": "long"}, None, options, Path(work))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out.duration_s, peak


def test_memory_stays_bounded_whatever_the_length(tmp_path):
    """A 10-minute call through the whole chain to MP3: traced allocations stay far below one copy of it."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    rng = np.random.default_rng(11)
    n = 600 * SR
    src = tmp_path / "long.wav"
    with sf.SoundFile(str(src), "w", samplerate=SR, channels=2, subtype="PCM_16") as f:
        for _ in range(0, n, 60 * SR):
            voice = speechlike(60.0, rng, level_db=-28)
            voice[: 10 * SR] = 0
            block = (
                np.stack([voice, np.roll(voice, 20 * SR)], axis=1)
                + rng.standard_normal((60 * SR, 2)).astype(np.float32) * 0.002
            )
            f.write(block)
    one_copy = n * 2 * 4  # float32 stereo: 38 MB
    # measured in a process of its own, as the service's DSP workers run it: tracemalloc counts the
    # allocations of every thread, and a test process may still have other tests' threads running
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        duration, peak = pool.submit(_traced_peak, str(src), str(tmp_path / "o")).result(timeout=600)
    assert duration > 500
    print(f"peak traced memory {peak / 1e6:.1f} MB for a call of {one_copy / 1e6:.0f} MB (float32)")
    assert peak < one_copy / 2
