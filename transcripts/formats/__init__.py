"""The nine transcript output formats, by their profile names.

Each format is a module with `render(cue_set) -> bytes`; `FORMATS` maps the name a profile uses
(RAW, AWS, TTML, SRT, VTT, SAMI, CSV, AUDLAB, GCTXT) to its extension, MIME type and writer.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from transcripts.cues import CueSet

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TranscriptFormat:
    name: str
    extension: str
    content_type: str
    description: str
    module: str
    filtered: bool = True
    """False for RAW, which writes the document as it is (no cues are built for it)."""

    @property
    def writer(self) -> Callable[[CueSet], bytes]:
        return importlib.import_module(f"transcripts.formats.{self.module}").render


FORMATS: dict[str, TranscriptFormat] = {
    f.name: f
    for f in (
        TranscriptFormat(
            "RAW", ".json", "application/json", "full Genesys Cloud transcript (indented JSON)", "raw", False
        ),
        TranscriptFormat("AWS", ".json", "application/json", "Amazon Transcribe-compatible JSON", "aws"),
        TranscriptFormat("TTML", ".ttml", "application/ttml+xml", "W3C Timed Text", "ttml"),
        TranscriptFormat("SRT", ".srt", "application/x-subrip", "SubRip subtitles", "srt"),
        TranscriptFormat("VTT", ".vtt", "text/vtt", "WebVTT with voice spans", "vtt"),
        TranscriptFormat("SAMI", ".smi", "application/x-sami", "Microsoft SAMI captions", "sami"),
        TranscriptFormat("CSV", ".csv", "text/csv", "one row per phrase (RFC 4180)", "csv_format"),
        TranscriptFormat("AUDLAB", ".txt", "text/plain", "Audacity label track", "audlab"),
        TranscriptFormat("GCTXT", ".txt", "text/plain", "human-readable transcript", "gctxt"),
    )
}


def get_format(name: str) -> TranscriptFormat:
    """The format of this (case-insensitive) name; ValueError listing the valid names otherwise."""
    fmt = FORMATS.get(name.strip().upper())
    if fmt is None:
        raise ValueError(f"unknown transcript format {name!r}: expected one of {', '.join(FORMATS)}")
    return fmt
