"""Streamed encoders for the seven output formats; each takes float32 (frames, channels) blocks.

| format     | library               | codec / container                                   |
|------------|-----------------------|-----------------------------------------------------|
| WAV        | soundfile             | PCM 16-bit, RIFF/WAVE                               |
| WAV_ULAW   | soundfile             | G.711 u-law (format tag 7) + fact chunk             |
| WEBM       | PyAV                  | libopus in WebM                                     |
| OGG_VORBIS | soundfile             | libvorbis VBR in Ogg (written in blocks: libvorbis crashes on long single writes) |
| OGG_OPUS   | PyAV                  | libopus in Ogg                                      |
| MP3        | lameenc + mutagen     | LAME CBR, LAME Info tag, ID3v2.4 CHAP/CTOC chapters (`audio.mp3`) |
| M4B        | PyAV                  | AAC-LC in MP4 (ipod muxer, faststart), QuickTime chapter track + Nero chpl |

No ffmpeg executable is needed: PyAV carries FFmpeg's libraries in its wheel.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import numpy as np
import soundfile as sf

from audio.errors import AudioEncodeError
from audio.mp3 import MP3_RATES, Mp3Writer
from audio.parameters import (
    AAC_MAX_BITS_PER_SAMPLE_PER_CHANNEL,
    AAC_MIN_BPS_PER_CHANNEL,
    OPUS_BITRATE_BPS,
    VORBIS_QUALITY,
)

logger = logging.getLogger(__name__)

Chapters = list[tuple[str, float, float]]
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
_VORBIS_WRITE_FRAMES = 32768
_AAC_FRAME = 1024


class Encoder(Protocol):
    samplerate: int
    chapters: Chapters | None  # handed to close() by the chain (set by the caller after opening)

    def write(self, block: np.ndarray) -> None: ...

    def close(self, chapters: Chapters | None = None) -> int:
        """Finish the file; returns the frames of silence it appended (whole codec frames), usually 0."""
        ...


def output_samplerate(fmt: str, samplerate: int) -> int:
    """The rate a format is written at: the source rate where the codec allows it."""
    if fmt in ("WEBM", "OGG_OPUS") and samplerate not in _OPUS_RATES:
        return 48000
    if fmt == "MP3" and samplerate not in MP3_RATES:
        return 48000 if samplerate > 24000 else 16000
    return samplerate


def aac_bitrate(source_bitrate: int, samplerate: int, channels: int) -> int:
    """The source's bitrate, within what AAC allows at this sample rate and channel count."""
    high = int(AAC_MAX_BITS_PER_SAMPLE_PER_CHANNEL * samplerate) * channels
    low = AAC_MIN_BPS_PER_CHANNEL * channels
    return int(min(max(source_bitrate or low, low), high))


def open_encoder(
    fmt: str,
    path: Path,
    samplerate: int,
    channels: int,
    *,
    source_bitrate: int = 0,
    chapters: Chapters | None = None,
    input_rate: int | None = None,
) -> Encoder:
    """An encoder writing `path` at `samplerate` (see `output_samplerate`), fed blocks at `input_rate`.

    Only the PyAV encoders resample (FFmpeg's resampler); the others need input_rate == samplerate.
    """
    input_rate = input_rate or samplerate
    if input_rate != samplerate and fmt not in ("WEBM", "OGG_OPUS", "M4B"):
        raise AudioEncodeError(f"{fmt} encoder cannot resample {input_rate} Hz to {samplerate} Hz")
    try:
        if fmt in ("WAV", "WAV_ULAW"):
            return SoundfileEncoder(path, samplerate, channels, "WAV", "PCM_16" if fmt == "WAV" else "ULAW")
        if fmt == "OGG_VORBIS":
            return SoundfileEncoder(
                path, samplerate, channels, "OGG", "VORBIS", compression=1.0 - VORBIS_QUALITY
            )
        if fmt == "MP3":
            return _Mp3Encoder(path, samplerate, channels)
        if fmt == "WEBM":
            return PyAVEncoder(
                path, samplerate, channels, "webm", "libopus", OPUS_BITRATE_BPS, chapters, input_rate
            )
        if fmt == "OGG_OPUS":
            return PyAVEncoder(
                path, samplerate, channels, "ogg", "libopus", OPUS_BITRATE_BPS, chapters, input_rate
            )
        if fmt == "M4B":
            rate = aac_bitrate(source_bitrate, samplerate, channels)
            return PyAVEncoder(path, samplerate, channels, "ipod", "aac", rate, chapters, input_rate)
    except (sf.LibsndfileError, OSError, ValueError) as exc:
        raise AudioEncodeError(f"cannot open {fmt} encoder for {path}: {exc}") from exc
    raise AudioEncodeError(f"unknown output format {fmt!r}")


class SoundfileEncoder:
    def __init__(
        self,
        path: Path,
        samplerate: int,
        channels: int,
        container: str,
        subtype: str,
        compression: float | None = None,
    ) -> None:
        self.samplerate = samplerate
        self.subtype = subtype
        self.chapters: Chapters | None = None
        self._file = sf.SoundFile(
            str(path), "w", samplerate=samplerate, channels=channels, format=container, subtype=subtype,
            compression_level=compression,
        )  # fmt: skip

    def write(self, block: np.ndarray) -> None:
        if not len(block):
            return
        if self.subtype in ("PCM_16", "ULAW"):
            # Convert to 16-bit in numpy (libsndfile's float -> int path is several times slower, and
            # its u-law path wraps out-of-range values around instead of saturating).
            scaled = block * np.float32(32768)
            np.rint(scaled, out=scaled)
            np.clip(scaled, -32768, 32767, out=scaled)
            self._file.write(scaled.astype(np.int16))
            return
        if self.subtype == "VORBIS":
            for i in range(0, len(block), _VORBIS_WRITE_FRAMES):
                self._file.write(block[i : i + _VORBIS_WRITE_FRAMES])
        else:
            self._file.write(block)

    def close(self, chapters: Chapters | None = None) -> int:
        if chapters:
            logger.warning("%s cannot carry chapters; %d chapters dropped", self.subtype, len(chapters))
        self._file.close()
        return 0


class _Mp3Encoder:
    def __init__(self, path: Path, samplerate: int, channels: int) -> None:
        self.samplerate = samplerate
        self.chapters: Chapters | None = None
        self._writer = Mp3Writer(path, samplerate, channels)

    def write(self, block: np.ndarray) -> None:
        self._writer.write(block)

    def close(self, chapters: Chapters | None = None) -> int:
        self._writer.close(chapters)
        return 0


class PyAVEncoder:
    """FFmpeg encoders through PyAV. Chapters go in before the first packet (Ogg drops them later)."""

    def __init__(
        self,
        path: Path,
        samplerate: int,
        channels: int,
        container: str,
        codec: str,
        bitrate: int,
        chapters: Chapters | None,
        input_rate: int | None = None,
    ) -> None:
        import av

        self._av = av
        self.samplerate = input_rate or samplerate
        self.channels = channels
        options = {"movflags": "faststart"} if container == "ipod" else {}
        self._container = av.open(str(path), "w", format=container, options=options)
        layout = "mono" if channels == 1 else "stereo"
        stream = self._container.add_stream(codec, rate=samplerate, layout=layout)
        if not isinstance(stream, av.AudioStream):
            raise ValueError(f"{codec!r} is not an audio codec")
        self._stream = stream
        self._stream.bit_rate = bitrate
        ctx = self._stream.codec_context
        self._format = "fltp" if codec == "aac" else "flt"
        ctx.format = self._format
        ctx.time_base = Fraction(1, samplerate)
        self.chapters: Chapters | None = None
        self._layout = layout
        self._pts = 0
        self._chapters_set = False
        if chapters:
            self._set_chapters(chapters)

    def _set_chapters(self, chapters: Chapters) -> None:
        tb = Fraction(1, 1000)
        self._container.set_chapters(
            [
                {
                    "id": i + 1,
                    "start": int(round(a * 1000)),
                    "end": int(round(b * 1000)),
                    "time_base": tb,
                    "metadata": {"title": title},
                }
                for i, (title, a, b) in enumerate(chapters)
            ]
        )
        self._chapters_set = True

    def write(self, block: np.ndarray) -> None:
        if not len(block):
            return
        block = np.clip(block, -1.0, 1.0).astype(np.float32, copy=False)
        if self._format == "fltp":
            data = np.ascontiguousarray(block.T)
        else:
            data = np.ascontiguousarray(block).reshape(1, -1)
        frame = self._av.AudioFrame.from_ndarray(data, format=self._format, layout=self._layout)
        frame.sample_rate = self.samplerate
        frame.pts = self._pts
        frame.time_base = Fraction(1, self.samplerate)
        self._pts += len(block)
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self, chapters: Chapters | None = None) -> int:
        pad = 0
        if self._format == "fltp" and self._pts % _AAC_FRAME:
            # Decoders drop AAC's priming but not the padding of the last frame: end on a whole frame
            # (of silence) so every decoder sees exactly the length reported for this file.
            pad = _AAC_FRAME - self._pts % _AAC_FRAME
            self.write(np.zeros((pad, self.channels), dtype=np.float32))
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            if chapters and not self._chapters_set:
                self._set_chapters(chapters)
        finally:
            self._container.close()
        return pad
