"""The configuration as frozen dataclasses: ``Config`` holding ``Profile``s, plus load errors.

``Profile`` attributes are the document keys in snake_case (``AudioFormat`` → ``audio_format``); lists
become tuples. A test checks that the fields and ``profiles/schema.json`` name the same keys.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


def snake_case(key: str) -> str:
    """``DirectoryStructureMode`` → ``directory_structure_mode``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


@dataclass(frozen=True)
class Profile:
    name: str
    active: bool = True
    queues: tuple[str, ...] = ()
    retention_policies: tuple[str, ...] = ()
    require_agent_participant: bool = False
    destination_root: str = "exports"
    directory_structure_mode: str = "Hierarchical"
    interval: str = "1d"
    time_zone_offset: str = "+00:00"
    path_template: str = ""
    conflict_strategy: str = "AppendCounter"
    processing_delay_seconds: int = 10
    retry_count: int = 3
    audio_export_enabled: bool = True
    audio_format: str = "WAV"
    audio_file_template: str = (
        "{Recording.StartTime|Format(yyyyMMdd_HHmmss)}_{Agent.Name}_{Conversation.Id}.{FileExtension}"
    )
    audio_metadata_attributes: tuple[str, ...] = ()
    trim_silence: bool = False
    reduce_noise: bool = False
    normalize_loudness: bool = False
    participant_purposes_to_export: tuple[str, ...] = ()
    call_segments_to_export: tuple[str, ...] = ()
    concatenate_participant_segments: bool = False
    export_chapters_for_participant_segments: bool = False
    transcript_export_enabled: bool = False
    transcript_format: str = "VTT"
    transcription_file_template: str = (
        "{Conversation.Id}_{Transcript.StartTime|Format(yyyyMMdd_HHmmss)}.{FileExtension}"
    )
    transcript_metadata_attributes: tuple[str, ...] = ()

    @property
    def has_segment_filter(self) -> bool:
        return bool(self.participant_purposes_to_export or self.call_segments_to_export)

    @property
    def writes_segment_files(self) -> bool:
        """A purpose/segment filter without concatenation: one audio file per kept segment."""
        return self.has_segment_filter and not self.concatenate_participant_segments


@dataclass(frozen=True)
class ProfileError:
    """One precise problem of one profile (``profile_name`` None: the document itself)."""

    profile_name: str | None
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"profile {self.profile_name!r}" if self.profile_name is not None else "document"
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


@dataclass(frozen=True)
class Config:
    reload_interval_seconds: int = 300
    profiles: tuple[Profile, ...] = ()  # valid and active profiles only, in document order

    def profile(self, name: str) -> Profile | None:
        folded = name.casefold()
        return next((p for p in self.profiles if p.name.casefold() == folded), None)


@dataclass
class ConfigLoadResult:
    config: Config
    errors: list[ProfileError] = field(default_factory=list)
    inactive: tuple[str, ...] = ()  # names of the profiles skipped because Active is false

    def errors_for(self, profile_name: str | None) -> list[ProfileError]:
        return [e for e in self.errors if e.profile_name == profile_name]


class ConfigError(ValueError):
    """The document cannot be used at all (not JSON, not an object, Profiles not a list)."""
