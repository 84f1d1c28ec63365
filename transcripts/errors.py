"""The one exception the transcript package raises for input it cannot understand."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


class TranscriptError(ValueError):
    """A transcript document that cannot be converted.

    The message always names the conversation (when it is known) and the problem, e.g.
    ``conversation 1234…: transcripts[0].phrases is not a list``.
    """

    def __init__(self, problem: str, *, conversation_id: str | None = None) -> None:
        self.problem = problem
        self.conversation_id = conversation_id
        where = f"conversation {conversation_id}" if conversation_id else "transcript document"
        super().__init__(f"{where}: {problem}")
