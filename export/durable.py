"""JSON for what a parked export keeps in the ledger: the timelines of the audio files it wrote.

A transcript is rendered after its audio, through the exported file's timeline (so subtitles follow
the file's cuts), and the transcript can come an hour after the audio. So each exported audio file's
timeline, segment and sides are kept as JSON with the parked job and turned back into the audio
engine's frozen dataclasses on wake-up. The codec is generic over a fixed list of those dataclasses
(a field added to one of them later is carried along without changes here).
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_TYPES = {
    "Gap": "audio.timemap",
    "MediaClock": "audio.timemap",
    "Piece": "audio.timemap",
    "TimeMap": "audio.timemap",
    "ExportTimeline": "audio.timemap",
    "PlannedSegment": "audio.segments",
}


def encode(value: Any) -> Any:
    """A JSON-able form of `value` (dataclasses of the list above, tuples, lists, dicts, scalars)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if name not in _TYPES:
            raise TypeError(f"{name} is not a durable type")
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__type__": name, **fields}
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def decode(value: Any) -> Any:
    """The inverse of `encode` (lists come back as tuples: the dataclasses are frozen)."""
    if isinstance(value, dict) and "__type__" in value:
        name = value["__type__"]
        module = importlib.import_module(_TYPES[name])
        cls = getattr(module, name)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: decode(v) for k, v in value.items() if k in known})
    if isinstance(value, list):
        return tuple(decode(v) for v in value)
    if isinstance(value, dict):
        return {k: decode(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class OutputView:
    """What a transcript needs of one exported audio file (the attributes `render_transcripts` reads
    of an `audio.export.AudioOutput`), kept durably."""

    item: str
    recording_id: str
    timeline: Any = None  # audio.timemap.ExportTimeline
    segment: Any = None  # audio.segments.PlannedSegment | None
    sides: tuple[str, ...] = ()

    @classmethod
    def of(cls, item: str, recording_id: str, output: Any) -> OutputView:
        return cls(
            item=item,
            recording_id=recording_id,
            timeline=getattr(output, "timeline", None),
            segment=getattr(output, "segment", None),
            sides=tuple(getattr(output, "sides", ()) or ()),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "recording_id": self.recording_id,
            "timeline": encode(self.timeline),
            "segment": encode(self.segment),
            "sides": list(self.sides),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OutputView:
        return cls(
            item=data["item"],
            recording_id=data["recording_id"],
            timeline=decode(data.get("timeline")),
            segment=decode(data.get("segment")),
            sides=tuple(data.get("sides") or ()),
        )
