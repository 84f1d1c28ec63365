"""Requests and replies between an ExportActor and the pipeline (DSP, Writer, Writeback).

A request carries one work command of the export state machine (`export.commands`: PrepareSources,
RunDsp, WriteFile, WriteBack) with its `request_id` and deadline, and names the requester
(`reply_to`, a directory name). The work is idempotent: when no reply comes before the deadline, or
the actor doing it restarted, the ExportActor sends it again, and a reply to a request it no longer
waits for is recognised by its id and ignored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineRequest:
    reply_to: str
    conversation_id: str
    work: Any  # export.commands.Work
    priority: int = 0  # genesys.ratelimit.Priority of the Genesys Cloud requests the work makes

    @property
    def request_id(self) -> str:
        return str(self.work.request_id)


@dataclass(frozen=True)
class PipelineReply:
    request_id: str
    result: Any = None
    error: BaseException | None = None


@dataclass(frozen=True)
class FileWritten:
    """A file landed on the destination (for observers such as tests and benchmarks)."""

    conversation_id: str
    profile: str
    item: str
    path: Path | None
    size: int
    action: str
    duration_s: float | None = None


@dataclass(frozen=True)
class ExportDone:
    """An ExportActor tells its supervisor how it stopped: the export ended, or it parked."""

    conversation_id: str
    outcome: str  # "done" | "failed" | "out_of_scope" | "already_exported" | "parked"
    detail: str = ""
