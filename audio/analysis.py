"""The analysis pass: short-term speech-band levels, and what the chain decides from them.

One streamed pass over an export's audio records the level of every 10 ms frame per channel in the
telephone speech band (a few MB for a 2-hour call). From those levels:

* `trim_points`: where the first and last sound are (silence trimming, head and tail only: silence
  between sounds is never touched);
* `noise_spans`: the quietest stretches of each channel, on which the noise reduction measures the
  noise it will remove.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import signal

from audio.parameters import (
    DENOISE_NOISE_MARGIN_DB,
    DENOISE_NOISE_MIN_RUN_S,
    DENOISE_NOISE_PERCENTILE,
    DENOISE_NOISE_PROFILE_MAX_S,
    TRIM_DETECT_BAND_HZ,
    TRIM_FLOOR_PERCENTILE,
    TRIM_FRAME_S,
    TRIM_HEAD,
    TRIM_MARGIN_OVER_FLOOR_DB,
    TRIM_MAX_THRESHOLD_DBFS,
    TRIM_MIN_ACTIVE_S,
    TRIM_MIN_THRESHOLD_DBFS,
    TRIM_PAD_S,
    TRIM_TAIL,
)

logger = logging.getLogger(__name__)

_SILENT_DB = -150.0


class LevelMeter:
    """Speech-band level (dBFS, RMS) of every TRIM_FRAME_S frame, per channel, streamed."""

    def __init__(self, samplerate: int, channels: int) -> None:
        self.samplerate = samplerate
        self.channels = channels
        self.frame = max(1, int(round(TRIM_FRAME_S * samplerate)))
        low, high = TRIM_DETECT_BAND_HZ
        high = min(high, 0.45 * samplerate)
        self.sos = signal.butter(4, [low, high], "bandpass", fs=samplerate, output="sos")
        self._zi = np.zeros((self.sos.shape[0], 2, channels))
        self._energy: list[np.ndarray] = []
        self._carry = np.zeros((0, channels))

    def add(self, block: np.ndarray) -> None:
        if not len(block):
            return
        y, self._zi = signal.sosfilt(self.sos, block, axis=0, zi=self._zi)
        if len(self._carry):
            y = np.concatenate([self._carry, y])
        whole = len(y) // self.frame
        if whole:
            self._energy.append(
                (y[: whole * self.frame] ** 2).reshape(whole, self.frame, self.channels).mean(axis=1)
            )
        self._carry = y[whole * self.frame :]

    def levels_db(self) -> np.ndarray:
        """(frames, channels) levels in dBFS (sine full scale = -3 dBFS RMS)."""
        parts = list(self._energy)
        if len(self._carry):
            parts.append((self._carry**2).mean(axis=0, keepdims=True))
        if not parts:
            return np.zeros((0, self.channels))
        energy = np.concatenate(parts)
        with np.errstate(divide="ignore"):
            return np.maximum(10 * np.log10(energy), _SILENT_DB)


def activity(levels: np.ndarray) -> np.ndarray:
    """Boolean per frame: some channel carries sound (speech, prompt, music) above its noise floor."""
    if not len(levels):
        return np.zeros(0, dtype=bool)
    floor = np.percentile(levels, TRIM_FLOOR_PERCENTILE, axis=0)
    threshold = np.clip(floor + TRIM_MARGIN_OVER_FLOOR_DB, TRIM_MIN_THRESHOLD_DBFS, TRIM_MAX_THRESHOLD_DBFS)
    return (levels > threshold).any(axis=1)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index runs where mask is True."""
    if not len(mask):
        return []
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def trim_points(levels: np.ndarray, frame_s: float, duration: float) -> tuple[float, float]:
    """(head, tail): seconds of silence to cut from the start and from the end of the audio.

    Returns (0, 0) when no sound is found (digital silence or pure noise is kept as it is: an empty
    file would be worse than a silent one).
    """
    min_frames = max(1, int(round(TRIM_MIN_ACTIVE_S / frame_s)))
    runs = [(a, b) for a, b in _runs(activity(levels)) if b - a >= min_frames]
    if not runs:
        return 0.0, 0.0
    first, last = runs[0][0] * frame_s, min(duration, runs[-1][1] * frame_s)
    head = max(0.0, first - TRIM_PAD_S) if TRIM_HEAD else 0.0
    tail = max(0.0, duration - (last + TRIM_PAD_S)) if TRIM_TAIL else 0.0
    return head, tail


def noise_spans(levels: np.ndarray, frame_s: float) -> list[list[tuple[float, float]]]:
    """Per channel: the quiet (noise-only) stretches to profile, in seconds, at most a capped total."""
    out: list[list[tuple[float, float]]] = []
    min_frames = max(1, int(round(DENOISE_NOISE_MIN_RUN_S / frame_s)))
    for ch in range(levels.shape[1] if levels.ndim == 2 else 0):
        lv = levels[:, ch]
        if not len(lv):
            out.append([])
            continue
        limit = np.percentile(lv, DENOISE_NOISE_PERCENTILE) + DENOISE_NOISE_MARGIN_DB
        spans: list[tuple[float, float]] = []
        total = 0.0
        runs = [(a, b) for a, b in _runs(lv <= limit) if b - a >= min_frames]
        if not runs:  # very short audio: take the quietest frames whatever their run length
            runs = _runs(lv <= limit)
        for a, b in runs:
            # drop a frame at each edge: the transition into or out of speech
            a2, b2 = (a + 1, b - 1) if b - a > 2 else (a, b)
            spans.append((a2 * frame_s, b2 * frame_s))
            total += (b2 - a2) * frame_s
            if total >= DENOISE_NOISE_PROFILE_MAX_S:
                break
        out.append(spans)
    return out
