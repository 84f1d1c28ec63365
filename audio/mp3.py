"""MP3 writer: LAME (via lameenc) + a LAME "Info" tag for gapless length + ID3v2 CHAP/CTOC chapters.

Why not PyAV or soundfile: the LAME builds inside their wheels encode ~2.8x slower than Debian's
ffmpeg at the same settings (bench/audio_bench.py, docs/audio.md); lameenc's build is faster than
ffmpeg's. lameenc emits bare MPEG frames, so this module writes the LAME Info frame that every decoder
(FFmpeg, mpg123/libsndfile) uses to drop the encoder delay and the end padding: without it a file
decodes ~190 ms too long at 8 kHz.

Chapters are ID3v2.4 CTOC (top-level, ordered) + one CHAP per chapter with a TIT2 title, written by
mutagen. mutagen orders frames by size when it saves, which puts CHAP frames out of time order and
misleads readers that ignore CTOC (ffprobe); `_OrderedID3` writes them in chapter order instead.
"""

from __future__ import annotations

import logging
import struct
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import lameenc
import numpy as np
from mutagen.id3 import CHAP, CTOC, ID3, TIT2, CTOCFlags
from mutagen.id3._tags import save_frame

from audio.errors import AudioEncodeError
from audio.parameters import MP3_BITRATE_DEFAULT_KBPS, MP3_BITRATE_KBPS, MP3_QUALITY

if TYPE_CHECKING:
    from mutagen.id3._util import ID3SaveConfig

logger = logging.getLogger(__name__)

_BITRATES = {
    1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
    2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
}
_RATES = {3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000]}
MP3_RATES = frozenset(r for rates in _RATES.values() for r in rates)
_ENCODER_DELAY = 576  # LAME's encoder delay (samples); decoders add their own 529
_TAG_CRC_SPAN = 190  # the Info tag's CRC covers the frame's first 190 bytes (LAME spec) ...


def mp3_bitrate_kbps(samplerate: int) -> int:
    return MP3_BITRATE_KBPS.get(samplerate, MP3_BITRATE_DEFAULT_KBPS)


def _crc16_arc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _parse_header(h: bytes) -> tuple[int, int, int, int, int] | None:
    """(frame_length, samples_per_frame, version_bits, channels, samplerate) of an MPEG-1/2/2.5 layer III header."""
    if len(h) < 4 or h[0] != 0xFF or (h[1] & 0xE0) != 0xE0:
        return None
    version = (h[1] >> 3) & 3
    layer = (h[1] >> 1) & 3
    br_idx, sr_idx, pad = h[2] >> 4, (h[2] >> 2) & 3, (h[2] >> 1) & 1
    if version == 1 or layer != 1 or br_idx in (0, 15) or sr_idx == 3:
        return None
    mpeg1 = version == 3
    bitrate = _BITRATES[1 if mpeg1 else 2][br_idx] * 1000
    rate = _RATES[version][sr_idx]
    length = (144 if mpeg1 else 72) * bitrate // rate + pad
    channels = 1 if (h[3] >> 6) == 3 else 2
    return length, 1152 if mpeg1 else 576, version, channels, rate


def _valid_header(h: bytes) -> tuple[int, int, int, int, int]:
    """`_parse_header` of a header the encoder wrote (always valid)."""
    parsed = _parse_header(h)
    if parsed is None:
        raise AudioEncodeError(f"not an MPEG layer III frame header: {bytes(h[:4]).hex()}")
    return parsed


def _info_frame(first_header: bytes, frames: int, audio_bytes: int, padding: int) -> bytes:
    """A LAME 'Info' frame (CBR) announcing `frames` audio frames, the encoder delay and the end padding."""
    _, _, version, channels, _rate = _valid_header(first_header)
    mpeg1 = version == 3
    side = (32 if channels == 2 else 17) if mpeg1 else (17 if channels == 2 else 9)
    need = 4 + side + 120 + 36
    h = bytearray(first_header[:4])
    h[2] &= 0x0D  # clear bitrate index and padding bit (keep sample rate, private bit)
    for idx in range(1, 15):
        h[2] = (h[2] & 0x0F) | (idx << 4)
        length = _valid_header(bytes(h))[0]
        if length >= need:
            break
    frame = bytearray(length)
    frame[:4] = h
    pos = 4 + side
    toc = bytes(min(255, i * 256 // 100) for i in range(100))
    total = length + audio_bytes
    frame[pos : pos + 120] = b"Info" + struct.pack(">III", 0x0F, frames, total) + toc + struct.pack(">I", 0)
    pos += 120
    lame = bytearray(36)
    lame[0:9] = b"LAME3.100"
    lame[9] = 0x00  # tag revision 0, VBR method 0 (unknown/CBR)
    lame[21:24] = struct.pack(">I", (_ENCODER_DELAY << 12) | (padding & 0xFFF))[1:]
    frame[pos : pos + 36] = lame
    crc_at = pos + 34
    frame[crc_at : crc_at + 2] = struct.pack(">H", _crc16_arc(bytes(frame[: min(crc_at, _TAG_CRC_SPAN)])))
    return bytes(frame)


class Mp3Writer:
    """Streamed MP3 encoding: `write` float32 blocks, `close(chapters)` finishes the file."""

    def __init__(self, path: Path, samplerate: int, channels: int, bitrate_kbps: int | None = None) -> None:
        if samplerate not in MP3_RATES:
            raise ValueError(f"MP3 cannot carry {samplerate} Hz")
        self.path = Path(path)
        self.channels = channels
        self.samplerate = samplerate
        self.bitrate = bitrate_kbps or mp3_bitrate_kbps(samplerate)
        enc = lameenc.Encoder()
        enc.set_bit_rate(self.bitrate)
        enc.set_in_sample_rate(samplerate)
        enc.set_out_sample_rate(samplerate)
        enc.set_channels(channels)
        enc.set_quality(MP3_QUALITY)
        self._enc = enc
        self._tmp = self.path.with_name(self.path.name + ".frames")
        self._out = open(self._tmp, "wb")  # noqa: SIM115 - closed in close()
        self.samples = 0

    def write(self, block: np.ndarray) -> None:
        if not len(block):
            return
        pcm = np.clip(np.rint(block * 32767.0), -32768, 32767).astype("<i2")
        self._out.write(bytes(self._enc.encode(pcm.tobytes())))
        self.samples += len(block)

    def close(self, chapters: list[tuple[str, float, float]] | None = None) -> None:
        self._out.write(bytes(self._enc.flush()))
        self._out.close()
        try:
            data_len = self._tmp.stat().st_size
            with open(self._tmp, "rb") as src, open(self.path, "wb") as dst:
                first = src.read(4)
                frames, spf = self._count_frames(src, first, data_len)
                padding = max(0, frames * spf - _ENCODER_DELAY - self.samples)
                if padding > 0xFFF:
                    logger.warning("%s: end padding %d does not fit the LAME tag", self.path, padding)
                dst.write(_info_frame(first, frames, data_len, padding))
                src.seek(0)
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
        finally:
            self._tmp.unlink(missing_ok=True)
        if chapters:
            write_id3_chapters(self.path, chapters)

    @staticmethod
    def _count_frames(src: BinaryIO, first: bytes, total: int) -> tuple[int, int]:
        parsed = _parse_header(first)
        if parsed is None:
            raise ValueError("LAME produced no MPEG frame")
        frames, pos = 0, 0
        spf = parsed[1]
        src.seek(0)
        while pos < total:
            src.seek(pos)
            hdr = _parse_header(src.read(4))
            if hdr is None:
                break
            frames += 1
            pos += hdr[0]
        return frames, spf


class _OrderedID3(ID3):
    """ID3 that writes CTOC first, then CHAP frames in chapter order, then everything else."""

    def _write(self, config: ID3SaveConfig) -> bytes:  # noqa: D401 - mutagen hook
        frames = list(self.values())
        tocs = [f for f in frames if f.FrameID == "CTOC"]
        chaps = sorted((f for f in frames if f.FrameID == "CHAP"), key=lambda f: (f.start_time, f.element_id))
        rest = [f for f in frames if f.FrameID not in ("CTOC", "CHAP")]
        return b"".join(save_frame(f, config=config) for f in [*rest, *tocs, *chaps])


def write_id3_chapters(path: Path, chapters: list[tuple[str, float, float]]) -> None:
    """Add ID3v2.4 CTOC + CHAP frames (times in seconds) to an MP3 file."""
    tags = _OrderedID3()
    ids = [f"ch{i}" for i in range(len(chapters))]
    tags.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=3, text=["Chapters"])],
        )
    )
    for cid, (title, start, end) in zip(ids, chapters, strict=True):
        tags.add(
            CHAP(
                element_id=cid,
                start_time=int(round(start * 1000)),
                end_time=int(round(end * 1000)),
                start_offset=0xFFFFFFFF,
                end_offset=0xFFFFFFFF,
                sub_frames=[TIT2(encoding=3, text=[title])],
            )
        )
    tags.save(str(path), v2_version=4)
