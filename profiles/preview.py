"""The live preview: every file a profile would write for a sample conversation.

Consumes the same Genesys Cloud documents as the service (analytics details, the recordings array,
optionally the REST conversation) and the same code paths: ``storage.context.build_context``,
``storage.paths`` and ``audio.segments.plan_segments`` for individual segment files. Nothing is
written and no sequence number is consumed (a preview counter starting at 1 stands in).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from profiles.model import Profile
from storage.context import build_context
from storage.formats import extension_for
from storage.paths import display_path, segment_file_suffix
from storage.timezones import parse_timestamp

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedFile:
    kind: str  # "audio" | "transcript"
    path: str  # as the administrator sees it (Windows roots with backslashes)
    source: str  # what it is made from: recording / segment / communication


class PreviewSequence:
    """Stands in for the persisted sequence: 1, 2, 3, ... per preview, nothing stored."""

    def __init__(self) -> None:
        self.value = 0

    def next_value(self) -> int:
        self.value += 1
        return self.value


def audio_recordings(
    recordings: list[dict[str, Any]] | None, details: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The audio recordings to preview; without a recordings document, one stand-in spanning the call."""
    if recordings is not None:
        return [r for r in recordings if str(r.get("media", "audio")).lower() == "audio"]
    return [
        {
            "conversationId": details.get("conversationId"),
            "startTime": details.get("conversationStart"),
            "endTime": details.get("conversationEnd") or details.get("conversationStart"),
            "media": "audio",
            "annotations": [],
        }
    ]


def customer_communications(details: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The customer's voice sessions: one STA transcript each."""
    sessions = []
    for participant in details.get("participants") or []:
        if str(participant.get("purpose", "")).lower() not in ("customer", "external"):
            continue
        for session in participant.get("sessions") or []:
            if session.get("sessionId") and str(session.get("mediaType", "voice")).lower() == "voice":
                sessions.append(session)
    return sessions


def _session_start_ms(session: Mapping[str, Any]) -> int | None:
    starts = [
        parse_timestamp(s.get("segmentStart")) for s in session.get("segments") or [] if s.get("segmentStart")
    ]
    times = [t for t in starts if isinstance(t, datetime)]
    return int(min(times).timestamp() * 1000) if times else None


def preview_files(
    profile: Profile,
    details: Mapping[str, Any],
    recordings: list[dict[str, Any]] | None = None,
    *,
    conversation: Mapping[str, Any] | None = None,
    queue_names: Mapping[str, str] | None = None,
    user_names: Mapping[str, Mapping[str, Any]] | None = None,
    flow_names: Mapping[str, str] | None = None,
    now: datetime | None = None,
    machine_name: str | None = None,
) -> list[PlannedFile]:
    """Every file ``profile`` would write for the conversation, in the order the service writes them."""
    sequence = PreviewSequence()
    common: dict[str, Any] = dict(
        details=details,
        profile=profile,
        conversation=conversation,
        queue_names=queue_names,
        user_names=user_names,
        flow_names=flow_names,
        sequence=sequence,
        now=now,
        machine_name=machine_name,
    )
    files: list[PlannedFile] = []
    audio = audio_recordings(recordings, details)
    if profile.audio_export_enabled:
        ext = extension_for("audio", profile.audio_format)
        for rec in audio:
            label = f"recording {rec.get('id') or '(none given)'}"
            real_recording = rec if rec.get("id") else None
            context = build_context(
                recording=real_recording, file_extension=ext, format_name=profile.audio_format, **common
            )
            if not profile.writes_segment_files:
                files.append(PlannedFile("audio", display_path(profile, context, kind="audio"), label))
                continue
            from audio.segments import plan_segments  # the audio engine's own plan

            plan = plan_segments(
                dict(details),
                rec,
                purposes=profile.participant_purposes_to_export,
                segment_types=profile.call_segments_to_export,
            )
            for segment in plan.segments:
                path = display_path(
                    profile, context, kind="audio", file_name_suffix=segment_file_suffix(segment)
                )
                files.append(
                    PlannedFile("audio", path, f"{label}, segment {segment.ordinal}: {segment.title}")
                )
    if profile.transcript_export_enabled:
        ext = extension_for("transcript", profile.transcript_format)
        for session in customer_communications(details):
            communication = str(session["sessionId"])
            recording: dict[str, Any] | None = next(
                (r for r in audio if r.get("id") and r.get("sessionId") == communication), None
            )
            start_ms = None
            if recording and recording.get("startTime"):
                moment = parse_timestamp(recording["startTime"])
                start_ms = int(moment.timestamp() * 1000) if moment else None
            stand_in = {"communicationId": communication, "startTime": start_ms or _session_start_ms(session)}
            context = build_context(
                recording=recording,
                transcript=stand_in,
                file_extension=ext,
                format_name=profile.transcript_format,
                **common,
            )
            path = display_path(profile, context, kind="transcript")
            files.append(PlannedFile("transcript", path, f"communication {communication}"))
    return files
