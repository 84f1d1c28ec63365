"""Encode a simulated recording into the media format Genesys Cloud serves for a `formatId`.

Real encoders only: libsndfile (through soundfile) for WAV (PCM 16-bit), WAV_ULAW (µ-law, WAVE
format tag 7) and OGG_VORBIS; PyAV with libopus for OGG_OPUS and WEBM (Opus in WebM) and with
libmp3lame for MP3.
The audio is rendered and encoded block by block, so a two-hour recording never sits in memory,
and written to a temporary name that is renamed into place when complete (a reader never sees a
half-written file). No ffmpeg executable is needed.

Sample rates: telephony formats keep the synthetic 8 kHz; Opus is encoded at 48 kHz (the rate
every Opus decoder outputs), resampled from 8 kHz by libswresample while streaming.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import av
import numpy as np
import soundfile as sf

from simulator.audio_synth import DEFAULT_SAMPLE_RATE, RecordingRenderer
from simulator.model import Call, Recording

logger = logging.getLogger(__name__)

FORMAT_IDS: tuple[str, ...] = ("WAV", "WAV_ULAW", "WEBM", "OGG_VORBIS", "OGG_OPUS", "MP3")

CONTENT_TYPES: dict[str, str] = {
    "WAV": "audio/wav",
    "WAV_ULAW": "audio/wav",
    "WEBM": "audio/webm",
    "OGG_VORBIS": "audio/ogg",
    "OGG_OPUS": "audio/ogg",
    "MP3": "audio/mpeg",
}

EXTENSIONS: dict[str, str] = {
    "WAV": ".wav",
    "WAV_ULAW": ".wav",
    "WEBM": ".webm",
    "OGG_VORBIS": ".ogg",
    "OGG_OPUS": ".opus",
    "MP3": ".mp3",
}

SAMPLE_RATES: dict[str, int] = {
    "WAV": DEFAULT_SAMPLE_RATE,
    "WAV_ULAW": DEFAULT_SAMPLE_RATE,
    "WEBM": 48_000,
    "OGG_VORBIS": DEFAULT_SAMPLE_RATE,
    "OGG_OPUS": 48_000,
    "MP3": DEFAULT_SAMPLE_RATE,
}
"""Sample rate of the encoded media per formatId (what FFmpeg's decoder reports: Opus always decodes at
48 kHz; libsndfile decodes Ogg Opus at the header's input rate)."""

_SOUNDFILE = {
    "WAV": ("WAV", "PCM_16"),
    "WAV_ULAW": ("WAV", "ULAW"),
    "OGG_VORBIS": ("OGG", "VORBIS"),
}
# formatId -> (container, codec, codec options, bit rate per channel)
_OPUS_OPTIONS = {
    "compression_level": "0",
    "application": "lowdelay",
}  # CELT, fast; fine for speech at 32 kbit/s
_PYAV: dict[str, tuple[str, str, dict[str, str], int]] = {
    "OGG_OPUS": ("ogg", "libopus", _OPUS_OPTIONS, 32_000),
    "WEBM": ("webm", "libopus", _OPUS_OPTIONS, 32_000),
    "MP3": ("mp3", "libmp3lame", {"compression_level": "7"}, 16_000),  # LAME -q 7; Xing/LAME gapless header
}

BLOCK_SECONDS = 10
OPUS_INPUT_RATES = (8_000, 12_000, 16_000, 24_000, 48_000)


class UnsupportedFormatError(ValueError):
    """The formatId is not one the simulator (or Genesys Cloud) serves for call audio."""


def content_type(format_id: str) -> str:
    try:
        return CONTENT_TYPES[format_id]
    except KeyError:
        raise UnsupportedFormatError(
            f"unknown formatId {format_id!r}; expected one of {', '.join(FORMAT_IDS)}"
        ) from None


def media_file_name(rec: Recording, format_id: str) -> str:
    content_type(format_id)
    return f"{rec.recording_id}_{format_id.lower()}{EXTENSIONS[format_id]}"


def encode_recording(call: Call, rec: Recording, format_id: str, dest: Path) -> Path:
    """Render `rec` and encode it as `format_id` into `dest` (atomically); returns `dest`.

    `dest` may be a directory, in which case the file is named by `media_file_name`.
    """
    content_type(format_id)
    dest = Path(dest)
    if dest.is_dir():
        dest = dest / media_file_name(rec, format_id)
    encode_blocks(RecordingRenderer(call, rec, DEFAULT_SAMPLE_RATE), format_id, dest)
    logger.debug(
        "encoded recording %s of conversation %s as %s (%d bytes)",
        rec.recording_id,
        call.conversation_id,
        format_id,
        dest.stat().st_size,
    )
    return dest


class BlockSource(Protocol):
    """Audio to encode, block by block: what `RecordingRenderer` offers (replay also feeds captured
    audio through it)."""

    sr: int
    channels: int

    def iter_blocks(self, block_frames: int) -> Iterator[np.ndarray]: ...


def encode_blocks(source: BlockSource, format_id: str, dest: Path) -> Path:
    """Encode float32 blocks from ``source`` as ``format_id`` into the file ``dest`` (atomically)."""
    content_type(format_id)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if format_id in _SOUNDFILE:
            _encode_soundfile(source, format_id, tmp)
        else:
            _encode_pyav(source, format_id, tmp)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def _encode_soundfile(renderer: BlockSource, format_id: str, path: Path) -> None:
    container, subtype = _SOUNDFILE[format_id]
    block = renderer.sr * BLOCK_SECONDS
    with sf.SoundFile(
        path, mode="w", samplerate=renderer.sr, channels=renderer.channels, format=container, subtype=subtype
    ) as f:
        for samples in renderer.iter_blocks(block):
            f.write(samples)


def _encode_pyav(renderer: BlockSource, format_id: str, path: Path) -> None:
    container, codec, options, bits_per_channel = _PYAV[format_id]
    rate = SAMPLE_RATES[format_id]
    if codec == "libopus" and renderer.sr in OPUS_INPUT_RATES:
        # Opus is encoded from the call's own rate (8 kHz telephony): the stream header says so (RFC 7845
        # "input sample rate"; decoders still play it at 48 kHz, libsndfile at that rate)
        rate = renderer.sr
    layout = "stereo" if renderer.channels == 2 else "mono"
    with av.open(str(path), mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        if not isinstance(stream, av.AudioStream):
            raise ValueError(f"{codec!r} is not an audio codec")
        stream.bit_rate = bits_per_channel * renderer.channels
        stream.codec_context.options = dict(options)
        resampler = av.AudioResampler(format="flt", layout=layout, rate=rate)
        block = renderer.sr * BLOCK_SECONDS
        pts = 0
        for samples in renderer.iter_blocks(block):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(samples.reshape(1, -1)), format="flt", layout=layout
            )
            frame.sample_rate = renderer.sr
            frame.pts = pts
            pts += len(samples)
            for resampled in resampler.resample(frame):
                out.mux(stream.encode(resampled))
        for resampled in resampler.resample(None):
            out.mux(stream.encode(resampled))
        out.mux(stream.encode(None))
