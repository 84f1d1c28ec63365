"""The steps of exporting one conversation, as plain functions (no actors, no threads).

The ExportActor sequences them; the blocking ones run in its helper threads, the CPU-heavy audio
work in the DSP process pool. Each function names the conversation in its errors.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reliability.backoff import POLL, SOON

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
BACKFILL_MAX_WAIT_MS = 20_000
"""Backfilled calls wait longer server-side (a past call's recording is transcoded on request; a
3-minute call may take longer than 5 s): a helper thread waits instead of a 202 costing two more
requests. Not documented as allowed; a 400 falls back to `MAX_WAIT_MS` (docs/genesys.md)."""


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


def fetch_conversation(
    client: Any,
    conversation_id: str,
    event: dict[str, Any] | None = None,
    *,
    with_users: bool = True,
    require_end: bool = True,
    use_cache: bool = True,
) -> ConversationData:
    """Analytics details, the conversation and agents' user documents, reading as little as possible
    (every request counts against the org's budget):

    * the conversation comes from `event`, the notification snapshot that finished the call, when it
      carries the participants (their communications and attributes); otherwise it is read;
    * recording metadata is not read here: the recordings step asks for it (or, in one request, for
      the recordings themselves), and the export learns the recordings from there;
    * agents' user documents only when a profile needs them (`with_users`), from a short-lived cache.
    """
    from genesys.errors import NotFound

    try:
        details = client.get_conversation_details(conversation_id)
    except NotFound as exc:
        raise NotReady(f"conversation {conversation_id}: analytics details not available yet", 2.0) from exc
    if require_end and not details.get("conversationEnd"):
        raise NotReady(
            f"conversation {conversation_id}: analytics details show the call still in progress", 2.0
        )
    conversation = conversation_from_event(event) or client.get_conversation(conversation_id)
    users: dict[str, dict[str, Any]] = {}
    if with_users:
        user_ids = sorted({p["userId"] for p in details.get("participants", []) if p.get("userId")})
        users = (
            _USERS.get_many(client, user_ids)
            if use_cache
            else {u["id"]: u for u in client.get_users(user_ids)}
        )
    return ConversationData(conversation_id, details, conversation, (), users)


def conversation_from_event(event: dict[str, Any] | None) -> dict[str, Any] | None:
    """The conversation as the queue notification carried it (`...conversations` topic: participants
    with their `calls` and `attributes`), or None when the snapshot cannot stand in for it."""
    if not isinstance(event, dict):
        return None
    inner = event.get("eventBody")
    body: dict[str, Any] = inner if isinstance(inner, dict) else event
    participants = body.get("participants")
    if not isinstance(participants, list) or not participants:
        return None
    if not all(isinstance(p, dict) and p.get("purpose") for p in participants):
        return None
    if not any(p.get("calls") for p in participants):
        return None  # the flat `.calls` shape: no communication ids
    return body


def audio_recordings(data: ConversationData) -> list[dict[str, Any]]:
    """The call-audio recordings worth exporting (screen recordings and deleted media are not)."""
    return [
        r for r in data.recordings if r.get("media", "audio") == "audio" and r.get("fileState") != "DELETED"
    ]


def needs_processing(profile: Any) -> bool:
    """Whether the profile's audio is more than the whole call as recorded (DSP, participant or
    segment extraction, chapters): that is made of the recording's times and annotations."""
    return bool(
        profile.trim_silence
        or profile.reduce_noise
        or profile.normalize_loudness
        or profile.participant_purposes_to_export
        or profile.call_segments_to_export
        or profile.concatenate_participant_segments
        or profile.export_chapters_for_participant_segments
    )


def source_format(profile: Any) -> tuple[str, bool]:
    """(formatId to download, passthrough): passthrough means the downloaded file is written as is."""
    if not needs_processing(profile) and profile.audio_format in GENESYS_FORMATS:
        return profile.audio_format, True
    return "WAV", False


def screen_recorded(conversation: dict[str, Any]) -> bool:
    """Whether a participant's screen was recorded (`screenRecordingState` on the conversation or its
    notification): then the recordings list may wait on a screen recording, so the audio is asked for
    recording by recording instead."""
    return any(
        isinstance(p, dict) and p.get("screenRecordingState") for p in conversation.get("participants") or []
    )


@dataclass(frozen=True)
class RecordingsProgress:
    """One step of getting a conversation's recordings: downloaded `files` (recording, path), or a
    wait (`waiting_s`) with its reason; `state` is what the next step needs (JSON-able)."""

    files: tuple[tuple[dict[str, Any], Path], ...] = ()
    unavailable: tuple[tuple[str, str], ...] = ()  # (recording id, reason)
    note: str = ""
    waiting_s: float | None = None
    reason: str = ""
    state: dict[str, Any] = field(default_factory=dict)


class RecordingsFailed(RuntimeError):
    """The recordings cannot be had (permission, a request Genesys rejects): `permanent` when waiting
    will not change it."""

    def __init__(self, message: str, permanent: bool = True) -> None:
        super().__init__(message)
        self.permanent = permanent


def advance_recordings(
    client: Any,
    data: ConversationData,
    format_id: str,
    state: dict[str, Any],
    dest_dir: Path,
    *,
    no_recording_grace_s: float,
    now: float | None = None,
    max_wait_ms: int = MAX_WAIT_MS,
) -> RecordingsProgress:
    """One step: ask Genesys Cloud for the audio recordings in `format_id`; when they are ready,
    download them all into `dest_dir`. A 202 (transcoding) or metadata not there yet is a wait. The
    fetcher's state (its wall-clock waits) travels in `state`, so a wait survives parking."""
    from export.batch_sources import batch_files, from_batch
    from genesys.errors import GenesysError
    from genesys.media import MediaCorrupt, MediaUrlExpired, download
    from genesys.recordings import EXTENSIONS, Failed, RecordingFetcher, Waiting, media_uri

    batched = None if state else batch_files(data.recordings)
    if batched is not None:
        return RecordingsProgress(files=batched, note="from a batch download")
    now = time.time() if now is None else now
    clock = lambda: now  # noqa: E731 - the step happens "now" for every clock reading
    metadata = [r for r in data.recordings if not from_batch(r)]  # a batch result is no metadata
    if state:
        fetcher = RecordingFetcher.restore(
            client, state, clock=clock, max_wait_ms=state.get("max_wait_ms") or max_wait_ms, poll=SOON
        )
    else:
        fetcher = RecordingFetcher(
            client,
            data.conversation_id,
            format_id,
            details=data.details,
            no_recording_grace_s=no_recording_grace_s,
            deadline_s=None,
            max_wait_ms=max_wait_ms,
            poll=SOON,
            clock=clock,
            # one request for metadata and media when no screen was recorded (the list would wait on it)
            list_first=not metadata and not screen_recorded(data.conversation),
        )
        if metadata:
            fetcher.prefill_metadata(metadata)  # all media: screen recordings are recognised
    result = fetcher.step()
    if isinstance(result, Failed) and fetcher.max_wait_ms > MAX_WAIT_MS and "HTTP 400" in result.reason:
        # a longer server-side wait refused: ask again with the documented default
        logger.warning(
            "conversation %s: maxWaitMs=%d refused (%s); using %d",
            data.conversation_id,
            fetcher.max_wait_ms,
            result.reason,
            MAX_WAIT_MS,
        )
        fetcher.max_wait_ms = MAX_WAIT_MS
        return RecordingsProgress(waiting_s=0.5, reason="maxWaitMs refused", state=fetcher.state())
    if isinstance(result, Waiting):
        return RecordingsProgress(waiting_s=result.delay_s, reason=result.reason, state=fetcher.state())
    if isinstance(result, Failed):
        raise RecordingsFailed(f"conversation {data.conversation_id}: {result.reason}", result.permanent)
    dest_dir.mkdir(parents=True, exist_ok=True)
    ext = EXTENSIONS.get(format_id.upper(), format_id.lower())
    files: list[tuple[dict[str, Any], Path]] = []
    for rec in result.recordings:
        url = media_uri(rec)
        if url is None:
            return RecordingsProgress(
                waiting_s=1.0, reason=f"recording {rec.get('id')} has no media URL yet", state=fetcher.state()
            )
        try:
            got = download(url, dest_dir / f"{rec['id']}.{ext}", timeout_s=client.config.timeout_s)
        except (MediaUrlExpired, MediaCorrupt) as exc:
            # the URL expired or the transfer broke: the next step asks for a fresh URL
            fetcher.media_expired(str(rec.get("id")))
            return RecordingsProgress(
                waiting_s=0.5, reason=f"media download of {rec.get('id')}: {exc}", state=fetcher.state()
            )
        except GenesysError:
            raise
        files.append((rec, Path(got.path)))
    unavailable = tuple((u.recording_id, u.reason) for u in result.unavailable)
    return RecordingsProgress(
        files=tuple(files), unavailable=unavailable, note=result.note, state=fetcher.state()
    )


def prepare_sources(
    files: tuple[tuple[dict[str, Any], Path], ...], work_dir: Path
) -> tuple[tuple[str, Path, dict[str, Any], bool], ...]:
    """Runs in the DSP pool: probe each downloaded recording and merge mono pairs (one recording per
    side of the call) into stereo. Returns (item, source path, recording, merged) per export source."""
    from export import output_plan

    by_id = {str(rec["id"]): (rec, Path(path)) for rec, path in files}
    channels = {rid: output_plan.probe_channels(path) for rid, (_, path) in by_id.items()}
    sources: list[tuple[str, Path, dict[str, Any], bool]] = []
    for group in output_plan.recording_groups([rec for rec, _ in by_id.values()], channels):
        if len(group) > 1:
            merged = output_plan.merge_mono_pair(
                [(by_id[str(r["id"])][1], by_id[str(r["id"])][0]) for r in group], work_dir
            )
            assert merged is not None
            path, recording = merged
            sources.append((f"audio:{recording['id']}", path, recording, True))
        else:
            recording, path = by_id[str(group[0]["id"])]
            sources.append((f"audio:{recording['id']}", path, recording, False))
    return tuple(sources)


@dataclass(frozen=True)
class TranscriptProgress:
    """One step of getting the transcripts: parsed `documents`, or a wait (`waiting_s`), or why
    there is none (`reason`, with `error` when it is a failure); `state` for the next step."""

    documents: tuple[Any, ...] = ()
    waiting_s: float | None = None
    reason: str = ""
    error: str | None = None
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def settled(self) -> bool:
        return self.waiting_s is None


def advance_transcripts(
    client: Any,
    data: ConversationData,
    state: dict[str, Any],
    *,
    deadline_s: float,
    poll_max_s: float = 300.0,
    now: float | None = None,
) -> TranscriptProgress:
    """One step of asking Speech & Text Analytics for the conversation's transcripts (every part of
    every communication that can have one); documents are parsed with the tolerant parser (a bad
    document fails only itself). The fetcher's state, request budget included, travels in `state`."""
    import dataclasses

    from genesys.transcripts import (
        Failed,
        NotAvailable,
        TranscriptFetcher,
        TranscriptsReady,
        Waiting,
        transcript_communication_ids,
    )
    from transcripts.errors import TranscriptError
    from transcripts.parse import load_transcript

    now = time.time() if now is None else now
    backoff = dataclasses.replace(POLL, max_s=min(POLL.max_s, poll_max_s))
    clock = lambda: now  # noqa: E731
    if state:
        fetcher = TranscriptFetcher.restore(client, state, clock=clock, backoff=backoff)
    else:
        ids = transcript_communication_ids(data.conversation) or transcript_communication_ids(data.details)
        recorded = {str(r.get("sessionId")) for r in audio_recordings(data) if r.get("sessionId")}
        if recorded and set(ids) & recorded:
            # transcripts are made of recordings: a communication without one has none (one request
            # per recorded communication, not per participant)
            ids = [c for c in ids if c in recorded]
        fetcher = TranscriptFetcher(
            client, data.conversation_id, ids, deadline_s=deadline_s, backoff=backoff, clock=clock
        )
    result = fetcher.step()
    if isinstance(result, Waiting):
        return TranscriptProgress(waiting_s=result.delay_s, reason=result.reason, state=fetcher.state())
    if isinstance(result, NotAvailable):
        return TranscriptProgress(reason=result.reason, state=fetcher.state())
    if isinstance(result, Failed):
        return TranscriptProgress(reason=result.reason, error=result.reason, state=fetcher.state())
    assert isinstance(result, TranscriptsReady)
    documents, errors = [], []
    keys = list(result.documents)
    for key, part in zip(keys, result.parts, strict=True):
        try:
            document = load_transcript(part.raw, conversation_id=data.conversation_id)
        except TranscriptError as exc:
            errors.append(f"communication {key}: {exc}")
            continue
        document.part = key
        document.recording_id = part.recording_id
        if not document.communication_id:
            document.communication_id = part.communication_id
        documents.append(document)
    return TranscriptProgress(
        documents=tuple(documents), error="; ".join(errors) or None, state=fetcher.state()
    )


def with_priority(client: Any, priority: int, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run `fn` with this thread's requests counted at `priority` against the org's budget."""
    with client.priority(priority):
        return fn(*args, **kwargs)


def untranscribed_queues(data: ConversationData, snapshot: Any) -> str | None:
    """Names of the conversation's queues when none of them has voice transcription enabled (then no
    transcript will ever come); None when one has, or when it is not known."""
    from profiles.scoping import touched_queue_ids

    transcribed = getattr(snapshot, "transcribed_queue_ids", None)
    queue_ids = touched_queue_ids(data.details)
    if transcribed is None or not queue_ids or queue_ids & transcribed:
        return None
    return ", ".join(sorted(snapshot.queue_names.get(q, q) for q in queue_ids))
