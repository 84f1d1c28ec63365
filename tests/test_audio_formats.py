"""Every output format, checked with independent decoders and meters (PyAV/FFmpeg, soundfile, mutagen,
pyloudnorm, an oversampled true-peak meter, and ffmpeg's ebur128 when the executable is installed)."""

from __future__ import annotations

import struct

import av
import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import (
    SR,
    SimCall,
    decode_av,
    ffmpeg_ebur128,
    lufs,
    sim_call,
    speechlike,
    true_peak_dbtp,
    wav_chunks,
)
from mutagen.id3 import ID3
from mutagen.mp4 import MP4

from audio.export import AudioOutput, export_recording
from audio.options import EXTENSIONS, FORMATS, AudioOptions

NATIVE_RATE = {"WEBM": 48000, "OGG_OPUS": 48000}  # Opus always decodes at 48 kHz


@pytest.fixture(scope="module")
def call(tmp_path_factory) -> SimCall:
    return sim_call(tmp_path_factory.mktemp("fmt-src"), "inbound_hold", seed=3, duration_s=45.0)


@pytest.fixture(scope="module")
def normalized(call, tmp_path_factory) -> dict[str, AudioOutput]:
    out = {}
    for fmt in FORMATS:
        work = tmp_path_factory.mktemp(f"fmt-{fmt}")
        outputs = export_recording(
            call.wav, call.recording, call.details, AudioOptions(format=fmt, normalize_loudness=True), work
        )
        assert len(outputs) == 1
        out[fmt] = outputs[0]
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_decodes_independently_to_rate_channels_and_duration(normalized, call, fmt):
    out = normalized[fmt]
    assert out.path.suffix == EXTENSIONS[fmt] and out.path.stat().st_size > 0
    samples, rate = decode_av(out.path)
    assert rate == NATIVE_RATE.get(fmt, SR)
    assert samples.shape[1] == 2
    source_s = len(call.samples) / SR
    assert abs(len(samples) / rate - out.duration_s) <= 0.020
    assert abs(out.duration_s - source_s) <= 0.020 + (0.128 if fmt == "M4B" else 0.0)  # AAC: whole frames
    if fmt not in ("WEBM", "M4B"):  # soundfile (libsndfile) as a second decoder
        info = sf.info(str(out.path))
        assert info.channels == 2
        assert abs(info.frames / info.samplerate - out.duration_s) <= 0.020


@pytest.mark.parametrize("fmt", FORMATS)
def test_loudness_on_target_and_true_peak_under_minus_one_on_decoded_output(normalized, fmt):
    samples, rate = decode_av(normalized[fmt].path)
    assert abs(lufs(samples, rate) - (-23.0)) <= 1.0
    assert true_peak_dbtp(samples, rate) <= -1.0
    ff = ffmpeg_ebur128(normalized[fmt].path)
    if ff is not None:
        integrated, peak = ff
        assert abs(integrated - (-23.0)) <= 1.0
        assert peak <= -1.0


def test_wav_ulaw_has_format_tag_7_and_fact_chunk(normalized):
    chunks = wav_chunks(normalized["WAV_ULAW"].path)
    tag, channels, rate, byte_rate, align, bits = struct.unpack("<HHIIHH", chunks[b"fmt "][:16])
    assert (tag, channels, rate, bits, align, byte_rate) == (7, 2, SR, 8, 2, 2 * SR)
    assert b"fact" in chunks
    pcm = wav_chunks(normalized["WAV"].path)
    assert struct.unpack("<HHIIHH", pcm[b"fmt "][:16])[0] == 1


def test_lossy_formats_hold_true_peak_on_a_peaky_signal_that_needs_the_limiter(tmp_path):
    """A quiet talker with loud clicks: +15 dB of gain would put peaks at +12 dBFS without the limiter."""
    rng = np.random.default_rng(7)
    voice = speechlike(20.0, rng, level_db=-38.0)
    x = np.stack([voice, np.roll(voice, 4000) * 0.7], axis=1)
    for at in rng.integers(SR, len(x) - SR, 25):
        x[at : at + 3, int(at) % 2] = [0.7, -0.9, 0.6]
    src = tmp_path / "peaky.wav"
    sf.write(str(src), x, SR, subtype="PCM_16")
    for fmt in ("WAV", "MP3", "M4B", "OGG_OPUS"):
        (out,) = export_recording(
            src, {"id": f"peaky-{fmt}"}, None, AudioOptions(format=fmt, normalize_loudness=True), tmp_path
        )
        assert out.stats["limited_samples"] > 0
        samples, rate = decode_av(out.path)
        assert true_peak_dbtp(samples, rate) <= -1.0, fmt
        assert abs(lufs(samples, rate) - (-23.0)) <= 1.0, fmt


def _expected_chapters(out: AudioOutput) -> list[tuple[str, float, float]]:
    assert out.chapters, "the export produced no chapters"
    return list(out.chapters)


def test_mp3_chapters_read_by_mutagen_and_pyav(call, tmp_path):
    (out,) = export_recording(
        call.wav, call.recording, call.details, AudioOptions(format="MP3", chapters=True), tmp_path
    )
    want = _expected_chapters(out)
    tags = ID3(str(out.path))
    (toc,) = tags.getall("CTOC")
    assert toc.flags & 3 == 3  # top-level, ordered
    chaps = {c.element_id: c for c in tags.getall("CHAP")}
    got = [
        (str(chaps[i].sub_frames["TIT2"]), chaps[i].start_time / 1000, chaps[i].end_time / 1000)
        for i in toc.child_element_ids
    ]
    assert [g[0] for g in got] == [w[0] for w in want]
    assert np.allclose([g[1:] for g in got], [w[1:] for w in want], atol=0.001)
    # CHAP frames are stored in time order (readers that ignore CTOC list them in file order).
    assert [c.start_time for c in tags.getall("CHAP")] == sorted(c.start_time for c in tags.getall("CHAP"))
    with av.open(str(out.path)) as c:
        pyav = [
            (
                ch["metadata"]["title"],
                float(ch["start"] * ch["time_base"]),
                float(ch["end"] * ch["time_base"]),
            )
            for ch in c.chapters()
        ]
    assert [p[0] for p in pyav] == [w[0] for w in want]
    assert np.allclose([p[1:] for p in pyav], [w[1:] for w in want], atol=0.001)
    assert want[0][1] == 0.0 and abs(want[-1][2] - out.duration_s) < 0.01


def test_m4b_chapters_read_by_mutagen_and_pyav(call, tmp_path):
    (out,) = export_recording(
        call.wav, call.recording, call.details, AudioOptions(format="M4B", chapters=True), tmp_path
    )
    want = _expected_chapters(out)
    nero = [(c.title, c.start) for c in MP4(str(out.path)).chapters]
    assert [n[0] for n in nero] == [w[0] for w in want]
    assert np.allclose([n[1] for n in nero], [w[1] for w in want], atol=0.002)
    with av.open(str(out.path)) as c:
        pyav = [(ch["metadata"]["title"], float(ch["start"] * ch["time_base"])) for ch in c.chapters()]
    assert [p[0] for p in pyav] == [w[0] for w in want]
    assert np.allclose([p[1] for p in pyav], [w[1] for w in want], atol=0.002)


def test_m4b_keeps_the_source_bitrate_within_what_aac_allows(call, tmp_path):
    (mp3,) = export_recording(call.wav, {"id": "src32k"}, None, AudioOptions(format="MP3"), tmp_path / "a")
    (m4b,) = export_recording(mp3.path, {"id": "from-mp3"}, None, AudioOptions(format="M4B"), tmp_path / "b")
    assert abs(MP4(str(m4b.path)).info.bitrate - 32000) / 32000 < 0.15
    # A 256 kb/s PCM source is above what AAC delivers at 8 kHz stereo: capped at 48 kb/s.
    (capped,) = export_recording(
        call.wav, {"id": "from-wav"}, None, AudioOptions(format="M4B"), tmp_path / "c"
    )
    assert abs(MP4(str(capped.path)).info.bitrate - 48000) / 48000 < 0.15


@pytest.mark.parametrize("fmt", ["WAV_ULAW", "WEBM", "OGG_VORBIS", "OGG_OPUS", "MP3"])
def test_every_genesys_input_format_decodes(normalized, call, fmt, tmp_path):
    """What Genesys Cloud serves is read back (via soundfile or PyAV) to the recording's rate and length."""
    (out,) = export_recording(
        normalized[fmt].path, {"id": "reexport"}, None, AudioOptions(format="WAV"), tmp_path
    )
    info = sf.info(str(out.path))
    assert (info.samplerate, info.channels) == (SR, 2)
    assert abs(info.frames / SR - len(call.samples) / SR) <= 0.020


def test_outputs_are_whole_files_readable_by_ffprobe_metadata(normalized):
    for fmt, out in normalized.items():
        with av.open(str(out.path)) as c:
            assert c.streams.audio, fmt
            assert (
                c.streams.audio[0].codec_context.name
                in {
                    "WAV": {"pcm_s16le"},
                    "WAV_ULAW": {"pcm_mulaw"},
                    "WEBM": {"opus", "libopus"},
                    "OGG_VORBIS": {"vorbis", "libvorbis"},
                    "OGG_OPUS": {"opus", "libopus"},
                    "MP3": {"mp3", "mp3float"},
                    "M4B": {"aac"},
                }[fmt]
            )


def test_short_and_silent_inputs_export_without_crashing(tmp_path):
    short = tmp_path / "short.wav"
    sf.write(
        str(short), np.stack([speechlike(0.3, np.random.default_rng(1))] * 2, axis=1), SR, subtype="PCM_16"
    )
    silent = tmp_path / "silent.wav"
    sf.write(str(silent), np.zeros((SR * 2, 2), dtype=np.float32), SR, subtype="PCM_16")
    full = dict(trim_silence=True, reduce_noise=True, normalize_loudness=True)
    for src in (short, silent):
        for fmt in ("WAV", "MP3", "M4B"):
            (out,) = export_recording(
                src, {"id": f"{src.stem}-{fmt}"}, None, AudioOptions(format=fmt, **full), tmp_path / "o"
            )
            samples, rate = decode_av(out.path)
            assert np.isfinite(samples).all()
            assert abs(len(samples) / rate - out.duration_s) <= 0.020
            if src is silent:
                assert np.abs(samples).max() < 1e-3  # silence stays silence (no NaN -> full-scale DC)
                assert out.stats["input_lufs"] is None
    (out,) = export_recording(
        short, {"id": "short-loud"}, None, AudioOptions(format="WAV", normalize_loudness=True), tmp_path / "p"
    )
    samples, _ = sf.read(str(out.path))
    assert abs(out.stats["output_lufs"] - (-23.0)) < 0.5  # a single sub-400 ms block is still normalised
    assert len(samples) == int(0.3 * SR)


def test_lossy_outputs_leave_headroom_even_without_normalisation(tmp_path):
    """A hot source (peaks at full scale) must not clip when the lossy file is decoded."""
    rng = np.random.default_rng(9)
    voice = speechlike(10.0, rng, level_db=-12.0)
    x = np.stack([voice, np.roll(voice, 3000)], axis=1)
    x *= 0.999 / np.abs(x).max()
    src = tmp_path / "hot.wav"
    sf.write(str(src), x, SR, subtype="PCM_16")
    for fmt in ("MP3", "M4B", "OGG_VORBIS", "WEBM"):
        (out,) = export_recording(src, {"id": f"hot-{fmt}"}, None, AudioOptions(format=fmt), tmp_path)
        samples, rate = decode_av(out.path)
        assert np.abs(samples).max() < 1.0, fmt
        assert true_peak_dbtp(samples, rate) <= -1.0, fmt
