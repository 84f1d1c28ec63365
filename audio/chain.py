"""The processing chain for one output file: trim -> noise reduction -> loudness, then the encoder.

The chain streams blocks (BLOCK_FRAMES) through every step, so memory does not grow with the call:

1. analysis pass (only when trimming or denoising): speech-band levels of every 10 ms frame of the
   kept audio; they decide the trim points and where the noise profile is measured;
2. main pass: kept pieces (with short fades at cuts) -> band filter -> spectral gate. Without loudness
   normalisation this pass feeds the encoder directly (through the true-peak limiter for lossy
   formats). With normalisation it feeds a streaming EBU R128 meter and a float32 intermediate file in
   the work directory (the processed audio is needed twice, and the gate is the costly step, so it
   runs once);
3. final pass (normalisation): intermediate -> gain -> true-peak limiter -> encoder, while a second
   meter checks the result. If the limiter took off more than LIMITER_CORRECTION_LU, the gain is
   corrected and this pass repeated once.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio.analysis import LevelMeter, noise_spans, trim_points
from audio.decode import Source, read_blocks
from audio.denoise import BandFilter, SpectralGate, measure_noise_profile
from audio.encoders import Encoder
from audio.limiter import TruePeakLimiter
from audio.loudness import LoudnessMeter
from audio.options import LOSSY_FORMATS
from audio.parameters import (
    BLOCK_FRAMES,
    LIMITER_CORRECTION_LU,
    LOUDNESS_MAX_GAIN_DB,
    LOUDNESS_TARGET_LUFS,
    SPLICE_FADE_S,
    TRIM_FRAME_S,
    TRUE_PEAK_CEILING_DBTP,
)
from audio.timemap import TimeMap

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChainSettings:
    fmt: str
    trim: bool = False
    denoise: bool = False
    normalize: bool = False


@dataclass
class ChainResult:
    timemap: TimeMap
    frames: int
    trimmed_head: float = 0.0
    trimmed_tail: float = 0.0
    input_lufs: float | None = None
    output_lufs: float | None = None
    gain_db: float = 0.0
    limited_samples: int = 0
    noise_profile_s: float = 0.0


def read_pieces(source: Source, timemap: TimeMap) -> Iterator[np.ndarray]:
    """The kept pieces of the source, end to end, with a short fade at each cut inside the file."""
    sr = source.samplerate
    fade = max(1, int(round(SPLICE_FADE_S * sr)))
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, fade, dtype=np.float32)))[:, None]
    for piece in timemap.pieces:
        start = int(round(piece.media_start * sr))
        end = min(source.frames, start + int(round((piece.media_end - piece.media_start) * sr)))
        if end <= start:
            continue
        fade_in = start > 0
        fade_out = end < source.frames
        pos = start
        for block in read_blocks(source, start, end):
            if fade_in and pos < start + fade:
                block = block.copy()
                k = min(len(block), start + fade - pos)
                block[:k] *= ramp[pos - start : pos - start + k]
            if fade_out and pos + len(block) > end - fade:
                block = block.copy()
                a = max(0, end - fade - pos)
                block[a:] *= ramp[::-1][a + pos - (end - fade) :][: len(block) - a]
            pos += len(block)
            yield block


def _analyse(source: Source, timemap: TimeMap) -> LevelMeter:
    meter = LevelMeter(source.samplerate, source.channels)
    for block in read_pieces(source, timemap):
        meter.add(block)
    return meter


def _out_to_media(timemap: TimeMap, a: float, b: float) -> list[tuple[float, float]]:
    spans = []
    for p in timemap.pieces:
        x, y = max(a, p.out_start), min(b, p.out_end)
        if y > x:
            spans.append((p.media_start + x - p.out_start, p.media_start + y - p.out_start))
    return spans


def _noise_audio(
    source: Source, timemap: TimeMap, spans_per_channel: list[list[tuple[float, float]]]
) -> list[np.ndarray]:
    sr = source.samplerate
    out = []
    for ch, spans in enumerate(spans_per_channel):
        parts = []
        for a, b in spans:
            for ma, mb in _out_to_media(timemap, a, b):
                for block in read_blocks(source, int(round(ma * sr)), int(round(mb * sr))):
                    parts.append(block[:, ch].copy())
        out.append(np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32))
    return out


class _Pipeline:
    """Band filter + gate in series (each optional), streaming."""

    def __init__(self, stages: list) -> None:
        self.stages = stages

    def process(self, block: np.ndarray) -> np.ndarray:
        for stage in self.stages:
            block = stage.process(block)
        return block

    def flush(self) -> Iterator[np.ndarray]:
        for i, stage in enumerate(self.stages):
            if hasattr(stage, "flush"):
                block = stage.flush()
                for later in self.stages[i + 1 :]:
                    block = later.process(block)
                yield block


def run_chain(
    source: Source,
    timemap: TimeMap,
    settings: ChainSettings,
    open_output: Callable[[], Encoder],
    work_dir: Path,
    label: str = "",
) -> ChainResult:
    """Process the kept pieces of `source` and write them with the encoder `open_output()` returns."""
    sr, ch = source.samplerate, source.channels
    result = ChainResult(timemap=timemap, frames=0)
    if settings.trim or settings.denoise:
        levels = _analyse(source, timemap).levels_db()
        if settings.trim:
            head, tail = trim_points(levels, TRIM_FRAME_S, timemap.duration)
            if head or tail:
                result.timemap = timemap.trimmed(head, tail)
                result.trimmed_head, result.trimmed_tail = head, tail
                logger.debug("%s: trimmed %.2f s head, %.2f s tail", label, head, tail)
        stages: list = []
        if settings.denoise:
            spans = noise_spans(levels, TRIM_FRAME_S)
            profile = measure_noise_profile(_noise_audio(source, timemap, spans), sr)
            result.noise_profile_s = profile.seconds
            stages = [BandFilter(sr, ch), SpectralGate(sr, ch, profile)]
    else:
        stages = []
    pipeline = _Pipeline(stages)
    ceiling = TRUE_PEAK_CEILING_DBTP[settings.fmt]

    if not settings.normalize:
        limiter = TruePeakLimiter(sr, ch, ceiling) if settings.fmt in LOSSY_FORMATS else None
        encoder = open_output()
        for block in _processed(read_pieces(source, result.timemap), pipeline):
            result.frames += _emit(encoder, limiter.process(block) if limiter else block)
        if limiter:
            result.frames += _emit(encoder, limiter.flush())
            result.limited_samples = limiter.reduced_samples
        result.frames += result_encoder_close(encoder)
        return result

    # Normalisation: measure while writing the processed audio to a compact intermediate.
    work_dir.mkdir(parents=True, exist_ok=True)
    intermediate = work_dir / f".chain-{id(result):x}.f32"
    meter = LoudnessMeter(sr, ch)
    frames = 0
    try:
        with open(intermediate, "wb") as tmp:
            for block in _processed(read_pieces(source, result.timemap), pipeline):
                meter.add(block)
                block.astype(np.float32, copy=False).tofile(tmp)
                frames += len(block)
        loudness = meter.integrated()
        result.input_lufs = loudness if math.isfinite(loudness) else None
        if not math.isfinite(loudness):
            gain_db = 0.0
            logger.info("%s: silent audio (no gated loudness); loudness normalisation skipped", label)
        else:
            gain_db = min(LOUDNESS_TARGET_LUFS - loudness, LOUDNESS_MAX_GAIN_DB)
        for attempt in range(3):
            encoder = open_output()
            limiter = TruePeakLimiter(sr, ch, ceiling, gain=10 ** (gain_db / 20))
            check = LoudnessMeter(sr, ch)
            result.frames = 0
            with open(intermediate, "rb") as tmp:
                while True:
                    block = np.fromfile(tmp, dtype=np.float32, count=BLOCK_FRAMES * ch)
                    if not len(block):
                        break
                    out = limiter.process(block.reshape(-1, ch))
                    check.add(out)
                    result.frames += _emit(encoder, out)
            out = limiter.flush()
            check.add(out)
            result.frames += _emit(encoder, out)
            result.frames += result_encoder_close(encoder)
            result.gain_db = gain_db
            result.limited_samples = limiter.reduced_samples
            achieved = check.integrated()
            result.output_lufs = achieved if math.isfinite(achieved) else None
            if not math.isfinite(loudness) or not math.isfinite(achieved):
                break
            shortfall = LOUDNESS_TARGET_LUFS - achieved
            if abs(shortfall) <= LIMITER_CORRECTION_LU or attempt == 2 or gain_db >= LOUDNESS_MAX_GAIN_DB:
                break
            logger.debug(
                "%s: limiter cost %.2f LU; re-running the final pass with more gain", label, shortfall
            )
            gain_db = min(gain_db + shortfall, LOUDNESS_MAX_GAIN_DB)
    finally:
        intermediate.unlink(missing_ok=True)
    return result


def result_encoder_close(encoder: Encoder) -> int:
    return encoder.close(getattr(encoder, "chapters", None))


def _processed(blocks: Iterator[np.ndarray], pipeline: _Pipeline) -> Iterator[np.ndarray]:
    for block in blocks:
        out = pipeline.process(block)
        if len(out):
            yield out
    for out in pipeline.flush():
        if len(out):
            yield out


def _emit(encoder: Encoder, block: np.ndarray) -> int:
    if len(block):
        encoder.write(block)
    return len(block)
