"""The steps of exporting one conversation, as plain functions (no actors, no threads).

The ExportActor sequences them; the blocking ones run in its helper threads, the CPU-heavy audio
work in the DSP process pool. Each function names the conversation in its errors.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Formats Genesys Cloud can transcode to; anything else (M4B) is encoded by us from WAV.
GENESYS_FORMATS = frozenset({"WAV", "WAV_ULAW", "WEBM", "OGG_VORBIS", "OGG_OPUS", "MP3"})


@dataclass(frozen=True)
class ConversationData:
    """Everything fetched once per conversation and shared by all its profiles."""

    conversation_id: str
    details: dict[str, Any]
    conversation: dict[str, Any]
    recordings: tuple[dict[str, Any], ...]
    user_names: dict[str, dict[str, Any]] = field(default_factory=dict)


MAX_WAIT_MS = 5000
"""`maxWaitMs` for the recordings list: Genesys answers as soon as transcoding is done, up to 5 s."""


class _UserCache:
    """Agents' user documents, cached for a few minutes: the same agents take call after call, and
    every request counts against the org's API budget (300 per minute by default)."""

    ttl_s = 600.0

    def __init__(self) -> None:
        self._users: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get_many(self, client: Any, user_ids: list[str]) -> dict[str, dict[str, Any]]:
        now = time.monotonic()
        with self._lock:
            found = {
                u: doc for u, (at, doc) in self._users.items() if u in user_ids and now - at < self.ttl_s
            }
        missing = [u for u in user_ids if u not in found]
        if missing:
            fetched = {u["id"]: u for u in client.get_users(missing)}
            with self._lock:
                self._users.update({uid: (now, doc) for uid, doc in fetched.items()})
            found.update(fetched)
        return found


_USERS = _UserCache()


class NotReady(RuntimeError):
    """Something Genesys Cloud has not produced yet (details, a recording, a transcript)."""

    def __init__(self, message: str, retry_after_s: float = 2.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def fetch_conversation(client: Any, conversation_id: str) -> ConversationData:
    """Details, the REST conversation (participant attributes), recording metadata and agent names."""
    from genesys.errors import NotFound

    try:
        details = client.get_conversation_details(conversation_id)
    except NotFound as exc:
        raise NotReady(f"conversation {conversation_id}: analytics details not available yet", 2.0) from exc
    if not details.get("conversationEnd"):
        raise NotReady(
            f"conversation {conversation_id}: analytics details show the call still in progress", 2.0
        )
    conversation = client.get_conversation(conversation_id)
    recordings = tuple(client.get_recording_metadata(conversation_id))
    user_ids = sorted({p["userId"] for p in details.get("participants", []) if p.get("userId")})
    users = _USERS.get_many(client, user_ids)
    return ConversationData(conversation_id, details, conversation, recordings, users)


def audio_recordings(data: ConversationData) -> list[dict[str, Any]]:
    """The call-audio recordings worth exporting (screen recordings and deleted media are not)."""
    return [
        r for r in data.recordings if r.get("media", "audio") == "audio" and r.get("fileState") != "DELETED"
    ]


def source_format(profile: Any) -> tuple[str, bool]:
    """(formatId to download, passthrough): passthrough means the downloaded file is written as is."""
    needs_processing = bool(
        profile.trim_silence
        or profile.reduce_noise
        or profile.normalize_loudness
        or profile.participant_purposes_to_export
        or profile.call_segments_to_export
        or profile.concatenate_participant_segments
        or profile.export_chapters_for_participant_segments
    )
    if not needs_processing and profile.audio_format in GENESYS_FORMATS:
        return profile.audio_format, True
    return "WAV", False


def expects_recordings(data: ConversationData) -> bool | None:
    """Whether analytics says audio was recorded (sessions with `recording: true`); None if unknown."""
    flags = [
        session.get("recording")
        for participant in data.details.get("participants", [])
        for session in participant.get("sessions", [])
        if session.get("mediaType", "voice") == "voice"
    ]
    if any(flag is True for flag in flags):
        return True
    if flags and all(flag is False or flag is None for flag in flags) and not data.recordings:
        return False
    return None


def download_recordings(
    client: Any, data: ConversationData, format_id: str, dest_dir: Path, deadline_s: float
) -> Any:
    """Wait out uploading and transcoding (202) and download every audio recording in `format_id`.
    Returns `genesys.recordings.FetchedRecordings` (files plus recordings that cannot be had)."""
    from genesys.recordings import fetch_recordings

    dest_dir.mkdir(parents=True, exist_ok=True)
    return fetch_recordings(
        client,
        data.conversation_id,
        dest_dir,
        format_id=format_id,
        deadline_s=deadline_s,
        expect_recordings=expects_recordings(data),
        metadata=list(data.recordings),
        max_wait_ms=MAX_WAIT_MS,
    )


@dataclass(frozen=True)
class TranscriptOutcome:
    """One transcript fetch step: documents, or a wait, or why there is none."""

    documents: tuple[Any, ...] = ()
    waiting_s: float | None = None
    reason: str = ""
    error: str | None = None


def transcript_fetcher(client: Any, data: ConversationData, deadline_s: float) -> Any:
    from genesys.transcripts import TranscriptFetcher, communication_ids

    ids = communication_ids(data.conversation) or communication_ids(data.details)
    return TranscriptFetcher(client, data.conversation_id, ids, deadline_s=deadline_s)


def transcript_step(fetcher: Any, conversation_id: str) -> TranscriptOutcome:
    """Run one step of the fetcher and parse what it brought (a bad document fails only itself)."""
    from genesys.transcripts import Failed, NotAvailable, TranscriptsReady, Waiting
    from transcripts.errors import TranscriptError
    from transcripts.parse import load_transcript

    result = fetcher.step()
    if isinstance(result, Waiting):
        return TranscriptOutcome(waiting_s=result.delay_s, reason=result.reason)
    if isinstance(result, NotAvailable):
        return TranscriptOutcome(reason=result.reason)
    if isinstance(result, Failed):
        return TranscriptOutcome(error=result.reason)
    assert isinstance(result, TranscriptsReady)
    documents, errors = [], []
    for communication_id, raw in result.documents.items():
        try:
            document = load_transcript(raw, conversation_id=conversation_id)
        except TranscriptError as exc:
            errors.append(f"communication {communication_id}: {exc}")
            continue
        documents.append(document)
    return TranscriptOutcome(documents=tuple(documents), error="; ".join(errors) or None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def untranscribed_queues(data: ConversationData, snapshot: Any) -> str | None:
    """Names of the conversation's queues when none of them has voice transcription enabled (then no
    transcript will ever come); None when one has, or when it is not known."""
    from profiles.scoping import touched_queue_ids

    transcribed = getattr(snapshot, "transcribed_queue_ids", None)
    queue_ids = touched_queue_ids(data.details)
    if transcribed is None or not queue_ids or queue_ids & transcribed:
        return None
    return ", ".join(sorted(snapshot.queue_names.get(q, q) for q in queue_ids))
