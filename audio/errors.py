"""Errors raised by the audio engine (picklable, so they cross the DSP process pool intact)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Self

logger = logging.getLogger(__name__)


class AudioError(Exception):
    """Base class of audio engine errors."""


class AudioDecodeError(AudioError):
    """The input file cannot be decoded (corrupt, truncated, not audio, unsupported codec)."""

    def __init__(self, path: Path | str, cause: str) -> None:
        super().__init__(f"cannot decode {path}: {cause}")
        self.path = str(path)
        self.cause = cause

    def __reduce__(self) -> tuple[type[Self], tuple[str, str]]:  # keep both arguments across pickling
        return (type(self), (self.path, self.cause))


class AudioEncodeError(AudioError):
    """An output file could not be written."""


class ChannelLayoutError(AudioError):
    """A one-side export (agent-only, customer-only, per-participant segment files) was refused because
    the recording's channels cannot be told apart with confidence (`audio.channel_detect`).

    Permanent for this recording and layout setting: retrying the same audio gives the same answer
    (`permanent = True` is what `export.failures.classify` reads).
    """

    permanent = True

    def __init__(self, conversation_id: str, recording_id: str, reason: str) -> None:
        super().__init__(
            f"conversation {conversation_id} recording {recording_id}: {reason}; the one-side export is "
            "refused rather than risk the other party's voice in it (set the channel layout to 'default' "
            "or 'swapped' once the layout is verified on real recordings)"
        )
        self.conversation_id = conversation_id
        self.recording_id = recording_id
        self.reason = reason

    def __reduce__(self) -> tuple[type[Self], tuple[str, str, str]]:  # keep the arguments (DSP process pool)
        return (type(self), (self.conversation_id, self.recording_id, self.reason))
