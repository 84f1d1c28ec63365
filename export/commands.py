"""What the export state machine asks its shell to do (frozen values; the machine never does I/O).

Work commands carry a `request_id` and a `key` (the step they belong to, a stable string such as
`dsp:Archive:audio:1234`) and an absolute `deadline`: when no reply arrives by then, the shell
reports `Expired` and the machine sends the work again (every request is idempotent). Control
commands (`Schedule`, `Park`, `Finish`) tell the shell how to wait or that the export is over.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Work:
    request_id: str
    key: str
    deadline: float


@dataclass(frozen=True)
class FetchContext(Work):
    """Analytics details, the conversation, recording metadata, agents' names (helper thread)."""


@dataclass(frozen=True)
class AdvanceRecordings(Work):
    """One step of waiting for / downloading the audio recordings in `format_id` (helper thread)."""

    format_id: str = "WAV"
    fetcher_state: dict[str, Any] = field(default_factory=dict)
    dest_dir: Path = Path()


@dataclass(frozen=True)
class PrepareSources(Work):
    """Probe the downloaded recordings and merge mono pairs into stereo (DSP pool)."""

    format_id: str = "WAV"
    files: tuple[tuple[dict[str, Any], Path], ...] = ()
    work_dir: Path = Path()


@dataclass(frozen=True)
class RunDsp(Work):
    """Process one source into the profile's audio files (DSP pool)."""

    profile: str = ""
    item: str = ""
    source: Path = Path()
    recording: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] | None = None  # analytics details: the participant segments
    options: Any = None  # audio.options.AudioOptions
    expected_seconds: float = 0.0
    work_dir: Path = Path()
    speakers: tuple[tuple[str, int, int], ...] = ()  # transcript phrase times by side: channel evidence


@dataclass(frozen=True)
class WriteFile(Work):
    """Write one file to the destination, idempotently (Writer)."""

    profile: str = ""
    item: str = ""
    target: Path = Path()
    source: Path | bytes = b""
    strategy: str = "AppendCounter"
    metadata: dict[str, str] = field(default_factory=dict)
    duration_s: float | None = None


@dataclass(frozen=True)
class AdvanceTranscripts(Work):
    """One step of waiting for / downloading the transcripts (helper thread)."""

    fetcher_state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderTranscripts(Work):
    """Render the transcripts for one profile through its audio files' timelines (helper thread)."""

    profile: str = ""
    documents: tuple[Any, ...] = ()  # transcripts.model.TranscriptDocument
    outputs: tuple[Any, ...] = ()  # export.durable.OutputView


@dataclass(frozen=True)
class WriteBack(Work):
    """Write the conversation's export status back to Genesys Cloud (Writeback actor)."""

    statuses: tuple[Any, ...] = ()  # export.writeback.KindStatus
    participant_id: str | None = None
    record: bool = True  # also the conversation's custom-attributes record (backfill may leave it out)


@dataclass(frozen=True)
class Schedule:
    """Deliver `TimerFired` at `at` (a short wait: the export keeps its slot)."""

    at: float


@dataclass(frozen=True)
class Park:
    """Nothing to do before `until`: persist, release the slot, wake up then."""

    until: float
    reason: str


@dataclass(frozen=True)
class Finish:
    outcome: str  # "done" | "failed" | "out_of_scope" | "already_exported"
    detail: str = ""


Command = Work | Schedule | Park | Finish
