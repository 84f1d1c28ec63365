"""The export's view of the configuration: which profiles apply to a call, and what their files are named.

A `Planner` binds the configuration snapshot and the per-profile sequence numbers to the functions of
`export.output_plan`, so the state machine asks simple questions ("which profiles?", "what is this
file's path?") without holding the whole service's dependencies.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

from export import output_plan
from export.steps import ConversationData, source_format, untranscribed_queues

logger = logging.getLogger(__name__)


class SequenceSource(Protocol):
    def source(self, profile_name: str) -> Any: ...


class _Deps:
    """The two attributes `output_plan` reads of the service's dependencies."""

    def __init__(self, sequences: SequenceSource) -> None:
        self.sequences = sequences


class Planner:
    def __init__(
        self, snapshot: Any, sequences: SequenceSource, ledger: Any, *, channel_layout: str = "auto"
    ) -> None:
        self.snapshot = snapshot
        self.ledger = ledger
        self.channel_layout = channel_layout
        self._deps = _Deps(sequences)

    @property
    def profiles(self) -> list[Any]:
        return list(self.snapshot.config.profiles) if self.snapshot is not None else []

    def profile(self, name: str) -> Any | None:
        return next((p for p in self.profiles if p.name == name), None)

    def applicable(self, data: ConversationData) -> list[Any]:
        return output_plan.applicable_profiles(self.snapshot, data)

    def already_exported(self, data: ConversationData, profiles: list[Any]) -> set[tuple[str, str]]:
        return output_plan.already_exported(data, self.ledger, profiles)

    def queue_names(self, queue_ids: tuple[str, ...]) -> str:
        names = self.snapshot.queue_names if self.snapshot is not None else {}
        return ", ".join(names.get(q, q) for q in queue_ids) or "-"

    def needs_participant_attributes(self) -> bool:
        """Whether a profile names participant attributes (`...Attribute.<key>` placeholders)."""
        for profile in self.profiles:
            texts = [
                profile.audio_file_template,
                profile.transcription_file_template,
                profile.path_template,
                *profile.audio_metadata_attributes,
                *profile.transcript_metadata_attributes,
            ]
            if any("Attribute." in (t or "") for t in texts):
                return True
        return False

    def needs_user_documents(self) -> bool:
        """Whether a profile names agents by their user document (`Agent.Username`,
        `Recording.User.*`): only then are agents' user documents read (the analytics details
        already carry their names)."""
        wanted = ("Agent.Username", "Recording.User.")
        for profile in self.profiles:
            texts = [
                profile.audio_file_template,
                profile.transcription_file_template,
                profile.path_template,
                *profile.audio_metadata_attributes,
                *profile.transcript_metadata_attributes,
            ]
            if any(w in (t or "") for t in texts for w in wanted):
                return True
        return False

    def untranscribed(self, data: ConversationData) -> str | None:
        return untranscribed_queues(data, self.snapshot)

    @staticmethod
    def source_format(profile: Any) -> tuple[str, bool]:
        return source_format(profile)

    def audio_options(self, profile: Any) -> Any:
        return output_plan.audio_options(profile, self.channel_layout)

    def audio_target(
        self, data: ConversationData, profile: Any, recording: dict[str, Any], output: Any
    ) -> tuple[Path, dict[str, str]]:
        return output_plan.audio_target(self._deps, self.snapshot, data, profile, recording, output)

    def render_transcripts(
        self,
        data: ConversationData,
        profile: Any,
        documents: list[Any],
        outputs: list[Any],
        recordings: dict[str, dict[str, Any]],
    ) -> list[tuple[str, Path, bytes, dict[str, str]]]:
        timelines: dict[str, list[tuple[Any, str]]] = {}
        for view in outputs:
            timelines.setdefault(view.recording_id, []).append((view, view.item))
        return output_plan.render_transcripts(
            self._deps, self.snapshot, data, profile, documents, timelines, recordings
        )
