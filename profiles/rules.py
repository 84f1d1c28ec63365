"""Semantic rules of one profile (the schema covers names, types and enums).

Each rule returns ``(field, reason)`` problems; the loader turns them into ``ProfileError``s. The
document-wide rule (unique names) is in ``profiles.loader``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from storage.intervals import IntervalError, parse_interval
from storage.templates import validate as validate_template
from storage.timezones import TimeZoneError, parse_time_zone

logger = logging.getLogger(__name__)

Problem = tuple[str, str]
CHAPTER_FORMATS = ("MP3", "M4B")


def _chapters(doc: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    if not doc["ExportChaptersForParticipantSegments"]:
        return problems
    if doc["TrimSilence"]:
        problems.append(
            (
                "TrimSilence",
                "silence trimming and ExportChaptersForParticipantSegments are mutually exclusive",
            )
        )
    for key in ("ParticipantPurposesToExport", "CallSegmentsToExport"):
        if doc[key]:
            problems.append(
                (key, "chapter export keeps the whole call: it cannot be combined with segment filtering")
            )
    if doc["AudioFormat"] not in CHAPTER_FORMATS:
        problems.append(("AudioFormat", f"chapter export needs MP3 or M4B, not {doc['AudioFormat']}"))
    return problems


def _concatenation(doc: dict[str, Any]) -> list[Problem]:
    if doc["ConcatenateParticipantSegments"] and not (
        doc["ParticipantPurposesToExport"] or doc["CallSegmentsToExport"]
    ):
        return [
            (
                "ConcatenateParticipantSegments",
                "concatenation needs at least one entry in ParticipantPurposesToExport or CallSegmentsToExport",
            )
        ]
    return []


def _path_template(doc: dict[str, Any]) -> list[Problem]:
    in_mode = doc["DirectoryStructureMode"] == "PathTemplate"
    present = bool(str(doc["PathTemplate"]).strip())
    if in_mode and not present:
        return [("PathTemplate", "required when DirectoryStructureMode is PathTemplate")]
    if present and not in_mode:
        return [
            (
                "PathTemplate",
                f"only used in PathTemplate mode; DirectoryStructureMode is {doc['DirectoryStructureMode']} "
                "(remove PathTemplate or switch the mode)",
            )
        ]
    return []


def _templates(doc: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    for key in ("AudioFileTemplate", "TranscriptionFileTemplate", "PathTemplate"):
        text = doc[key]
        if key == "PathTemplate" and not text:
            continue
        problems += [(key, problem) for problem in validate_template(text)]
    return problems


def _time(doc: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    try:
        parse_interval(doc["Interval"])
    except IntervalError as exc:
        problems.append(("Interval", str(exc)))
    try:
        parse_time_zone(doc["TimeZoneOffset"])
    except TimeZoneError as exc:
        problems.append(("TimeZoneOffset", str(exc)))
    return problems


def _scope_and_output(doc: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    if not doc["Queues"] and not doc["RetentionPolicies"]:
        problems.append(
            ("Queues", "no input scope: name at least one queue in Queues or a policy in RetentionPolicies")
        )
    if not doc["AudioExportEnabled"] and not doc["TranscriptExportEnabled"]:
        problems.append(
            (
                "AudioExportEnabled",
                "nothing to export: enable AudioExportEnabled and/or TranscriptExportEnabled",
            )
        )
    if not str(doc["DestinationRoot"]).strip():
        problems.append(("DestinationRoot", "must not be empty"))
    return problems


RULES: tuple[Callable[[dict[str, Any]], list[Problem]], ...] = (
    _scope_and_output,
    _chapters,
    _concatenation,
    _path_template,
    _time,
    _templates,
)


def check(doc: dict[str, Any]) -> list[Problem]:
    """All semantic problems of one profile document (defaults already applied)."""
    problems: list[Problem] = []
    for rule in RULES:
        problems += rule(doc)
    return problems
