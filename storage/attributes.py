"""The file metadata attributes a profile may select, and their values for one file.

``AudioMetadataAttributes`` may name any of ``AUDIO_ATTRIBUTES``; ``TranscriptMetadataAttributes``
any of ``TRANSCRIPT_ATTRIBUTES`` (the audio ones plus the transcript id and start). Timestamps are
written as ISO 8601 with milliseconds and offset, in the profile's time zone
(``2026-03-24T14:30:22.000+01:00``). Values are written verbatim (no file-name sanitising: they are
file content, not names) and left out when the call has no value.
"""

from __future__ import annotations

import logging
from datetime import datetime

from storage.context import TemplateContext
from storage.dotnet_format import format_datetime

logger = logging.getLogger(__name__)

AUDIO_ATTRIBUTES: tuple[str, ...] = (
    "Conversation.Id",
    "Recording.Id",
    "Acd.Name",
    "Acd.Id",
    "Ivr.Name",
    "Ivr.Id",
    "Customer.Name",
    "Recording.StartTime",
    "Recording.EndTime",
    "Recording.MediaSubtype",
    "Recording.MediaSubject",
)
TRANSCRIPT_ATTRIBUTES: tuple[str, ...] = (*AUDIO_ATTRIBUTES, "Transcript.Id", "Transcript.StartTime")
ALL_ATTRIBUTES: tuple[str, ...] = TRANSCRIPT_ATTRIBUTES
TIME_FORMAT = "yyyy-MM-ddTHH:mm:ss.fffzzz"


def allowed_attributes(kind: str) -> tuple[str, ...]:
    return AUDIO_ATTRIBUTES if kind == "audio" else TRANSCRIPT_ATTRIBUTES


def attribute_values(context: TemplateContext, names: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``{attribute: text}`` for the selected names that have a value for this file."""
    values: dict[str, str] = {}
    for name in names:
        if name not in ALL_ATTRIBUTES:
            raise ValueError(f"{name!r} is not a metadata attribute (one of {', '.join(ALL_ATTRIBUTES)})")
        value = context.value(name)
        if value is None or value == "":
            continue
        if isinstance(value, datetime):
            values[name] = format_datetime(context.localize(value), TIME_FORMAT)
        else:
            values[name] = str(value)
    return values
