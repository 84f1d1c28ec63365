"""What a profile asks of the audio engine for one export."""

from __future__ import annotations

import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)

FORMATS: tuple[str, ...] = ("WAV", "WAV_ULAW", "WEBM", "OGG_VORBIS", "OGG_OPUS", "MP3", "M4B")
"""Output formats, spelled as in the profile document (and as Genesys Cloud's `formatId`)."""

EXTENSIONS: dict[str, str] = {
    "WAV": ".wav",
    "WAV_ULAW": ".wav",
    "WEBM": ".webm",
    "OGG_VORBIS": ".ogg",
    # RFC 7845 §9 recommends .opus for Ogg Opus audio; players pick the right decoder from it.
    "OGG_OPUS": ".opus",
    "MP3": ".mp3",
    "M4B": ".m4b",
}
"""Format -> file extension of the exported file."""

LOSSY_FORMATS = frozenset({"WEBM", "OGG_VORBIS", "OGG_OPUS", "MP3", "M4B"})
CHAPTER_FORMATS = frozenset({"MP3", "M4B"})


@dataclass(frozen=True)
class AudioOptions:
    """The audio part of an export profile.

    `purposes` is ParticipantPurposesToExport and `segment_types` CallSegmentsToExport (empty = all);
    the export is their intersection. `concatenate` joins the matching segments into one file,
    `chapters` exports the whole recording with one chapter per participant segment.
    """

    format: str = "WAV"
    trim_silence: bool = False
    reduce_noise: bool = False
    normalize_loudness: bool = False
    purposes: tuple[str, ...] = ()
    segment_types: tuple[str, ...] = ()
    concatenate: bool = False
    chapters: bool = False

    def __post_init__(self) -> None:
        fmt = self.format.upper()
        if fmt not in FORMATS:
            raise ValueError(f"unknown audio format {self.format!r}: expected one of {', '.join(FORMATS)}")
        object.__setattr__(self, "format", fmt)
        object.__setattr__(self, "purposes", tuple(p.lower() for p in self.purposes))
        object.__setattr__(self, "segment_types", tuple(s.lower() for s in self.segment_types))

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]

    @property
    def filtered(self) -> bool:
        """True when a purpose or segment-type filter is set."""
        return bool(self.purposes or self.segment_types)
