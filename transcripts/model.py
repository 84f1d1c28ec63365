"""The parsed transcript: plain frozen dataclasses over the Genesys STA document.

Times are epoch milliseconds exactly as Genesys Cloud sends them; `render` turns them into
offsets into the exported file. The untouched input object is kept in `TranscriptDocument.raw`
for the RAW format.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Word:
    word: str
    start_ms: int
    duration_ms: int
    confidence: float | None = None

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.duration_ms


@dataclass(frozen=True)
class Phrase:
    """One recognised phrase of one side of the call."""

    index: int
    """`phraseIndex` when the document has it, else the phrase's position in its transcript."""
    text: str
    start_ms: int
    duration_ms: int
    purpose: str
    """`participantPurpose` lower-cased: 'internal' (agent side), 'external' (customer), or other."""
    words: tuple[Word, ...] = ()
    confidence: float | None = None
    """Phrase-level `confidence` (optional in real documents)."""
    decorated_text: str | None = None
    channel: str | None = None
    """`channel` as given (optional; derived from `purpose` when absent)."""
    sentiment: float | None = None

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.duration_ms


@dataclass(frozen=True)
class Transcript:
    transcript_id: str
    language: str | None
    start_ms: int
    duration_ms: int | None
    phrases: tuple[Phrase, ...]


@dataclass
class TranscriptDocument:
    """One downloaded STA transcript document (one communication, one or more transcripts)."""

    conversation_id: str | None
    communication_id: str | None
    organization_id: str | None
    start_ms: int
    """Earliest transcript start: the zero point of outputs rendered without a timeline."""
    transcripts: list[Transcript]
    participants: list[dict[str, Any]] = field(default_factory=list)
    conversation_start_ms: int | None = None
    media_type: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    recording_id: str | None = None
    """The recording this document transcribes, when Genesys says so (its transcript URL's part)."""
    part: str | None = None
    """A stable key of this document among the conversation's: the communication id, or
    `<communication id>#<n>` for part n of a communication recorded in several recordings."""

    @property
    def phrases(self) -> list[Phrase]:
        return [p for t in self.transcripts for p in t.phrases]

    @property
    def language(self) -> str | None:
        return next((t.language for t in self.transcripts if t.language), None)
