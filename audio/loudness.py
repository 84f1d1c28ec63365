"""EBU R128 / ITU-R BS.1770-4 integrated loudness, measured block by block.

pyloudnorm needs the whole signal in memory (and promotes it to float64); this meter uses the same
K-weighting filters (taken from pyloudnorm, so both agree by construction) but keeps only the energy of
each 100 ms step: 72,000 numbers per channel for a 2-hour call. Gating follows BS.1770-4: 400 ms blocks
every 100 ms, absolute gate -70 LUFS, relative gate -10 LU. Inputs shorter than one 400 ms block are
measured as a single block over their whole length (pyloudnorm raises on them).
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pyloudnorm
from scipy import signal

logger = logging.getLogger(__name__)

_ABSOLUTE_GATE_LUFS = -70.0
_RELATIVE_GATE_LU = -10.0


class LoudnessMeter:
    """Feed (frames, channels) blocks with `add`; read `integrated()` at the end."""

    def __init__(self, samplerate: int, channels: int) -> None:
        self.samplerate = samplerate
        self.channels = channels
        self.step = max(1, int(round(0.1 * samplerate)))
        filters = pyloudnorm.Meter(samplerate)._filters  # K-weighting: high shelf, then high pass
        self._stages = []
        for stage in filters.values():
            b, a = np.asarray(stage.b, dtype=np.float64), np.asarray(stage.a, dtype=np.float64)
            zi = np.zeros((max(len(a), len(b)) - 1, channels))
            self._stages.append((b * stage.passband_gain, a, zi))
        self._steps: list[np.ndarray] = []
        self._partial = np.zeros(channels)
        self._partial_n = 0
        self.frames = 0

    def add(self, block: np.ndarray) -> None:
        if len(block) == 0:
            return
        y = block.astype(np.float64)
        for i, (b, a, zi) in enumerate(self._stages):
            y, zi = signal.lfilter(b, a, y, axis=0, zi=zi)
            self._stages[i] = (b, a, zi)
        sq = y * y
        self.frames += len(sq)
        pos = 0
        if self._partial_n:
            take = min(self.step - self._partial_n, len(sq))
            self._partial += sq[:take].sum(axis=0)
            self._partial_n += take
            pos = take
            if self._partial_n == self.step:
                self._steps.append(self._partial.copy().reshape(1, -1))
                self._partial[:] = 0
                self._partial_n = 0
        whole = (len(sq) - pos) // self.step
        if whole:
            chunk = sq[pos : pos + whole * self.step].reshape(whole, self.step, self.channels).sum(axis=1)
            self._steps.append(chunk)
            pos += whole * self.step
        if pos < len(sq):
            self._partial += sq[pos:].sum(axis=0)
            self._partial_n += len(sq) - pos

    def block_energies(self) -> np.ndarray:
        """Mean square per channel of every 400 ms gating block, shape (blocks, channels)."""
        steps = np.concatenate(self._steps) if self._steps else np.zeros((0, self.channels))
        if len(steps) >= 4:
            sums = steps[:-3] + steps[1:-2] + steps[2:-1] + steps[3:]
            return sums / (4 * self.step)
        total = steps.sum(axis=0) + self._partial if len(steps) else self._partial.copy()
        n = len(steps) * self.step + self._partial_n
        return (total / n).reshape(1, -1) if n else np.zeros((0, self.channels))

    def integrated(self) -> float:
        """Integrated loudness in LUFS; -inf for silence or no input."""
        z = self.block_energies()
        if len(z) == 0:
            return -math.inf
        power = z.sum(axis=1)  # channel weights are 1.0 for L/R/mono
        with np.errstate(divide="ignore"):
            block_lufs = -0.691 + 10 * np.log10(power)
        above = block_lufs > _ABSOLUTE_GATE_LUFS
        if not above.any():
            return -math.inf
        relative = -0.691 + 10 * np.log10(power[above].mean()) + _RELATIVE_GATE_LU
        keep = above & (block_lufs > relative)
        return float(-0.691 + 10 * np.log10(power[keep].mean()))


def true_peak(block: np.ndarray, oversample: int = 4) -> np.ndarray:
    """Per-sample true-peak estimate |x| (max over `oversample` interpolated points), shape like block."""
    x = np.abs(block)
    if oversample <= 1 or len(block) < 2:
        return x
    up = signal.resample_poly(block.astype(np.float32, copy=False), oversample, 1, axis=0)
    n = len(block)
    up = np.abs(up[: n * oversample]).reshape(n, oversample, -1).max(axis=1)
    return np.maximum(x, up.reshape(block.shape))
