"""Output formats of a profile and the file extension each one produces."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

AUDIO_EXTENSIONS: dict[str, str] = {
    "WAV": "wav",
    "WAV_ULAW": "wav",
    "WEBM": "webm",
    "OGG_VORBIS": "ogg",
    "OGG_OPUS": "opus",
    "MP3": "mp3",
    "M4B": "m4b",
}
TRANSCRIPT_EXTENSIONS: dict[str, str] = {
    "RAW": "json",
    "AWS": "json",
    "TTML": "ttml",
    "SRT": "srt",
    "VTT": "vtt",
    "SAMI": "smi",
    "CSV": "csv",
    "AUDLAB": "txt",
    "GCTXT": "txt",
}


def extension_for(kind: str, format_name: str) -> str:
    """``extension_for("audio", "MP3") == "mp3"``; raises KeyError for an unknown format."""
    table = AUDIO_EXTENSIONS if kind == "audio" else TRANSCRIPT_EXTENSIONS
    return table[format_name]
