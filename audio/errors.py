"""Errors raised by the audio engine (picklable, so they cross the DSP process pool intact)."""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger(__name__)


class AudioError(Exception):
    """Base class of audio engine errors."""


class AudioDecodeError(AudioError):
    """The input file cannot be decoded (corrupt, truncated, not audio, unsupported codec)."""

    def __init__(self, path: Path | str, cause: str) -> None:
        super().__init__(f"cannot decode {path}: {cause}")
        self.path = str(path)
        self.cause = cause

    def __reduce__(self):  # keep both arguments across pickling
        return (type(self), (self.path, self.cause))


class AudioEncodeError(AudioError):
    """An output file could not be written."""
