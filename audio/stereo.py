"""Merge two mono recordings of one call (customer side, agent side) into one stereo file.

The two files are aligned on the wall clock (`*_start_ms`, epoch milliseconds: `Recording.startTime`
of each); whichever starts later is preceded by silence, the shorter one is padded at the end. The
customer goes on `channels.EXTERNAL_CHANNEL` and the agent on `channels.INTERNAL_CHANNEL`. Streams
block by block into a 16-bit WAV, so memory stays small for any length. Both inputs are brought to the
higher of their two sample rates (PyAV decodes any input that is not at that rate).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

from audio import channels
from audio.decode import Source, open_source, read_blocks
from audio.errors import AudioDecodeError
from audio.parameters import BLOCK_FRAMES

logger = logging.getLogger(__name__)


def _mono_blocks(src: Source, rate: int) -> Iterator[np.ndarray]:
    """Mono float32 blocks of a source at `rate` (downmixing if it has more than one channel)."""
    if src.samplerate == rate:
        for block in read_blocks(src):
            yield block.mean(axis=1) if block.shape[1] > 1 else block[:, 0]
        return
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    layout = "mono" if src.channels == 1 else "stereo"
    for block in read_blocks(src):
        data = np.ascontiguousarray(block[:, :2] if src.channels > 1 else block).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(data, format="flt", layout=layout)
        frame.sample_rate = src.samplerate
        for out in resampler.resample(frame):
            yield out.to_ndarray().reshape(-1)
    for out in resampler.resample(None):
        yield out.to_ndarray().reshape(-1)


def _padded(blocks: Iterable[np.ndarray], lead: int) -> Iterator[np.ndarray]:
    """`lead` zeros, then the blocks, then zeros forever."""
    while lead > 0:
        n = min(BLOCK_FRAMES, lead)
        lead -= n
        yield np.zeros(n, dtype=np.float32)
    yield from blocks


def merge_mono(
    external: Path,
    internal: Path,
    *,
    external_start_ms: int,
    internal_start_ms: int,
    dest: Path,
) -> Path:
    """Write `dest`: a stereo 16-bit WAV with `external` and `internal` aligned in time."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".merge-", dir=dest.parent))
    try:
        ext_src = open_source(Path(external), scratch)
        int_src = open_source(Path(internal), scratch)
        rate = max(ext_src.samplerate, int_src.samplerate)
        start = min(external_start_ms, internal_start_ms)
        ext_lead = int(round((external_start_ms - start) * rate / 1000))
        int_lead = int(round((internal_start_ms - start) * rate / 1000))
        ext_total = ext_lead + int(round(ext_src.frames * rate / ext_src.samplerate))
        int_total = int_lead + int(round(int_src.frames * rate / int_src.samplerate))
        total = max(ext_total, int_total)
        sides = {
            channels.EXTERNAL_CHANNEL: _Reader(_padded(_mono_blocks(ext_src, rate), ext_lead)),
            channels.INTERNAL_CHANNEL: _Reader(_padded(_mono_blocks(int_src, rate), int_lead)),
        }
        written = 0
        with sf.SoundFile(str(dest), "w", samplerate=rate, channels=2, subtype="PCM_16") as out:
            while written < total:
                n = min(BLOCK_FRAMES, total - written)
                block = np.zeros((n, 2), dtype=np.float32)
                for ch, reader in sides.items():
                    block[:, ch] = reader.take(n)
                out.write(block)
                written += n
    except sf.LibsndfileError as exc:
        raise AudioDecodeError(dest, f"merge failed: {exc}") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    logger.info(
        "merged %s (external, ch %d) and %s (internal, ch %d) into %s (%.1f s)",
        Path(external).name,
        channels.EXTERNAL_CHANNEL,
        Path(internal).name,
        channels.INTERNAL_CHANNEL,
        dest.name,
        total / rate,
    )
    return dest


class _Reader:
    """Take exactly n samples at a time from a block iterator (zeros once it is exhausted)."""

    def __init__(self, blocks: Iterable[np.ndarray]) -> None:
        self._blocks = iter(blocks)
        self._buf = np.zeros(0, dtype=np.float32)

    def take(self, n: int) -> np.ndarray:
        parts, have = [self._buf], len(self._buf)
        while have < n:
            nxt = next(self._blocks, None)
            if nxt is None:
                parts.append(np.zeros(n - have, dtype=np.float32))
                have = n
                break
            parts.append(nxt.astype(np.float32, copy=False))
            have += len(nxt)
        buf = np.concatenate(parts)
        self._buf = buf[n:]
        return buf[:n]
