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

CHANNEL_LAYOUTS: tuple[str, ...] = ("auto", "default", "swapped")
"""Which channel of a recording carries whom (`audio.channel_detect`): `auto` detects it from the audio
and the conversation (and refuses a one-side export when it cannot tell), `default` uses
`audio.channels` (customer on channel 0 of a stereo recording; a mono recording's side from its
`mediaSubtype`), `swapped` the default with the two channels of a stereo recording exchanged."""


@dataclass(frozen=True)
class AudioOptions:
    """The audio part of an export profile.

    `purposes` is ParticipantPurposesToExport and `segment_types` CallSegmentsToExport (empty = all);
    the export is their intersection. `concatenate` joins the matching segments into one file,
    `chapters` exports the whole recording with one chapter per participant segment.
    `channel_layout` is one of `CHANNEL_LAYOUTS` (which channel carries the agent and which the customer).
    """

    format: str = "WAV"
    trim_silence: bool = False
    reduce_noise: bool = False
    normalize_loudness: bool = False
    purposes: tuple[str, ...] = ()
    segment_types: tuple[str, ...] = ()
    concatenate: bool = False
    chapters: bool = False
    channel_layout: str = "auto"

    def __post_init__(self) -> None:
        fmt = self.format.upper()
        if fmt not in FORMATS:
            raise ValueError(f"unknown audio format {self.format!r}: expected one of {', '.join(FORMATS)}")
        layout = self.channel_layout.lower()
        if layout not in CHANNEL_LAYOUTS:
            raise ValueError(
                f"unknown channel layout {self.channel_layout!r}: expected one of {', '.join(CHANNEL_LAYOUTS)}"
            )
        object.__setattr__(self, "channel_layout", layout)
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
