"""What one conversation turns into for one profile: which files, where, with what metadata.

Plain functions between the ExportActor and the modules that do the work (profiles, storage,
audio, transcripts). Blocking ones (transcript fetch) run in the actor's helper threads.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

from export.steps import ConversationData

logger = logging.getLogger(__name__)

STATUS_PREFIX = "callexport"
"""Participant attribute keys written back start with this: `callexport.<profile>.<kind>.<field>`."""


def applicable_profiles(snapshot: Any, data: ConversationData) -> list[Any]:
    from profiles import scoping

    return scoping.snapshot_profiles(snapshot, data.details)


def status_key(profile_name: str, kind: str, field: str) -> str:
    return f"{STATUS_PREFIX}.{profile_name}.{kind}.{field}"


def already_exported(data: ConversationData, ledger: Any, profiles: list[Any]) -> set[tuple[str, str]]:
    """(profile, kind) pairs this conversation was already exported for: the local ledger, or the
    status written back to Genesys Cloud (participant attributes), which survives a lost state dir."""
    done: set[tuple[str, str]] = set()
    attributes: dict[str, str] = {}
    for participant in data.conversation.get("participants", []):
        attributes.update(participant.get("attributes") or {})
    for profile in profiles:
        for kind in ("audio", "transcript"):
            if ledger.profile_status(data.conversation_id, profile.name, kind) == "exported":
                done.add((profile.name, kind))
            elif attributes.get(status_key(profile.name, kind, "status")) == "exported":
                done.add((profile.name, kind))
    return done


def customer_participant_id(data: ConversationData) -> str | None:
    """The participant that persists across transfers: status is written to its attributes."""
    for source in (data.conversation.get("participants", []), data.details.get("participants", [])):
        for participant in source:
            if participant.get("purpose") in ("customer", "external"):
                return participant.get("id") or participant.get("participantId")
    return None


# -- recordings --------------------------------------------------------------------------------
def probe_channels(path: Path) -> int | None:
    """Channel count of a downloaded recording, or None when it cannot be probed cheaply."""
    import soundfile

    try:
        return int(soundfile.info(str(path)).channels)
    except (RuntimeError, OSError, ValueError):
        return None


def recording_groups(
    recordings: list[dict[str, Any]], channels: dict[str, int | None] | None = None
) -> list[list[dict[str, Any]]]:
    """Recordings exported together. A mono pair (one recording per side of the same call, as some
    trunk/station set-ups produce) is merged into one stereo file; everything else stands alone.

    A pair is a mono `Trunk` recording (customer side) and the mono `Station` recording (agent side)
    that overlaps it most in time. Genesys' metadata does not say how many channels a recording has,
    so `channels` (from probing the downloaded files) decides; the two carry different `sessionId`s
    (each its own participant's communication), so the session cannot pair them.
    """
    channels = channels or {}

    def mono(rec: dict[str, Any], subtype: str) -> bool:
        return rec.get("mediaSubtype") == subtype and channels.get(str(rec["id"])) == 1

    stations = [r for r in recordings if mono(r, "Station")]
    paired: set[str] = set()
    groups: list[list[dict[str, Any]]] = []
    for trunk in (r for r in recordings if mono(r, "Trunk")):
        best = max(
            (s for s in stations if str(s["id"]) not in paired),
            key=lambda s: _overlap_s(trunk, s),
            default=None,
        )
        if best is not None and _overlap_s(trunk, best) > 0:
            paired |= {str(trunk["id"]), str(best["id"])}
            groups.append([trunk, best])
    groups.extend([r] for r in recordings if str(r["id"]) not in paired)
    return groups


def _overlap_s(a: dict[str, Any], b: dict[str, Any]) -> float:
    try:
        start = max(_epoch_ms(a["startTime"]), _epoch_ms(b["startTime"]))
        end = min(_epoch_ms(a["endTime"]), _epoch_ms(b["endTime"]))
    except (KeyError, TypeError, ValueError):
        return 0.0
    return max(0.0, (end - start) / 1000)


def merge_mono_pair(parts: list[Any], work_dir: Path) -> tuple[Path, dict[str, Any]] | None:
    """Merge a downloaded (Trunk = customer, Station = agent) pair into one stereo source."""
    from audio.stereo import merge_mono

    (ext_path, ext_rec), (int_path, int_rec) = parts
    dest = work_dir / f"merged-{ext_rec['id']}.wav"
    if not dest.exists():
        merge_mono(
            ext_path,
            int_path,
            external_start_ms=_epoch_ms(ext_rec["startTime"]),
            internal_start_ms=_epoch_ms(int_rec["startTime"]),
            dest=dest,
        )
    merged = dict(ext_rec)
    merged["startTime"] = min(ext_rec["startTime"], int_rec["startTime"])
    merged["endTime"] = max(ext_rec.get("endTime") or "", int_rec.get("endTime") or "") or None
    return dest, merged


def _epoch_ms(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def expected_seconds(recording: dict[str, Any]) -> float:
    try:
        return max(0.0, (_epoch_ms(recording["endTime"]) - _epoch_ms(recording["startTime"])) / 1000)
    except (KeyError, TypeError, ValueError):
        return 0.0


def audio_options(profile: Any, channel_layout: str = "auto") -> Any:
    from audio.options import AudioOptions

    return AudioOptions(
        channel_layout=channel_layout,
        format=profile.audio_format,
        trim_silence=profile.trim_silence,
        reduce_noise=profile.reduce_noise,
        normalize_loudness=profile.normalize_loudness,
        purposes=tuple(profile.participant_purposes_to_export),
        segment_types=tuple(profile.call_segments_to_export),
        concatenate=profile.concatenate_participant_segments,
        chapters=profile.export_chapters_for_participant_segments,
    )


# -- naming ------------------------------------------------------------------------------------
def _context(
    deps: Any,
    snapshot: Any,
    data: ConversationData,
    profile: Any,
    *,
    recording=None,
    transcript=None,
    extension: str,
    format_name: str,
) -> Any:
    from storage.context import build_context

    return build_context(
        details=data.details,
        conversation=data.conversation,
        profile=profile,
        recording=recording,
        transcript=transcript,
        queue_names=snapshot.queue_names,
        user_names=data.user_names,
        file_extension=extension,
        format_name=format_name,
        sequence=deps.sequences.source(profile.name),
        machine_name=socket.gethostname(),
    )


def segment_suffix(output: Any) -> str:
    """File-name suffix of an individual segment file (participant, segment type, ordinal)."""
    from storage.paths import segment_file_suffix

    segment = getattr(output, "segment", None)
    return "" if segment is None else segment_file_suffix(segment)


def audio_target(
    deps: Any, snapshot: Any, data: ConversationData, profile: Any, recording: dict[str, Any], output: Any
) -> tuple[Path, dict[str, str]]:
    from storage.attributes import attribute_values
    from storage.formats import extension_for
    from storage.paths import target_path

    extension = extension_for("audio", profile.audio_format)
    context = _context(
        deps,
        snapshot,
        data,
        profile,
        recording=recording,
        extension=extension,
        format_name=profile.audio_format,
    )
    path = target_path(profile, context, kind="audio", file_name_suffix=segment_suffix(output))
    return path, attribute_values(context, profile.audio_metadata_attributes)


# -- transcripts -------------------------------------------------------------------------------
def render_transcripts(
    deps: Any,
    snapshot: Any,
    data: ConversationData,
    profile: Any,
    documents: list[Any],
    timelines: dict[str, list[tuple[Any, str]]],
    recordings: dict[str, dict[str, Any]],
) -> list[tuple[str, Path, bytes, dict[str, str]]]:
    """Render each transcript for `profile`: one file per transcript document, or one per exported
    audio file of its recording, mapped through that file's timeline so subtitles stay in sync.
    Without exported audio, times are relative to the transcript's start."""
    from storage.attributes import attribute_values
    from storage.formats import extension_for
    from storage.paths import target_path
    from transcripts.render import render
    from transcripts.speakers import SpeakerInfo

    extension = extension_for("transcript", profile.transcript_format)
    speakers = SpeakerInfo.from_details(data.details, data.conversation)
    results: list[tuple[str, Path, bytes, dict[str, str]]] = []
    for doc_index, document in enumerate(documents):
        communication = (
            getattr(document, "part", None) or getattr(document, "communication_id", None) or str(doc_index)
        )
        recording = _recording_for(data, document)
        if recording is not None:
            recording = recordings.get(recording["id"], recording)
        rec_outputs = timelines.get(recording["id"], []) if recording else []
        targets: list[tuple[str, Any, Any]] = (
            [(f"transcript:{communication}:{item}", out.timeline, out) for out, item in rec_outputs]
            if rec_outputs
            else [(f"transcript:{communication}", None, None)]
        )
        for item, timeline, output in targets:
            shown = only_sides(document, getattr(output, "sides", ()))
            body = render(shown, profile.transcript_format, speakers=speakers, timeline=timeline)
            context = _context(
                deps,
                snapshot,
                data,
                profile,
                recording=recording,
                transcript=_transcript_json(document),
                extension=extension,
                format_name=profile.transcript_format,
            )
            path = target_path(profile, context, kind="transcript", file_name_suffix=segment_suffix(output))
            results.append(
                (item, path, body, attribute_values(context, profile.transcript_metadata_attributes))
            )
    return results


def only_sides(document: Any, sides: tuple[str, ...]) -> Any:
    """The transcript restricted to the call sides an audio file carries: next to an agent-only file,
    the customer's lines (whose audio is not in the file) are left out. Unknown sides keep everything."""
    import dataclasses

    wanted = {s for s in sides if s in ("internal", "external")}
    if not wanted or wanted == {"internal", "external"}:
        return document
    transcripts = [
        dataclasses.replace(t, phrases=tuple(p for p in t.phrases if p.purpose in wanted))
        for t in document.transcripts
    ]
    return dataclasses.replace(document, transcripts=transcripts)


def _transcript_json(document: Any) -> dict[str, Any]:
    raw = getattr(document, "raw", None)
    return raw if isinstance(raw, dict) else {}


def _recording_for(data: ConversationData, document: Any) -> dict[str, Any] | None:
    from export.steps import audio_recordings

    recordings = audio_recordings(data)
    wanted = getattr(document, "recording_id", None)
    for rec in recordings:
        if wanted and str(rec.get("id")) == wanted:
            return rec
    communication = getattr(document, "communication_id", None)
    for rec in recordings:
        if communication and rec.get("sessionId") == communication:
            return rec
    trunk = [r for r in recordings if r.get("mediaSubtype") == "Trunk"]
    candidates = trunk or recordings
    return candidates[0] if candidates else None
