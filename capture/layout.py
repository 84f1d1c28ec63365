"""The capture directory: file names, the manifest, and the one validating reader.

A capture is a directory with ``manifest.json`` as its index::

    manifest.json             what each file is, the endpoint it came from, when, the tool version
    details.json              GET /api/v2/analytics/conversations/{id}/details
    conversation.json         GET /api/v2/conversations/{id}
    recordingmetadata.json    GET /api/v2/conversations/{id}/recordingmetadata
    recordings.json           GET /api/v2/conversations/{id}/recordings (media URLs removed)
    profile.json              the configuration document (the Data Table row's column), as stored
    transcripts/<communicationId>.json   the STA transcript, byte for byte as served (a communication
                              with several parts, one per recording: <communicationId>.<n>.json)
    queues/ users/ wrapupcodes/ policies/ <id>.json   documents the call touches
    responses/<n>.json        other GET responses about the conversation (kept for inspection)
    media/<recordingId>.wav   with --with-media: the recordings' audio (WAV as served)

JSON documents are written re-indented but otherwise as the API sent them; transcripts keep their
bytes (Genesys' own published sample is not strict JSON). The manifest lists every file; a file it
lists that is missing, a JSON document that does not parse (a truncated one) or has the wrong shape
stops `load_capture` with a `CaptureError` naming the file. Plain logic, no network.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FORMAT = "callexport-capture"
VERSION = 1
MANIFEST = "manifest.json"

SINGLE_FILES: dict[str, str] = {
    "details": "details.json",
    "conversation": "conversation.json",
    "recording-metadata": "recordingmetadata.json",
    "recordings": "recordings.json",
    "profile": "profile.json",
}
"""Kinds with one document per capture -> file name."""

PER_ID_DIRS: dict[str, str] = {
    "transcript": "transcripts",
    "queue": "queues",
    "user": "users",
    "wrapup-code": "wrapupcodes",
    "retention-policy": "policies",
    "response": "responses",
}
"""Kinds with one document per id -> directory."""

MEDIA_DIR = "media"
REQUIRED_KINDS = ("details", "conversation", "recording-metadata", "recordings")
_LIST_KINDS = ("recording-metadata", "recordings")


class CaptureError(ValueError):
    """A capture directory cannot be used; ``file`` is the file at fault."""

    def __init__(self, file: Path | str, message: str) -> None:
        super().__init__(f"{file}: {message}")
        self.file = Path(file)
        self.message = message


def file_name(kind: str, ident: str | None = None, *, suffix: str = ".json") -> str:
    """Relative path of a document of ``kind`` (``ident`` for per-id kinds)."""
    if kind in SINGLE_FILES:
        return SINGLE_FILES[kind]
    if kind in PER_ID_DIRS and ident:
        return f"{PER_ID_DIRS[kind]}/{safe_name(ident)}{suffix}"
    raise ValueError(f"no file name for kind {kind!r} (id {ident!r})")


def safe_name(ident: str) -> str:
    """An id as a file name (ids are GUIDs; anything else is reduced to a safe spelling)."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(ident)).strip(".")
    return cleaned or "_"


def json_bytes(document: Any) -> bytes:
    """How capture writes a JSON document: indented, UTF-8, trailing newline."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class MediaFacts:
    """What capture learned about one recording's audio (always, with or without the file)."""

    recording_id: str
    channels: int
    frames: int
    sample_rate: int
    format_id: str = "WAV"
    file: Path | None = None  # absolute path when the capture holds the audio

    @property
    def duration_s(self) -> float:
        return self.frames / float(self.sample_rate)


@dataclass(frozen=True)
class TranscriptPart:
    """One transcript document of a communication (one per recording with ``transcripturls``)."""

    communication_id: str
    part: int
    recording_id: str | None
    data: bytes  # as served


def transcript_ident(communication_id: str, part: int, parts: int) -> str:
    """The per-id name of a transcript part: the communication id, with ``.<n>`` when it has several."""
    return communication_id if parts <= 1 else f"{communication_id}.{part + 1}"


@dataclass
class Capture:
    """A loaded, validated capture directory."""

    root: Path
    manifest: dict[str, Any]
    conversation_id: str
    details: dict[str, Any]
    conversation: dict[str, Any]
    recording_metadata: list[dict[str, Any]]
    recordings: list[dict[str, Any]]
    transcripts: dict[str, list[TranscriptPart]] = field(default_factory=dict)  # communication id -> parts
    queues: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    wrapup_codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    profile: str | None = None
    media: dict[str, MediaFacts] = field(default_factory=dict)

    @property
    def redacted(self) -> bool:
        return bool(self.manifest.get("redacted"))


def describe_json_error(exc: json.JSONDecodeError, text: str) -> str:
    if not text.strip():
        return "empty file (expected a JSON document)"
    stripped = text.rstrip()
    if (not text[exc.pos :].strip() and exc.pos > 0) or not stripped.endswith(("}", "]")):
        lines = stripped.splitlines() or [""]
        return (
            f"truncated JSON: the text ends at line {len(lines)} column {len(lines[-1]) + 1} before "
            f"the document is complete ({exc.msg} at line {exc.lineno} column {exc.colno})"
        )
    return f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"


def read_bytes(path: Path) -> bytes:
    """A file's bytes, or `CaptureError` naming it (missing, unreadable)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CaptureError(path, "missing") from None
    except OSError as exc:
        raise CaptureError(path, f"cannot be read ({exc.strerror or exc})") from None


def read_json(path: Path) -> Any:
    """A JSON file, or `CaptureError` naming it (missing, unreadable, not UTF-8, not JSON, truncated)."""
    raw = read_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaptureError(
            path, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaptureError(path, describe_json_error(exc, text)) from None


def load_capture(directory: Path | str) -> Capture:
    """Read and check a capture directory; `CaptureError` names the first file that is unusable."""
    root = Path(directory)
    if not root.is_dir():
        raise CaptureError(root, "not a capture directory (no such directory)")
    manifest_path = root / MANIFEST
    if not manifest_path.exists():
        raise CaptureError(manifest_path, "missing: not a capture directory (run.py capture writes it)")
    manifest = read_json(manifest_path)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CaptureError(manifest_path, f'not a capture manifest (expected "format": "{FORMAT}")')
    if int(manifest.get("version") or 0) > VERSION:
        raise CaptureError(
            manifest_path, f"written by a newer callexport (capture version {manifest.get('version')})"
        )
    conversation_id = manifest.get("conversationId")
    if not isinstance(conversation_id, str) or not conversation_id:
        raise CaptureError(manifest_path, "has no conversationId")
    entries = manifest.get("files")
    if not isinstance(entries, list) or not all(isinstance(e, dict) and e.get("file") for e in entries):
        raise CaptureError(manifest_path, '"files" must list objects with a "file"')

    documents: dict[str, Any] = {}
    capture = Capture(root, manifest, conversation_id, {}, {}, [], [])
    per_id: dict[str, dict[str, dict[str, Any]]] = {
        "queue": capture.queues,
        "user": capture.users,
        "wrapup-code": capture.wrapup_codes,
        "retention-policy": capture.policies,
    }
    for entry in entries:
        kind = str(entry.get("kind") or "")
        path = _inside(root, str(entry["file"]), manifest_path)
        if kind == "transcript":
            comm = str(entry.get("communicationId") or entry.get("id") or path.stem)
            part = TranscriptPart(
                comm,
                int(entry.get("part") or 0),
                str(entry["recordingId"]) if entry.get("recordingId") else None,
                _transcript(path, conversation_id),
            )
            capture.transcripts.setdefault(comm, []).append(part)
        elif kind == "profile":
            capture.profile = _text(path)
        elif kind in SINGLE_FILES:
            documents[kind] = _document(path, kind)
        elif kind in per_id:
            doc = _document(path, kind)
            per_id[kind][str(entry.get("id") or doc.get("id") or path.stem)] = doc
        elif kind == "response":
            read_json(path)  # kept for inspection; must still be readable
        else:
            logger.warning("%s: unknown kind %r of %s ignored", manifest_path, kind, path.name)
    for kind in REQUIRED_KINDS:
        if kind not in documents:
            raise CaptureError(root / SINGLE_FILES[kind], f"missing: a capture needs the {kind} document")
    capture.details = documents["details"]
    capture.conversation = documents["conversation"]
    capture.recording_metadata = documents["recording-metadata"]
    capture.recordings = documents["recordings"]
    details_id = capture.details.get("conversationId")
    if details_id and details_id != conversation_id:
        raise CaptureError(
            root / SINGLE_FILES["details"],
            f"is about conversation {details_id}, the manifest says {conversation_id}",
        )
    for parts in capture.transcripts.values():
        parts.sort(key=lambda t: t.part)
    capture.media = _media(root, manifest, manifest_path)
    return capture


def _inside(root: Path, relative: str, manifest_path: Path) -> Path:
    path = (root / relative).resolve()
    if root.resolve() not in path.parents:
        raise CaptureError(manifest_path, f"file {relative!r} is outside the capture directory")
    return path


def _text(path: Path) -> str:
    try:
        return read_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaptureError(path, f"not UTF-8 text ({exc})") from None


def _document(path: Path, kind: str) -> Any:
    doc = read_json(path)
    if kind in _LIST_KINDS:
        if not isinstance(doc, list) or not all(isinstance(d, dict) for d in doc):
            raise CaptureError(path, f"expected a JSON array of objects ({kind})")
    elif not isinstance(doc, dict):
        raise CaptureError(path, f"expected a JSON object ({kind})")
    return doc


def _transcript(path: Path, conversation_id: str) -> bytes:
    """The bytes as served, checked with the service's own tolerant reader (a trailing comma is
    fine, as in Genesys' sample; a truncated document is not)."""
    from transcripts.errors import TranscriptError
    from transcripts.parse import load_transcript

    data = read_bytes(path)
    try:
        load_transcript(data, conversation_id=conversation_id)
    except TranscriptError as exc:
        ends = data.decode("utf-8", "replace").rstrip().endswith(("}", "]"))
        hint = (
            "" if ends or "truncated" in str(exc) else "truncated (the file ends before the document does): "
        )
        raise CaptureError(path, f"unusable transcript: {hint}{exc}") from None
    return data


def _media(root: Path, manifest: dict[str, Any], manifest_path: Path) -> dict[str, MediaFacts]:
    facts: dict[str, MediaFacts] = {}
    items = manifest.get("media") or []
    if not isinstance(items, list):
        raise CaptureError(manifest_path, '"media" must be a list')
    for item in items:
        try:
            rid = str(item["recordingId"])
            channels, frames, rate = int(item["channels"]), int(item["frames"]), int(item["sampleRate"])
        except (KeyError, TypeError, ValueError):
            raise CaptureError(
                manifest_path, f"media entry {item!r} needs recordingId, channels, frames, sampleRate"
            ) from None
        if channels < 1 or frames < 0 or rate < 1:
            raise CaptureError(manifest_path, f"media entry of recording {rid}: impossible audio facts")
        path = None
        if item.get("file"):
            path = _inside(root, str(item["file"]), manifest_path)
            _check_audio(path, channels, frames)
        facts[rid] = MediaFacts(rid, channels, frames, rate, str(item.get("formatId") or "WAV"), path)
    return facts


def _check_audio(path: Path, channels: int, frames: int) -> None:
    import soundfile

    if not path.is_file():
        raise CaptureError(path, "missing (listed in manifest.json)")
    try:
        info = soundfile.info(str(path))
    except (RuntimeError, OSError) as exc:
        raise CaptureError(path, f"not readable audio ({exc})") from None
    if info.channels != channels or info.frames != frames:
        raise CaptureError(
            path,
            f"has {info.channels} channel(s) and {info.frames} frames, the manifest says {channels} and {frames}",
        )
