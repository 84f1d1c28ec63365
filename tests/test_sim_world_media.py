"""Every served format decodes with independent decoders to the expected shape and content."""

from __future__ import annotations

import struct
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf
from sim_world_fixtures import call_of_kind

from audio.channels import EXTERNAL_CHANNEL, INTERNAL_CHANNEL
from simulator.audio_synth import DEFAULT_SAMPLE_RATE, render_recording, speech_truth
from simulator.media import (
    CONTENT_TYPES,
    FORMAT_IDS,
    SAMPLE_RATES,
    UnsupportedFormatError,
    content_type,
    encode_recording,
    media_file_name,
)


def _short_call():
    return call_of_kind("mono_pair")


def _decode_pyav(path: Path) -> tuple[np.ndarray, int]:
    chunks, rate = [], 0
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            rate = frame.sample_rate
            data = frame.to_ndarray()
            if frame.format.is_planar:
                chunks.append(data.T)
            else:
                chunks.append(data.reshape(-1, len(frame.layout.channels)))
    samples = np.concatenate(chunks).astype(np.float64)
    if samples.dtype.kind == "i" or np.abs(samples).max() > 2:
        samples = samples / 32768.0
    return samples, rate


@pytest.mark.parametrize("format_id", FORMAT_IDS)
@pytest.mark.parametrize("kind,index", [("inbound_simple", 0), ("mono_pair", 1)])
def test_every_format_decodes_to_expected_channels_rate_and_duration(
    format_id: str, kind: str, index: int, tmp_path: Path
) -> None:
    call = call_of_kind(kind)
    rec = call.recordings[index]
    path = encode_recording(call, rec, format_id, tmp_path)
    assert path.name == media_file_name(rec, format_id) and path.stat().st_size > 1000
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
    expected_s = rec.media_duration_ms / 1000
    samples, rate = _decode_pyav(path)
    assert rate == SAMPLE_RATES[format_id]
    assert samples.shape[1] == rec.channels
    assert abs(len(samples) / rate - expected_s) <= 0.020, f"PyAV: {len(samples) / rate} s vs {expected_s} s"
    if format_id != "WEBM":  # libsndfile has no WebM reader
        info = sf.info(str(path))
        # libsndfile decodes Ogg Opus at the header's input rate: the call's own (RFC 7845)
        sf_rate = DEFAULT_SAMPLE_RATE if format_id == "OGG_OPUS" else SAMPLE_RATES[format_id]
        assert info.channels == rec.channels and info.samplerate == sf_rate
        assert abs(info.frames / info.samplerate - expected_s) <= 0.020
    # the speech is where the truth says it is, on the right channel
    truth = [(s, a, b) for s, a, b in speech_truth(call, rec) if b - a > 0.8]
    assert truth
    for side, a, b in truth[:6]:
        ch = 0 if rec.channels == 1 else (EXTERNAL_CHANNEL if side == "external" else INTERNAL_CHANNEL)
        seg = samples[int(a * rate) : int(b * rate), ch]
        assert 20 * np.log10(np.sqrt(np.mean(seg**2)) + 1e-12) > -32, f"{format_id}: no speech at {a:.2f}s"


def test_wav_is_pcm16_of_the_rendered_samples_and_ulaw_has_format_tag_7(tmp_path: Path) -> None:
    call = _short_call()
    rec = call.recordings[0]
    wav = encode_recording(call, rec, "WAV", tmp_path / "a.wav")
    data, rate = sf.read(str(wav), dtype="float64", always_2d=True)
    assert sf.info(str(wav)).subtype == "PCM_16"
    rendered = render_recording(call, rec, rate).astype(np.float64)
    assert np.max(np.abs(data - rendered)) < 2 / 32768
    ulaw = encode_recording(call, rec, "WAV_ULAW", tmp_path / "b.wav")
    raw = ulaw.read_bytes()
    assert raw[:4] == b"RIFF" and raw[8:12] == b"WAVE"
    fmt = raw.index(b"fmt ")
    tag, channels, rate = struct.unpack("<HHI", raw[fmt + 8 : fmt + 16])
    assert (tag, channels, rate) == (7, 1, 8000)
    decoded, _ = sf.read(str(ulaw), dtype="float64", always_2d=True)
    assert np.corrcoef(decoded[:, 0], rendered[:, 0])[0, 1] > 0.99


def test_content_types_and_unknown_formats(tmp_path: Path) -> None:
    assert set(CONTENT_TYPES) == set(FORMAT_IDS)
    assert content_type("MP3") == "audio/mpeg" and content_type("WEBM") == "audio/webm"
    call = _short_call()
    with pytest.raises(UnsupportedFormatError, match="FLAC"):
        encode_recording(call, call.recordings[0], "FLAC", tmp_path)
    assert not list(tmp_path.iterdir())


def test_encoding_is_deterministic_for_lossless_formats(tmp_path: Path) -> None:
    call = _short_call()
    rec = call.recordings[1]
    a = encode_recording(call, rec, "WAV", tmp_path / "a.wav").read_bytes()
    b = encode_recording(call, rec, "WAV", tmp_path / "b.wav").read_bytes()
    assert a == b
