"""Recordings from batch downloads as an export's sources: which exports can do without per-call
recording metadata, and how a conversation's batch results stand in for it.

A batch recording download (`POST /api/v2/recording/batchrequests`, `genesys.bulk`) serves up to 100
conversations' recordings for a few requests, where the one-by-one path costs at least one request per
conversation. Its results carry no recording metadata: only the conversation and recording ids, a
result URL and a content type, in the recording's original codec. So it stands in only where nothing
else is needed:

* every profile concerned exports the whole call as it is (no trimming, denoising, loudness, participant
  or segment extraction, chapters: those are made of the recording's times and annotations), exports no
  transcript (its timeline is the recording's), and names no recording field in its templates other than
  `Recording.Id` (`Recording.StartTime`, the media subtype and the recording's user come from metadata);
* the conversation's batch results are exactly one audio recording and no error (two recordings may be
  the two sides of one call, to be merged by their metadata; an error, archived or deleted, is reported
  with its state by the one-by-one path).

Anything else falls back to the one-by-one path, as does a batch file that is no longer on disk (an
export claimed by another instance, a cleaned work directory). The file is in the original codec, so the
export always re-encodes it to the profile's format (never written as it came).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from export.steps import needs_processing

logger = logging.getLogger(__name__)

BATCH_FILE = "batchFile"
"""Key of a recording document made from a batch result: the downloaded file's path."""
ALLOWED_RECORDING_FIELDS = frozenset({"Recording.Id"})


def profile_batchable(profile: Any) -> bool:
    """Whether `profile`'s exports can come from a batch download (see the module docstring)."""
    from storage.templates import placeholders_used

    if not profile.audio_export_enabled or profile.transcript_export_enabled:
        return False
    if needs_processing(profile):
        return False
    texts = [profile.audio_file_template, profile.path_template, *profile.audio_metadata_attributes]
    for text in texts:
        try:
            names = placeholders_used(text or "")
        except Exception:  # a template that does not parse: the one-by-one path reports it
            return False
        if any(n.startswith("Recording.") and n not in ALLOWED_RECORDING_FIELDS for n in names):
            return False
    return True


def batchable(profiles: Iterable[Any]) -> bool:
    """Whether every profile in `profiles` (at least one) can be served from batch downloads."""
    listed = list(profiles)
    return bool(listed) and all(profile_batchable(p) for p in listed)


def recordings_from_batch(conversation_id: str, outcomes: Iterable[Any]) -> list[dict[str, Any]] | None:
    """The conversation's recording documents made of its batch outcomes (`genesys.bulk.BatchOutcome`),
    or None when they cannot stand in for the recording metadata: anything but exactly one downloaded
    audio recording and no error."""
    mine = [o for o in outcomes if o.conversation_id == conversation_id]
    if len(mine) != 1:
        return None
    outcome = mine[0]
    content_type = str(outcome.content_type or "").split(";")[0].strip().lower()
    if not outcome.ok or not outcome.recording_id or not content_type.startswith("audio/"):
        return None
    return [
        {
            "id": str(outcome.recording_id),
            "conversationId": conversation_id,
            "media": "audio",
            "fileState": "AVAILABLE",
            "contentType": content_type,
            BATCH_FILE: str(outcome.path),
        }
    ]


def batch_files(recordings: Iterable[dict[str, Any]]) -> tuple[tuple[dict[str, Any], Path], ...] | None:
    """(recording, downloaded file) of recordings that came from a batch download, when every one
    did and its file is still there; None otherwise (the export asks Genesys Cloud one by one)."""
    listed = [r for r in recordings if isinstance(r, dict)]
    if not listed or not all(r.get(BATCH_FILE) for r in listed):
        return None
    files = tuple((r, Path(str(r[BATCH_FILE]))) for r in listed)
    if not all(path.is_file() and path.stat().st_size > 0 for _, path in files):
        logger.info(
            "conversation %s: the batch-downloaded recording is gone; asking Genesys Cloud for it",
            listed[0].get("conversationId"),
        )
        return None
    return files


def from_batch(recording: dict[str, Any]) -> bool:
    """Whether this recording document was made from a batch result (its file is in the original
    codec: re-encoded, never written as it came)."""
    return bool(recording.get(BATCH_FILE))


def attach_batch_recordings(ledger: Any, conversation_id: str, outcomes: Iterable[Any]) -> str | None:
    """Store the conversation's recording document made of its batch `outcomes` in its export context
    (`ledger.context` / `save_context`). Returns None when it did, else why not; then the
    conversation's downloaded files are removed (its export asks one by one)."""
    mine = [o for o in outcomes if o.conversation_id == conversation_id]
    recordings = recordings_from_batch(conversation_id, mine)
    context = ledger.context(conversation_id) if recordings is not None else None
    if recordings is not None and context:
        context["recordings"] = recordings
        ledger.save_context(conversation_id, context)
        return None
    discard_outcome_files(mine)
    if recordings is not None:
        return "no export context"
    return "; ".join(str(o.error) for o in mine if o.error) or f"{len(mine)} recording(s) in the batch"


def discard_outcome_files(outcomes: Iterable[Any]) -> None:
    """Remove the files batch `outcomes` downloaded."""
    for outcome in outcomes:
        if outcome.path:
            Path(outcome.path).unlink(missing_ok=True)


def remove_batch_files(dest_dir: Path, conversation_id: str) -> None:
    """Remove what batch downloads into `dest_dir` brought for the conversation (its export ended)."""
    if dest_dir.is_dir():
        for path in dest_dir.glob(f"{conversation_id}_*"):
            path.unlink(missing_ok=True)
