"""Record what the client reads for one conversation and turn it into a capture directory.

`Recorder` listens on a `GenesysClient` (every REST response: method, endpoint template, path,
query, status, JSON body) and on pre-signed downloads (`genesys.media`), so a capture holds what
the service actually read, whichever endpoints it uses. `Recorder.documents()` sorts the responses
into capture files by their path (not by a fixed list of calls); `write_capture` removes pre-signed
URLs, optionally redacts, refuses to write any file that contains a token or secret, and writes the
directory with its manifest atomically (a temporary sibling renamed into place).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from capture import layout
from capture.redact import Redactor
from capture.scrub import contains_secret, scrub

if TYPE_CHECKING:
    from genesys.media import DownloadEvent
    from genesys.rest import ApiResponse, GenesysClient

logger = logging.getLogger(__name__)

_ID = r"(?P<id>[^/]+)"
_CID = r"(?P<cid>[^/]+)"
PATH_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        ("details", rf"^/api/v2/analytics/conversations/{_CID}/details$"),
        ("conversation", rf"^/api/v2/conversations/{_CID}$"),
        ("recording-metadata", rf"^/api/v2/conversations/{_CID}/recordingmetadata$"),
        ("recording-metadata-one", rf"^/api/v2/conversations/{_CID}/recordingmetadata/{_ID}$"),
        ("recordings", rf"^/api/v2/conversations/{_CID}/recordings$"),
        ("recording", rf"^/api/v2/conversations/{_CID}/recordings/{_ID}$"),
        (
            "transcript-url",
            rf"^/api/v2/speechandtextanalytics/conversations/{_CID}/communications/{_ID}/transcripturls?$",
        ),
        ("queue-listing", r"^/api/v2/routing/queues$"),
        ("queue", rf"^/api/v2/routing/queues/{_ID}$"),
        ("user-listing", r"^/api/v2/users$"),
        ("user", rf"^/api/v2/users/{_ID}$"),
        ("wrapup-listing", r"^/api/v2/routing/wrapupcodes$"),
        ("wrapup-code", rf"^/api/v2/routing/wrapupcodes/{_ID}$"),
        ("policy-listing", r"^/api/v2/recording/mediaretentionpolicies$"),
        ("retention-policy", rf"^/api/v2/recording/mediaretentionpolicies/{_ID}$"),
        ("datatable-row", rf"^/api/v2/flows/datatables/(?P<table>[^/]+)/rows/{_ID}$"),
    )
)
"""How a GET response becomes a capture file: by its path (endpoints may change, paths say what)."""


def now_iso() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def classify(path: str) -> tuple[str, dict[str, str]] | None:
    for kind, pattern in PATH_KINDS:
        match = pattern.match(path)
        if match:
            return kind, {k: unquote(v) for k, v in match.groupdict().items()}
    return None


@dataclass(frozen=True)
class Observed:
    """One REST response (`genesys.rest.ApiResponse`) and when it arrived."""

    response: ApiResponse
    at: str

    @property
    def method(self) -> str:
        return str(self.response.method)

    @property
    def path(self) -> str:
        return str(self.response.path)

    @property
    def status(self) -> int:
        return int(self.response.status)

    @property
    def body(self) -> Any:
        return self.response.body

    def source(self) -> dict[str, Any]:
        r = self.response
        return {"endpoint": r.endpoint, "path": r.path, "query": r.query, "status": r.status, "at": self.at}


@dataclass
class Item:
    """One file of the capture: a JSON document or bytes exactly as served."""

    kind: str
    ident: str | None
    data: Any
    source: dict[str, Any]
    raw: bool = False  # bytes as served (transcripts)
    note: str = ""


@dataclass
class MediaItem:
    recording_id: str
    path: Path
    channels: int
    frames: int
    sample_rate: int
    format_id: str = "WAV"


@dataclass
class Documents:
    items: list[Item] = field(default_factory=list)
    media: list[MediaItem] = field(default_factory=list)
    reads: list[dict[str, Any]] = field(default_factory=list)
    signatures: set[str] = field(default_factory=set)  # query-string values seen in signed URLs
    notes: list[str] = field(default_factory=list)


class Recorder:
    """Observes one client (and the process's pre-signed downloads) while capture reads."""

    def __init__(self, conversation_id: str) -> None:
        self.conversation_id = conversation_id
        self.responses: list[Observed] = []
        self.downloads: list[tuple[DownloadEvent, str]] = []
        self._lock = threading.Lock()
        self._client: GenesysClient | None = None

    def attach(self, client: GenesysClient) -> Recorder:
        from genesys.media import add_download_observer

        self._client = client
        client.add_observer(self._on_response)
        add_download_observer(self._on_download)
        return self

    def detach(self) -> None:
        from genesys.media import remove_download_observer

        if self._client is not None:
            self._client.remove_observer(self._on_response)
        remove_download_observer(self._on_download)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.detach()

    def _on_response(self, event: ApiResponse) -> None:
        observed = Observed(event, now_iso())
        with self._lock:
            self.responses.append(observed)

    def _on_download(self, event: DownloadEvent) -> None:
        with self._lock:
            self.downloads.append((event, now_iso()))

    # -- responses -> files ---------------------------------------------------------------------
    def documents(self, *, profile_column: str = "Configuration") -> Documents:
        """Sort what was observed into capture files (latest 200 response of each document)."""
        cid = self.conversation_id
        out = Documents()
        latest: dict[str, Observed] = {}
        recordings: dict[str, tuple[dict[str, Any], Observed]] = {}
        per_id: dict[tuple[str, str], tuple[dict[str, Any], Observed, str]] = {}
        url_owner: dict[str, tuple[str, str]] = {}  # media URL without query -> ("media", recording id)
        transcript_urls: dict[str, tuple[str, int, str | None]] = {}  # -> (communication, part, recording)
        others: list[Observed] = []
        with self._lock:
            responses = list(self.responses)
            downloads = list(self.downloads)
        for obs in responses:
            out.reads.append({"method": obs.method, **obs.source()})
            _signatures(obs.body, out.signatures)
            found = classify(obs.path) if obs.method == "GET" else None
            if found is None:
                if obs.method == "GET" and cid in unquote(obs.path) and 200 <= obs.status < 300:
                    others.append(obs)
                continue
            kind, ids = found
            if ids.get("cid") not in (None, cid) or not 200 <= obs.status < 300:
                continue
            body = obs.body
            if kind in ("details", "conversation", "recording-metadata") and body is not None:
                latest[kind] = obs
            elif kind in ("recordings", "recording") and obs.status == 200:
                for rec in body if isinstance(body, list) else [body]:
                    if isinstance(rec, dict) and rec.get("id"):
                        recordings[str(rec["id"])] = (rec, obs)
                        for url in _media_urls(rec):
                            url_owner[url] = ("media", str(rec["id"]))
            elif kind == "transcript-url":
                for index, (url, recording_id) in enumerate(_transcript_urls(body)):
                    transcript_urls[url] = (ids["id"], index, recording_id)
            elif kind in ("queue", "user", "wrapup-code", "retention-policy") and isinstance(body, dict):
                per_id[(kind, str(body.get("id") or ids["id"]))] = (body, obs, "")
            elif kind in ("queue-listing", "user-listing", "wrapup-listing", "policy-listing"):
                single = {
                    "queue-listing": "queue",
                    "user-listing": "user",
                    "wrapup-listing": "wrapup-code",
                    "policy-listing": "retention-policy",
                }[kind]
                for entity in (body or {}).get("entities") or []:
                    if isinstance(entity, dict) and entity.get("id"):
                        per_id[(single, str(entity["id"]))] = (entity, obs, "one entity of the listing")
            elif kind == "datatable-row" and isinstance(body, dict) and profile_column in body:
                latest["profile"] = obs
        for kind in ("details", "conversation", "recording-metadata"):
            if kind in latest:
                obs = latest[kind]
                out.items.append(Item(kind, None, obs.body, obs.source()))
        if recordings:
            ordered = sorted(
                recordings.values(), key=lambda r: (str(r[0].get("startTime") or ""), r[0]["id"])
            )
            last = max((obs for _, obs in ordered), key=lambda o: o.at)
            out.items.append(
                Item(
                    "recordings", None, [rec for rec, _ in ordered], last.source(), note="media URLs removed"
                )
            )
        else:
            out.items.append(Item("recordings", None, [], {}, note="no recording was requested"))
        if "profile" in latest:
            obs = latest["profile"]
            value = obs.body[profile_column]
            text = value if isinstance(value, str) else _json_text(value)
            out.items.append(
                Item(
                    "profile",
                    None,
                    text.encode("utf-8"),
                    obs.source(),
                    raw=True,
                    note=f"column {profile_column!r}",
                )
            )
        details = latest["details"].body if "details" in latest else {}
        conversation = latest["conversation"].body if "conversation" in latest else {}
        touched = touched_queue_ids(details, conversation)
        for (kind, ident), (body, obs, note) in sorted(per_id.items()):
            if kind == "queue" and ident not in touched:
                continue
            if kind == "retention-policy" and not policy_queue_ids(body) & touched:
                continue
            out.items.append(Item(kind, ident, body, obs.source(), note=note))
        parts: dict[str, dict[int, tuple[str | None, bytes, dict[str, Any]]]] = {}
        for event, at in downloads:
            if event.url in transcript_urls and event.data is not None:
                comm, index, recording_id = transcript_urls[event.url]
                source = {"endpoint": "GET <pre-signed transcript URL>", "status": 200, "at": at}
                parts.setdefault(comm, {})[index] = (recording_id, bytes(event.data), source)
            elif event.url in url_owner and event.path is not None:
                out.media.append(_probe(url_owner[event.url][1], Path(event.path)))
        for comm, by_index in parts.items():
            for index, (recording_id, data, source) in sorted(by_index.items()):
                extra = {"communicationId": comm, "part": index}
                if recording_id:
                    extra["recordingId"] = recording_id
                ident = layout.transcript_ident(comm, index, len(by_index))
                out.items.append(
                    Item("transcript", ident, data, {**extra, **source}, raw=True, note="bytes as served")
                )
        for index, obs in enumerate(others, 1):
            out.items.append(Item("response", f"{index:03d}", obs.body, obs.source(), note="not replayed"))
        return out


def touched_queue_ids(details: dict[str, Any], conversation: dict[str, Any]) -> set[str]:
    """Queues the call touched: analytics segments, and the REST conversation's participants."""
    from profiles.scoping import touched_queue_ids as analytics_queue_ids

    ids = set(analytics_queue_ids(details or {}))
    for participant in (conversation or {}).get("participants") or []:
        if isinstance(participant, dict):
            if participant.get("queueId"):
                ids.add(str(participant["queueId"]))
            queue = participant.get("queue")
            if isinstance(queue, dict) and queue.get("id"):
                ids.add(str(queue["id"]))
    return ids


def policy_queue_ids(policy: dict[str, Any]) -> set[str]:
    """Queues a media retention policy's call conditions name (as the ConfigActor reads them)."""
    ids: set[str] = set()
    media = policy.get("mediaPolicies") or {}
    for conditions in (
        (media.get("callPolicy") or {}).get("conditions") or {},
        policy.get("conditions") or {},
    ):
        for queue in conditions.get("forQueues") or []:
            if isinstance(queue, dict) and queue.get("id"):
                ids.add(str(queue["id"]))
    return ids


def wrapup_code_ids(details: dict[str, Any], conversation: dict[str, Any]) -> list[str]:
    """Wrap-up code ids the call names (analytics segments, REST participants' wrap-up)."""
    codes: list[str] = []
    for participant in (details or {}).get("participants") or []:
        for session in participant.get("sessions") or []:
            for segment in session.get("segments") or []:
                if segment.get("wrapUpCode"):
                    codes.append(str(segment["wrapUpCode"]))
    for participant in (conversation or {}).get("participants") or []:
        wrapup = participant.get("wrapup") if isinstance(participant, dict) else None
        if isinstance(wrapup, dict) and wrapup.get("code"):
            codes.append(str(wrapup["code"]))
    return list(dict.fromkeys(codes))


def _json_text(value: Any) -> str:
    import json

    return json.dumps(value)


def _media_urls(recording: dict[str, Any]) -> list[str]:
    from genesys.media import describe_url

    uris = recording.get("mediaUris")
    urls = []
    if isinstance(uris, dict):
        for value in uris.values():
            if isinstance(value, dict) and isinstance(value.get("mediaUri"), str):
                urls.append(describe_url(value["mediaUri"]))
    return urls


def _transcript_urls(body: Any) -> list[tuple[str, str | None]]:
    """(URL without query, recording id) of a ``TranscriptUrl`` or every part of a ``TranscriptUrls``."""
    from genesys.media import describe_url

    urls: list[tuple[str, str | None]] = []
    if isinstance(body, dict):
        if isinstance(body.get("url"), str):
            urls.append((describe_url(body["url"]), None))
        for item in body.get("urls") or []:
            if isinstance(item, dict) and isinstance(item.get("url"), str):
                recording = item.get("recording")
                if not isinstance(recording, dict):
                    recording = {}
                urls.append(
                    (describe_url(item["url"]), str(recording["id"]) if recording.get("id") else None)
                )
    return urls


def _signatures(value: Any, into: set[str]) -> None:
    """Every query-string value of every absolute URL in a response (to scan the files for)."""
    if isinstance(value, dict):
        for item in value.values():
            _signatures(item, into)
    elif isinstance(value, list):
        for item in value:
            _signatures(item, into)
    elif isinstance(value, str) and "://" in value and "?" in value:
        for _key, item in parse_qsl(urlsplit(value).query):
            if len(item) >= 8:
                into.add(item)


def _probe(recording_id: str, path: Path) -> MediaItem:
    import soundfile

    info = soundfile.info(str(path))
    return MediaItem(recording_id, path, int(info.channels), int(info.frames), int(info.samplerate))


# -- writing ---------------------------------------------------------------------------------------
class CaptureWriteError(RuntimeError):
    """Capture refused to write (a secret in a file, the target exists)."""


def write_capture(
    docs: Documents,
    out_dir: Path,
    *,
    conversation_id: str,
    with_media: bool,
    redact: bool,
    secrets: Iterable[str] = (),
    manifest_extra: dict[str, Any] | None = None,
) -> Path:
    """Write the capture directory (atomically); returns its path."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise CaptureWriteError(f"{out_dir} exists and is not empty; choose a new directory")
    forbidden = [s for s in {*secrets, *docs.signatures} if s]
    prepared = _prepare(docs.items, redact)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        files: list[dict[str, Any]] = []
        for item, data, removed in prepared:
            rel = layout.file_name(item.kind, item.ident)
            _check(rel, data, forbidden)
            _write(tmp / rel, data)
            entry: dict[str, Any] = {"file": rel, "kind": item.kind}
            if item.ident is not None:
                entry["id"] = item.ident
            entry.update(item.source)
            entry["bytes"] = len(data)
            entry["sha256"] = layout.sha256(data)
            if removed:
                entry["removed"] = removed
            if item.note:
                entry["note"] = item.note
            if redact and item.kind != "profile":
                entry["redacted"] = True
            files.append(entry)
        media: list[dict[str, Any]] = []
        for m in docs.media:
            fact: dict[str, Any] = {
                "recordingId": m.recording_id,
                "formatId": m.format_id,
                "channels": m.channels,
                "frames": m.frames,
                "sampleRate": m.sample_rate,
                "durationMs": round(m.frames * 1000 / m.sample_rate),
            }
            if with_media:
                rel = f"{layout.MEDIA_DIR}/{layout.safe_name(m.recording_id)}.wav"
                data = m.path.read_bytes()
                _write(tmp / rel, data)
                fact.update(file=rel, bytes=len(data), sha256=layout.sha256(data))
            media.append(fact)
        manifest = {
            "format": layout.FORMAT,
            "version": layout.VERSION,
            "conversationId": conversation_id,
            "capturedAt": now_iso(),
            "tool": _tool(),
            "redacted": redact,
            "withMedia": with_media,
            **(manifest_extra or {}),
            "notes": docs.notes,
            "files": files,
            "media": media,
            "reads": docs.reads,
        }
        data = layout.json_bytes(manifest)
        _check(layout.MANIFEST, data, forbidden)
        _write(tmp / layout.MANIFEST, data)
        if out_dir.exists():
            out_dir.rmdir()
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _prepare(items: list[Item], redact: bool) -> list[tuple[Item, bytes, list[str]]]:
    scrubbed: list[tuple[Item, Any, list[str]]] = []
    for item in items:
        if item.raw:
            scrubbed.append((item, item.data, []))
        else:
            doc, removed = scrub(item.data)
            scrubbed.append((item, doc, removed))
    if not redact:
        return [(item, d if item.raw else layout.json_bytes(d), removed) for item, d, removed in scrubbed]
    redactor = Redactor()
    decoded: list[tuple[Item, Any, list[str]]] = []
    for item, d, removed in scrubbed:
        if item.kind == "transcript":
            from transcripts.parse import decode_json

            d, _warnings = decode_json(d)
            d, more = scrub(d)
            removed = removed + more
        if item.kind != "profile":
            redactor.collect(item.kind, d)
        decoded.append((item, d, removed))
    out = []
    for item, d, removed in decoded:
        if item.kind == "profile":
            out.append((item, d, removed))
            continue
        if item.kind == "transcript":
            item.note = "redacted and re-serialised as strict JSON"
        out.append((item, layout.json_bytes(redactor.apply(item.kind, d)), removed))
    logger.info("redacted: %s", redactor.summary())
    return out


def _check(rel: str, data: bytes, forbidden: list[str]) -> None:
    found = contains_secret(data, forbidden)
    if found is not None:
        raise CaptureWriteError(
            f"{rel} would contain a token, secret or URL signature; nothing was written "
            "(please report this as a bug)"
        )


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _tool() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        tool_version = version("callexport")
    except PackageNotFoundError:
        tool_version = "unknown"
    return {"name": "callexport", "version": tool_version, "command": "run.py capture"}
