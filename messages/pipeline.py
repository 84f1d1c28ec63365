"""Requests and replies between an ExportActor and the pipeline (DSP, Writer, Writeback).

Every request names the requester (`reply_to`, a directory name) and carries a `request_id`, so a
reply that arrives after the requester was restarted is recognised and ignored, and a restarted
requester simply asks again: requests are idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class DspRequest:
    request_id: str
    reply_to: str
    conversation_id: str
    profile: str
    source: Path
    recording: dict[str, Any]
    details: dict[str, Any] | None
    options: Any  # audio.options.AudioOptions
    work_dir: Path
    expected_seconds: float = 0.0


@dataclass(frozen=True)
class DspResult:
    request_id: str
    outputs: tuple[Any, ...] = ()  # audio.export.AudioOutput
    error: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class WriteRequest:
    request_id: str
    reply_to: str
    conversation_id: str
    profile: str
    item: str
    target: Path
    source: Path | bytes
    strategy: str
    metadata: dict[str, str] = field(default_factory=dict)
    duration_s: float | None = None


@dataclass(frozen=True)
class WriteResult:
    request_id: str
    item: str
    path: Path | None
    action: str
    size: int = 0
    metadata_mechanism: str = ""
    error: str | None = None


@dataclass(frozen=True)
class WritebackRequest:
    request_id: str
    reply_to: str
    conversation_id: str
    profile: str
    kind: str  # "audio" | "transcript"
    status: str  # "exported" | "failed" | "skipped"
    root: str
    files: tuple[str, ...]
    detail: str = ""
    participant_id: str | None = None  # the customer participant (its attributes persist across transfers)


@dataclass(frozen=True)
class WritebackResult:
    request_id: str
    error: str | None = None


@dataclass(frozen=True)
class ExportDone:
    """An ExportActor tells its supervisor how the conversation ended before it stops."""

    conversation_id: str
    outcome: str  # "done" | "failed" | "out_of_scope" | "already_exported"
    detail: str = ""
