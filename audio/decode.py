"""Open whatever Genesys Cloud serves as a block-readable, seekable PCM source.

WAV (PCM and u-law), OGG Vorbis, OGG Opus and MP3 are read directly by soundfile (libsndfile), block
by block. Anything soundfile cannot open (WEBM/Opus, MP4/AAC) is decoded once by PyAV (FFmpeg's
libraries inside the wheel) into a compact 16-bit WAV intermediate in the work directory, so that the
rest of the engine can seek and re-read it in blocks with bounded memory. Opus always decodes at
48 kHz; the intermediate goes back to the encoder's input rate recorded in the Opus header (8 kHz for
telephone audio), so a WEBM recording exports at the rate it was captured at.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile as sf

from audio.errors import AudioDecodeError
from audio.parameters import BLOCK_FRAMES

logger = logging.getLogger(__name__)

_SOUNDFILE_FORMATS = {"WAV", "WAVEX", "OGG", "MP3", "FLAC", "AIFF", "AU", "RF64", "W64"}
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
_INT16_SUBTYPES = frozenset({"PCM_16", "ULAW", "ALAW", "PCM_U8", "PCM_S8"})


@dataclass(frozen=True)
class Source:
    """A decoded recording, readable in blocks by soundfile at `path`."""

    original: Path
    path: Path
    samplerate: int
    channels: int
    frames: int
    bitrate: int
    """Bits per second of the original file (container's figure, else size / duration)."""
    codec: str
    """libsndfile subtype of the readable file (PCM_16 for a PyAV-decoded intermediate)."""
    tracks: tuple[int, ...] | None = None
    """Channels of the file at `path` this source reads, in order (None: all of them). `channels` is
    then len(tracks): a view of one side of a stereo call reads as a mono source."""

    @property
    def duration(self) -> float:
        return self.frames / self.samplerate if self.samplerate else 0.0

    def with_tracks(self, tracks: tuple[int, ...]) -> Source:
        """A view of this source that reads only `tracks` (indices into this source's channels).

        The bitrate is scaled to the share of channels kept (an encoder that follows the source's
        bitrate, AAC, then spends per channel what the original did).
        """
        tracks = tuple(int(t) for t in tracks)
        if not tracks or any(not 0 <= t < self.channels for t in tracks):
            raise ValueError(f"tracks {tracks} do not select channels of a {self.channels}-channel source")
        if tracks == tuple(range(self.channels)):
            return self
        base = self.tracks if self.tracks is not None else tuple(range(self.channels))
        return replace(
            self,
            channels=len(tracks),
            bitrate=int(round(self.bitrate * len(tracks) / self.channels)),
            tracks=tuple(base[t] for t in tracks),
        )


def open_source(path: Path, work_dir: Path) -> Source:
    """Probe `path` and, if soundfile cannot read it, decode it into `work_dir`.

    Raises AudioDecodeError naming the file and the cause when neither soundfile nor PyAV can decode it,
    or when it holds no audio.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioDecodeError(path, "file not found")
    if path.stat().st_size == 0:
        raise AudioDecodeError(path, "file is empty")
    sf_cause = ""
    try:
        info = sf.info(str(path))
        if info.format in _SOUNDFILE_FORMATS and info.frames > 0 and info.channels > 0:
            frames = _verified_frames(path, info.frames)
            bitrate = _bitrate(path, frames / info.samplerate)
            return Source(path, path, info.samplerate, info.channels, frames, bitrate, info.subtype)
        sf_cause = f"soundfile sees {info.format}/{info.subtype} with {info.frames} frames"
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        sf_cause = str(exc)
    return _decode_with_pyav(path, work_dir, sf_cause)


def read_blocks(source: Source, start: int = 0, end: int | None = None) -> Iterator[np.ndarray]:
    """float32 blocks of shape (frames, channels) covering frames [start, end) of the source.

    A source with `tracks` yields only those channels of the file, in that order.
    """
    end = source.frames if end is None else min(end, source.frames)
    if end <= start:
        return
    # 16-bit PCM (and u-law/A-law, which libsndfile decodes to 16-bit natively) is read as int16 and
    # scaled in numpy: libsndfile's own int -> float conversion is ~10x slower.
    as_int16 = source.codec in _INT16_SUBTYPES
    tracks = list(source.tracks) if source.tracks is not None else None
    try:
        with sf.SoundFile(str(source.path)) as f:
            f.seek(start)
            remaining = end - start
            while remaining > 0:
                n = min(BLOCK_FRAMES, remaining)
                if as_int16:
                    raw = f.read(n, dtype="int16", always_2d=True)
                    if tracks is not None:
                        raw = raw[:, tracks]
                    block = raw.astype(np.float32)
                    block *= np.float32(1 / 32768)
                else:
                    block = f.read(n, dtype="float32", always_2d=True)
                    if tracks is not None:
                        block = np.ascontiguousarray(block[:, tracks])
                if len(block) == 0:
                    break
                remaining -= len(block)
                yield block
            if remaining > 0:
                # Fewer frames than the header announced (truncated upload): pad with silence.
                logger.warning("%s ended %d frames early; padding with silence", source.original, remaining)
                while remaining > 0:
                    n = min(BLOCK_FRAMES, remaining)
                    remaining -= n
                    yield np.zeros((n, source.channels), dtype=np.float32)
    except sf.LibsndfileError as exc:
        raise AudioDecodeError(source.original, f"read failed: {exc}") from exc


def _verified_frames(path: Path, frames: int) -> int:
    """Frames really present: read the last block so a truncated file is caught before exporting."""
    try:
        with sf.SoundFile(str(path)) as f:
            f.seek(max(0, frames - 1024))
            tail = f.read(1024, dtype="int16")
            return max(0, frames - 1024) + len(tail) if len(tail) < min(1024, frames) else frames
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioDecodeError(path, f"unreadable audio data: {exc}") from exc


def _bitrate(path: Path, duration: float) -> int:
    return int(path.stat().st_size * 8 / duration) if duration > 0 else 0


def _opus_input_rate(extradata: bytes | None) -> int | None:
    """Input sample rate recorded in an OpusHead (RFC 7845 §5.1), if it is one Opus can run at."""
    if extradata and len(extradata) >= 16 and extradata[:8] == b"OpusHead":
        rate = struct.unpack_from("<I", extradata, 12)[0]
        if rate in _OPUS_RATES:
            return rate
        return min(_OPUS_RATES, key=lambda r: abs(r - rate)) if rate else None
    return None


def _decode_with_pyav(path: Path, work_dir: Path, sf_cause: str) -> Source:
    import av

    work_dir.mkdir(parents=True, exist_ok=True)
    dest = work_dir / f"{path.stem}.decoded.wav"
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise AudioDecodeError(
            path, f"not a recognised audio file (soundfile: {sf_cause}; PyAV: {exc})"
        ) from exc
    frames = 0
    try:
        with container:
            if not container.streams.audio:
                raise AudioDecodeError(path, "the file has no audio stream")
            stream = container.streams.audio[0]
            codec = stream.codec_context.name
            channels = stream.codec_context.channels or 1
            rate = stream.codec_context.sample_rate or 8000
            if codec in ("opus", "libopus"):
                rate = _opus_input_rate(stream.codec_context.extradata) or rate
            layout = "mono" if channels == 1 else "stereo"
            channels = min(channels, 2)
            resampler = av.AudioResampler(format="s16", layout=layout, rate=rate)
            bitrate = int(stream.bit_rate or container.bit_rate or 0)
            with sf.SoundFile(str(dest), "w", samplerate=rate, channels=channels, subtype="PCM_16") as out:
                for frame in container.decode(stream):
                    for res in resampler.resample(frame):
                        data = res.to_ndarray().reshape(-1, channels)
                        out.write(data)
                        frames += len(data)
                for res in resampler.resample(None):
                    data = res.to_ndarray().reshape(-1, channels)
                    out.write(data)
                    frames += len(data)
    except AudioDecodeError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise AudioDecodeError(path, f"decoding failed after {frames} frames: {exc}") from exc
    if frames == 0:
        raise AudioDecodeError(path, "no audio frames could be decoded")
    if not bitrate:
        bitrate = _bitrate(path, frames / rate)
    logger.debug("decoded %s (%s) to %s: %d frames at %d Hz", path, codec, dest, frames, rate)
    return Source(path, dest, rate, channels, frames, bitrate, "PCM_16")
