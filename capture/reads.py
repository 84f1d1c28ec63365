"""The reads the service makes for one conversation, made once more while `Recorder` listens.

Each step names the service function it mirrors or calls. The configuration and org lookups are the
service's own `export.config_loader`; recordings and transcripts go through the export steps'
`advance_recordings` / `advance_transcripts` (the same requests, waits and downloads). The
conversation context mirrors `export.steps.fetch_conversation` with the engine calls it makes,
because that function refuses a call still in progress (capture takes it, with a note) and caches
agents' user documents across conversations (capture must read them).

Capture never waits for a call to finish: it reads what Genesys Cloud has now (transcripts and
transcoding are waited for up to the given bounds) and says in its notes what was missing.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from export.config_loader import ConfigLocation
    from export.steps import ConversationData
    from genesys.rest import GenesysClient
    from messages.config import ConfigSnapshot

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


class CaptureFailed(RuntimeError):
    """The conversation cannot be captured (not found, no permission, Genesys unavailable)."""


@dataclass(frozen=True)
class ReadOptions:
    recording_wait_s: float = 600.0
    transcript_wait_s: float = 0.0


@dataclass
class ReadOutcome:
    notes: list[str] = field(default_factory=list)
    media_files: list[Path] = field(default_factory=list)


def read_conversation(
    client: GenesysClient,
    settings: ConfigLocation,
    conversation_id: str,
    work_dir: Path,
    options: ReadOptions,
) -> ReadOutcome:
    """Everything the service reads to export ``conversation_id`` (the client's observers see it)."""
    from genesys.errors import Forbidden, GenesysError, NotFound

    outcome = ReadOutcome()
    notes = outcome.notes
    snapshot = read_configuration(client, settings, notes)

    # export.steps.fetch_conversation: details, the REST conversation, recording metadata, agents
    try:
        details = client.get_conversation_details(conversation_id)
    except NotFound as exc:
        raise CaptureFailed(
            f"analytics has no details for conversation {conversation_id} (a wrong id, another org, "
            f"or a call that ended seconds ago): {exc}"
        ) from exc
    except GenesysError as exc:
        raise CaptureFailed(f"cannot read the analytics details of {conversation_id}: {exc}") from exc
    if not details.get("conversationEnd"):
        notes.append(
            "the analytics details have no conversationEnd: the call was still in progress (or the "
            "details lag); the service waits for it"
        )
    try:
        conversation = client.get_conversation(conversation_id)
    except GenesysError as exc:
        raise CaptureFailed(f"cannot read conversation {conversation_id}: {exc}") from exc
    metadata: list[dict[str, Any]] = []
    try:
        metadata = client.get_recording_metadata(conversation_id)
    except (Forbidden, NotFound) as exc:
        notes.append(f"recording metadata not readable: {exc}")
    user_ids = sorted({str(p["userId"]) for p in details.get("participants") or [] if p.get("userId")})
    if user_ids:
        _try(notes, "users", lambda: client.get_users(user_ids))

    from export.steps import ConversationData

    data = ConversationData(conversation_id, details, conversation, tuple(metadata))
    # export.steps.advance_recordings, always in WAV here: the capture learns each recording's
    # channels and length from it, and keeps it with --with-media
    read_recordings(client, data, work_dir, options, outcome)
    # export.steps.advance_transcripts
    read_transcripts(client, data, options, notes)

    # lookups the call touches: wrap-up codes (names for templates), queues outside the listing
    # (another division), retention policies covering its queues
    listed = set(snapshot.queue_names) if snapshot is not None else None
    read_lookups(client, details, conversation, notes, listed_queue_ids=listed)
    return outcome


def read_configuration(
    client: GenesysClient, settings: ConfigLocation, notes: list[str]
) -> ConfigSnapshot | None:
    """export.config_loader.load_snapshot: the configuration row, the queue listing, policies.
    Returns the snapshot, or None (with a note) when the configuration cannot be used."""
    from export.config_loader import ConfigLoadError, build_snapshot, read_document

    try:
        document = read_document(client, settings)
    except Exception as exc:  # ConfigLoadError or a Genesys error: the capture goes on without it
        notes.append(f"the configuration document could not be read: {exc}")
        return None
    try:
        return build_snapshot(client, settings, document, 0)
    except ConfigLoadError as exc:
        notes.append(f"the configuration document is not usable as it is: {exc}")
    except Exception as exc:
        notes.append(f"the org lookups of the configuration failed: {exc}")
    return None


def read_recordings(
    client: GenesysClient, data: ConversationData, work_dir: Path, options: ReadOptions, outcome: ReadOutcome
) -> None:
    from export.steps import RecordingsFailed, advance_recordings
    from genesys.errors import GenesysError

    deadline = time.monotonic() + options.recording_wait_s
    state: dict[str, Any] = {}
    while True:
        try:
            progress = advance_recordings(
                client, data, "WAV", state, work_dir / "media", no_recording_grace_s=0.0
            )
        except (RecordingsFailed, GenesysError) as exc:
            outcome.notes.append(f"recordings could not be read: {exc}")
            return
        if progress.waiting_s is None:
            break
        if time.monotonic() + progress.waiting_s > deadline:
            outcome.notes.append(
                f"recordings not ready within {options.recording_wait_s:.0f} s: {progress.reason}"
            )
            return
        state = progress.state
        time.sleep(progress.waiting_s)
    outcome.media_files = [path for _, path in progress.files]
    for recording_id, reason in progress.unavailable:
        outcome.notes.append(f"recording {recording_id}: {reason}")
    if progress.note:
        outcome.notes.append(f"recordings: {progress.note}")


def read_transcripts(
    client: GenesysClient, data: ConversationData, options: ReadOptions, notes: list[str]
) -> None:
    from export.steps import advance_transcripts

    deadline = time.monotonic() + options.transcript_wait_s
    state: dict[str, Any] = {}
    while True:
        progress = advance_transcripts(client, data, state, deadline_s=options.transcript_wait_s)
        if progress.settled or time.monotonic() + (progress.waiting_s or 0.0) > deadline:
            break
        state = progress.state
        time.sleep(progress.waiting_s or 0.0)
    if progress.error:
        notes.append(f"transcripts: {progress.error}")
    elif not progress.documents:
        notes.append(f"no transcript: {progress.reason}")


def read_lookups(
    client: GenesysClient,
    details: dict[str, Any],
    conversation: dict[str, Any],
    notes: list[str],
    *,
    listed_queue_ids: set[str] | None = None,
) -> None:
    from capture.recorder import policy_queue_ids, touched_queue_ids, wrapup_code_ids

    for code in wrapup_code_ids(details, conversation):
        if code.upper().startswith("ININ-"):
            continue  # system codes (ININ-WRAP-UP-TIMEOUT, ...) have no document
        _try(notes, f"wrap-up code {code}", functools.partial(client.get_wrapup_code, code))
    touched = touched_queue_ids(details, conversation)
    listed = listed_queue_ids
    if listed is None:
        listed = {str(q.get("id")) for q in _try(notes, "queues", client.find_queues) or []}
    for queue_id in sorted(touched - listed):
        _try(notes, f"queue {queue_id}", functools.partial(client.get_queue, queue_id))
    policies = _try(notes, "retention policies", client.list_retention_policies) or []
    if touched and not any(policy_queue_ids(p) & touched for p in policies):
        logger.debug("no retention policy names the queues %s", sorted(touched))


def _try(notes: list[str], what: str, fn: Callable[[], _T]) -> _T | None:
    from genesys.errors import GenesysError

    try:
        return fn()
    except GenesysError as exc:
        notes.append(f"{what} could not be read: {exc}")
        return None
