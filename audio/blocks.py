"""Block-streaming helpers: run a whole-array function over an endless stream in bounded memory.

`OverlapSave` feeds a function chunks of the stream with enough context on both sides that every
sample it keeps was computed exactly as if the function had seen the whole signal (for functions whose
output at a sample depends only on a bounded neighbourhood: STFT gating, look-ahead limiting, FIR
oversampling). The stream is delayed by `right` samples; `flush` emits the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

logger = logging.getLogger(__name__)


class OverlapSave:
    """Apply `fn(chunk) -> same-shape chunk` to a stream of (frames, channels) blocks.

    `left`/`right`: context samples `fn` needs on each side. `align`: chunks passed to `fn` start at
    stream positions that are multiples of `align` (counted from `-left`), so a frame grid (STFT hop)
    stays the same across chunks. The signal is taken to be zero before its start and after its end.
    """

    def __init__(
        self, fn: Callable[[np.ndarray], np.ndarray], left: int, right: int, channels: int, align: int = 1
    ) -> None:
        self.fn = fn
        self.align = max(1, align)
        self.left = -(-left // self.align) * self.align
        self.right = right
        self.channels = channels
        self._buf = np.zeros((self.left, channels), dtype=np.float32)
        self._pending: list[np.ndarray] = []
        self._pending_len = 0
        self.min_chunk = 4 * self.align

    def push(self, block: np.ndarray) -> np.ndarray:
        if len(block):
            self._pending.append(block.astype(np.float32, copy=False))
            self._pending_len += len(block)
        available = len(self._buf) - self.left + self._pending_len - self.right
        if available < max(self.min_chunk, self.right):
            return np.zeros((0, self.channels), dtype=np.float32)
        return self._run(final=False)

    def flush(self) -> np.ndarray:
        return self._run(final=True)

    def _run(self, final: bool) -> np.ndarray:
        buf = np.concatenate([self._buf, *self._pending]) if self._pending else self._buf
        self._pending, self._pending_len = [], 0
        core = len(buf) - self.left - (0 if final else self.right)
        if not final:
            core = core // self.align * self.align
        if core <= 0:
            self._buf = buf
            return np.zeros((0, self.channels), dtype=np.float32)
        if final:
            pad = self.right + (-(len(buf) + self.right) % self.align)
            chunk = np.concatenate([buf, np.zeros((pad, self.channels), dtype=np.float32)])
        else:
            chunk = buf[: self.left + core + self.right]
        out = self.fn(chunk)[self.left : self.left + core]
        self._buf = buf[core:] if not final else np.zeros((self.left, self.channels), dtype=np.float32)
        return np.ascontiguousarray(out, dtype=np.float32)
