"""Look-ahead true-peak limiter, streamed block by block.

Gain alone cannot bring peaky speech to -23 LUFS without clipping; this limiter keeps the
oversampled (true) peak under a ceiling. Per sample it computes the gain that would keep that sample's
true peak at the ceiling, takes the minimum of that over a window reaching `lookahead` ahead and
`hold + release` behind, and averages it over `lookahead + release` samples: the average of values that
are each below the required gain is below it too, so the ceiling holds exactly, while the gain ramps
down before a peak and back up after it instead of jumping. Channels are limited independently
(agent and customer are different people on different channels).
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import ndimage

from audio.blocks import OverlapSave
from audio.loudness import true_peak
from audio.parameters import LIMITER_HOLD_S, LIMITER_LOOKAHEAD_S, LIMITER_RELEASE_S, TRUE_PEAK_OVERSAMPLE

logger = logging.getLogger(__name__)

_FIR_CONTEXT = 16  # samples of context resample_poly's interpolation filter needs on each side
_SAFE_MARGIN_DB = 6.0
_SUB_BLOCK = 256  # granularity (samples) of the search for samples near the ceiling  # sample peaks this far under the ceiling cannot have true peaks over it


class TruePeakLimiter:
    """Stream limiter: `process(block)` returns output delayed by `latency` frames; `flush()` the rest."""

    def __init__(self, samplerate: int, channels: int, ceiling_dbtp: float, gain: float = 1.0) -> None:
        self.ceiling = 10 ** (ceiling_dbtp / 20)
        self.gain = gain
        self.lookahead = max(1, int(round(LIMITER_LOOKAHEAD_S * samplerate)))
        self.release = max(1, int(round(LIMITER_RELEASE_S * samplerate)))
        self.hold = max(1, int(round(LIMITER_HOLD_S * samplerate))) + self.release
        left = self.lookahead + self.hold + _FIR_CONTEXT
        right = self.lookahead + self.release + _FIR_CONTEXT
        self._stream = OverlapSave(self._limit, left, right, channels)
        self.reduced_samples = 0
        self.min_gain = 1.0

    @property
    def latency(self) -> int:
        return self._stream.right

    def process(self, block: np.ndarray) -> np.ndarray:
        if self.gain != 1.0:
            block = block * np.float32(self.gain)
        return self._stream.push(block)

    def flush(self) -> np.ndarray:
        return self._stream.flush()

    def _limit(self, chunk: np.ndarray) -> np.ndarray:
        magnitude = np.abs(chunk)
        loud = magnitude.max(axis=1) >= self.ceiling * 10 ** (-_SAFE_MARGIN_DB / 20)
        if not loud.any():
            return chunk
        peaks = self._true_peaks(chunk, magnitude, loud)
        with np.errstate(divide="ignore"):
            required = np.minimum(1.0, self.ceiling / np.maximum(peaks, 1e-12)).astype(np.float32)
        if float(required.min()) >= 1.0:
            return chunk
        # m[n] = min(required[n - hold .. n + lookahead])
        size = self.hold + self.lookahead + 1
        origin = (size // 2) - self.hold  # window [n - hold, n + lookahead]
        m = ndimage.minimum_filter1d(required, size=size, axis=0, origin=-origin, mode="nearest")
        # s[n] = mean(m[n - lookahead .. n + release]) <= required[n]
        avg = self.lookahead + self.release + 1
        a_origin = (avg // 2) - self.lookahead
        s = ndimage.uniform_filter1d(m, size=avg, axis=0, origin=-a_origin, mode="nearest")
        s = np.minimum(s, required)  # float rounding of the average
        self.reduced_samples += int((s < 0.999).sum())
        self.min_gain = min(self.min_gain, float(s.min()))
        return chunk * s

    @staticmethod
    def _true_peaks(chunk: np.ndarray, magnitude: np.ndarray, loud: np.ndarray) -> np.ndarray:
        """|x| everywhere, raised to the oversampled peak around samples close to the ceiling.

        Speech peaks are sparse: only the runs of sub-blocks that hold a loud sample are oversampled.
        """
        peaks = magnitude.copy()
        n = len(chunk)
        flags = np.zeros(-(-n // _SUB_BLOCK), dtype=bool)
        flags[np.flatnonzero(loud) // _SUB_BLOCK] = True
        edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
        for first, last in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
            a, b = int(first) * _SUB_BLOCK, min(n, int(last) * _SUB_BLOCK)
            lo, hi = max(0, a - _FIR_CONTEXT), min(n, b + _FIR_CONTEXT)
            local = true_peak(chunk[lo:hi], TRUE_PEAK_OVERSAMPLE)
            peaks[a:b] = local[a - lo : b - lo]
        return peaks
