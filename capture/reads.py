"""The reads the service makes for one conversation, made once more while `Recorder` listens.

Each step names the service function it mirrors. The configuration and org lookups reuse the
service's own `export.config_loader`; the conversation steps call the same engines the export steps
call (`genesys.recordings.fetch_recordings`, `genesys.transcripts.TranscriptFetcher`) with the same
arguments, because `export.steps` is being rewritten. After that rewrite, `read_conversation`
should call the export pipeline's fetch function instead (see docs/capture.md, "For developers").

Capture never waits for a call to finish: it reads what Genesys Cloud has now (transcripts and
transcoding are waited for up to the given bounds) and says in its notes what was missing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)


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
    client: Any, settings: Any, conversation_id: str, work_dir: Path, options: ReadOptions
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

    # export.steps.download_recordings -> genesys.recordings.fetch_recordings (always WAV here: the
    # capture learns each recording's channels and length from it, and keeps it with --with-media)
    read_recordings(client, conversation_id, details, metadata, work_dir, options, outcome)

    # export.steps.transcript_fetcher / transcript_step -> genesys.transcripts.TranscriptFetcher
    read_transcripts(client, conversation_id, details, conversation, options, notes)

    # lookups the call touches: wrap-up codes (names for templates), queues outside the listing
    # (another division), retention policies covering its queues
    listed = set(snapshot.queue_names) if snapshot is not None else None
    read_lookups(client, details, conversation, notes, listed_queue_ids=listed)
    return outcome


def read_configuration(client: Any, settings: Any, notes: list[str]) -> Any:
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
    client: Any,
    conversation_id: str,
    details: dict[str, Any],
    metadata: list[dict[str, Any]],
    work_dir: Path,
    options: ReadOptions,
    outcome: ReadOutcome,
) -> None:
    from genesys.errors import GenesysError
    from genesys.recordings import fetch_recordings, recording_expected

    try:
        fetched = fetch_recordings(
            client,
            conversation_id,
            work_dir / "media",
            format_id="WAV",
            deadline_s=options.recording_wait_s,
            expect_recordings=recording_expected(details),
            no_recording_grace_s=0.0,
            metadata=list(metadata),
            max_wait_ms=5000,
        )
    except GenesysError as exc:
        outcome.notes.append(f"recordings could not be read: {exc}")
        return
    outcome.media_files = [got.path for _, got in fetched.files]
    for item in fetched.unavailable:
        outcome.notes.append(f"recording {item.recording_id} is {item.file_state}: {item.reason}")
    if fetched.note:
        outcome.notes.append(f"recordings: {fetched.note}")


def read_transcripts(
    client: Any,
    conversation_id: str,
    details: dict[str, Any],
    conversation: dict[str, Any],
    options: ReadOptions,
    notes: list[str],
) -> None:
    from genesys.transcripts import NotAvailable, TranscriptFetcher, TranscriptsReady, communication_ids

    ids = communication_ids(conversation) or communication_ids(details)
    fetcher = TranscriptFetcher(
        client,
        conversation_id,
        ids,
        deadline_s=options.transcript_wait_s,
        first_delay_s=min(5.0, max(options.transcript_wait_s / 4, 0.5)),
    )
    result = fetcher.wait()
    if isinstance(result, TranscriptsReady):
        if result.missing:
            logger.info(
                "conversation %s: no transcript for the other communication(s) %s (usual: STA transcribes "
                "the customer's)",
                conversation_id,
                ", ".join(result.missing),
            )
    elif isinstance(result, NotAvailable):
        notes.append(f"no transcript: {result.reason}")
    else:
        notes.append(f"transcripts could not be read: {result.reason}")


def read_lookups(
    client: Any,
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
        _try(notes, f"wrap-up code {code}", lambda code=code: client.get_wrapup_code(code))
    touched = touched_queue_ids(details, conversation)
    listed = listed_queue_ids
    if listed is None:
        listed = {str(q.get("id")) for q in _try(notes, "queues", client.find_queues) or []}
    for queue_id in sorted(touched - listed):
        _try(notes, f"queue {queue_id}", lambda queue_id=queue_id: client.get_queue(queue_id))
    policies = _try(notes, "retention policies", client.list_retention_policies) or []
    if touched and not any(policy_queue_ids(p) & touched for p in policies):
        logger.debug("no retention policy names the queues %s", sorted(touched))


def _try(notes: list[str], what: str, fn: Any) -> Any:
    from genesys.errors import GenesysError

    try:
        return fn()
    except GenesysError as exc:
        notes.append(f"{what} could not be read: {exc}")
        return None
