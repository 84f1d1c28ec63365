"""Take a conversation's audio recordings to "ready to download", step by step and restorably.

The sequence (RecordingApi, ``Recording``/``RecordingMetadata`` models; docs/genesys.md): poll ``recordingmetadata`` until every *audio* recording is settled;
request the media of the audio recordings in the wanted ``formatId``; while Genesys transcodes it
answers 202 — wait and ask again; a media URL that expired before it was downloaded is requested
again.

* **Only audio.** The recordings of a conversation include screen recordings (``media: "screen"``),
  chats and emails. They are never requested: when the metadata lists any recording that is not an
  audio recording ready for download, the audio ones are requested one by one
  (``GET .../recordings/{id}``) instead of with the list endpoint, so a screen recording that stays
  202 neither blocks the audio nor costs a transcode nobody needs.
* **File states** (`Recording.fileState`, SDK enum ``ARCHIVED AVAILABLE DELETED RESTORED RESTORING
  UPLOADING ERROR``): ``AVAILABLE``/``RESTORED`` are downloadable; ``UPLOADING`` and ``RESTORING``
  are waits; ``ARCHIVED``, ``DELETED`` and ``ERROR`` are reported precisely as `Unavailable`
  (``archiveDate``/``deleteDate`` are the dates the retention policy archives or deletes the
  recording).
* **"Not recorded"** is decided only from positive evidence — every voice session of the analytics
  details says ``recording: false`` — or after the recording metadata stayed empty for
  ``no_recording_grace_s`` (a wall-clock time since the first step). An absent ``recording`` flag is
  never evidence: Genesys' own analytics samples carry no such flag at all.
* **Waits** follow `reliability.backoff`: `POLL` for "not there yet" (metadata empty, uploading,
  restoring), `TRANSCODE` for 202s, `API` for transient errors.

`RecordingFetcher.step()` does one round of requests and returns `Ready`, `Waiting(delay_s)` or
`Failed(reason, permanent)`; the caller schedules the next step. `state()` is a JSON-able dict and
`RecordingFetcher.restore(client, state)` (or ``RecordingFetcher(..., state=...)``) rebuilds the
fetcher after a process restart: every clock is a wall clock (``time.time``, injectable), so a wait
that began before the restart keeps its age. Metadata and media URLs are not part of the state (the
URLs expire within minutes); the first step after a restore asks for them again.

`RecordingFetcher.wait_ready()` and `fetch_recordings()` are blocking conveniences for helper
threads, bounded by a total deadline.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reliability.backoff import API, POLL, TRANSCODE, Backoff

from .errors import (
    Forbidden,
    GenesysError,
    GenesysUnavailable,
    NotFound,
    RateLimited,
    ServerError,
    TransientError,
)
from .media import Downloaded, MediaCorrupt, MediaUrlExpired, download
from .rest import GenesysClient, Pending

logger = logging.getLogger(__name__)

STATE_VERSION = 1
FINAL_STATES = frozenset({"ARCHIVED", "DELETED", "ERROR"})
READY_STATES = frozenset({"AVAILABLE", "RESTORED"})
WAIT_STATES = frozenset({"UPLOADING", "RESTORING"})
EXTENSIONS = {
    "WAV": "wav",
    "WAV_ULAW": "wav",
    "MP3": "mp3",
    "OGG_OPUS": "opus",
    "OGG_VORBIS": "ogg",
    "WEBM": "webm",
}
DEFAULT_NO_RECORDING_GRACE_S = 300.0
"""How long recording metadata may stay empty before a call without evidence counts as not recorded.
Recordings are listed seconds after the call in the normal case; five minutes cost six polls."""


@dataclass(frozen=True)
class Unavailable:
    """A recording that will not become downloadable (archived, deleted, failed)."""

    recording_id: str
    file_state: str
    reason: str


@dataclass(frozen=True)
class Ready:
    """Every audio recording is ready: ``recordings`` carry ``mediaUris`` in the wanted format."""

    recordings: tuple[dict[str, Any], ...]
    unavailable: tuple[Unavailable, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Waiting:
    """Not ready yet: call `step()` again after ``delay_s`` seconds."""

    delay_s: float
    reason: str


@dataclass(frozen=True)
class Failed:
    reason: str
    permanent: bool = True


StepResult = Ready | Waiting | Failed


def media_uri(recording: dict[str, Any]) -> str | None:
    """The download URL of a recording (``mediaUris.S.mediaUri`` first, else any)."""
    uris = recording.get("mediaUris")
    if not isinstance(uris, dict) or not uris:
        return None
    ordered = [uris.get("S")] + [v for k, v in sorted(uris.items()) if k != "S"]
    for item in ordered:
        if isinstance(item, dict) and item.get("mediaUri"):
            return str(item["mediaUri"])
    return None


def recording_expected(details: dict[str, Any] | None) -> bool | None:
    """From analytics details: True if any voice session says ``recording: true``; False only on
    positive evidence — every voice session that can be recorded (customer, external, agent) carries
    an explicit ``recording: false``; None when the details do not say (an absent flag is no evidence:
    Genesys' published analytics documents carry no ``recording`` flag at all)."""
    if not isinstance(details, dict):
        return None
    flags: list[Any] = []
    for participant in details.get("participants") or []:
        if not isinstance(participant, dict):
            continue
        purpose = str(participant.get("purpose") or "").lower()
        for session in participant.get("sessions") or []:
            if not isinstance(session, dict) or str(session.get("mediaType") or "voice") != "voice":
                continue
            if session.get("recording") is True:
                return True
            if purpose in ("customer", "external", "agent", "user"):
                flags.append(session.get("recording"))
    if flags and all(flag is False for flag in flags):
        return False
    return None


def is_audio(meta: dict[str, Any]) -> bool:
    """An audio recording (``media`` absent counts as audio: older documents leave it out)."""
    return str(meta.get("media") or "audio").lower() == "audio"


def unavailable_reason(meta: dict[str, Any]) -> str:
    """Why a recording in a final state cannot be exported, with the dates Genesys gives."""
    state = str(meta.get("fileState") or "").upper()
    if state == "ARCHIVED":
        medium = meta.get("archiveMedium") or "archive"
        when = f" on {meta['archiveDate']}" if meta.get("archiveDate") else ""
        return (
            f"archived{when} ({medium}): restore it in Genesys Cloud (Recording > restore) and "
            "export the conversation again"
        )
    if state == "DELETED":
        when = f" on {meta['deleteDate']}" if meta.get("deleteDate") else ""
        return f"deleted{when} by a retention policy or a user; it cannot be exported"
    if state == "ERROR":
        status = meta.get("recordingErrorStatus")
        return "Genesys Cloud reports an error for this recording" + (f" ({status})" if status else "")
    return state.lower() or "unknown state"


class RecordingFetcher:
    """Step-wise, restorable state machine for one conversation's audio recordings."""

    def __init__(
        self,
        client: GenesysClient,
        conversation_id: str,
        format_id: str = "WAV",
        *,
        expect_recordings: bool | None = None,
        details: dict[str, Any] | None = None,
        no_recording_grace_s: float = DEFAULT_NO_RECORDING_GRACE_S,
        max_wait_ms: int = 0,
        deadline_s: float | None = 1800.0,
        poll: Backoff = POLL,
        transcode: Backoff = TRANSCODE,
        api: Backoff = API,
        clock: Callable[[], float] = time.time,
        state: dict[str, Any] | None = None,
        list_first: bool = False,
    ) -> None:
        self.client = client
        # ask the recordings list (with maxWaitMs) before the metadata: one request instead of two
        # when every recording of the conversation is audio; a 202 falls back to the metadata path
        self.list_first = list_first
        self.conversation_id = conversation_id
        self.format_id = format_id
        self.expect_recordings = expect_recordings
        self.no_recording_grace_s = no_recording_grace_s
        self.max_wait_ms = max_wait_ms
        self.deadline_s = deadline_s
        self.poll, self.transcode, self.api = poll, transcode, api
        self.clock = clock
        self.started_at: float | None = None
        self.steps = 0
        self.attempts = {"poll": 0, "transcode": 0, "api": 0}
        # analytics evidence about recording: True/False/None; "unknown" until checked
        self.evidence: bool | None | str = "unknown"
        if details is not None:
            self.evidence = recording_expected(details)
        if expect_recordings is not None and self.evidence in ("unknown", None):
            self.evidence = expect_recordings  # the caller's evidence (False: positive evidence only)
        self._metadata: list[dict[str, Any]] | None = None
        self._media: dict[str, dict[str, Any]] = {}
        self._stale: set[str] = set()
        self._list_has_others = False
        self.list_probe = ""  # what the list-first probe found: audio | others | pending | empty
        self.saw_others = False  # the conversation has recordings that are not audio (screen ...)
        if state is not None:
            self._load(state)

    # -- compatibility: the names `export.steps` set and read (same meaning) ------------------------
    @property
    def _started(self) -> float | None:
        return self.started_at

    @_started.setter
    def _started(self, value: float | None) -> None:
        self.started_at = value

    @property
    def _transcode_polls(self) -> int:
        return self.attempts["transcode"]

    @_transcode_polls.setter
    def _transcode_polls(self, value: int) -> None:
        self.attempts["transcode"] = int(value or 0)

    # -- persistence ------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """A JSON-able snapshot from which `restore` rebuilds this fetcher."""
        return {
            "version": STATE_VERSION,
            "conversation_id": self.conversation_id,
            "format_id": self.format_id,
            "expect_recordings": self.expect_recordings,
            "no_recording_grace_s": self.no_recording_grace_s,
            "max_wait_ms": self.max_wait_ms,
            "deadline_s": self.deadline_s,
            "started_at": self.started_at,
            "steps": self.steps,
            "attempts": dict(self.attempts),
            "evidence": self.evidence,
            "list_first": self.list_first,
        }

    @classmethod
    def restore(cls, client: GenesysClient, state: dict[str, Any], **overrides: Any) -> RecordingFetcher:
        """Rebuild a fetcher from `state()`; ``overrides`` replace constructor arguments (e.g. the
        backoff policies or the clock, which are not part of the state)."""
        kwargs: dict[str, Any] = {
            "format_id": state.get("format_id", "WAV"),
            "expect_recordings": state.get("expect_recordings"),
            "no_recording_grace_s": state.get("no_recording_grace_s", DEFAULT_NO_RECORDING_GRACE_S),
            "max_wait_ms": state.get("max_wait_ms", 0),
            "deadline_s": state.get("deadline_s", 1800.0),
        }
        kwargs.update(overrides)
        return cls(client, str(state["conversation_id"]), state=state, **kwargs)

    def _load(self, state: dict[str, Any]) -> None:
        if state.get("version") != STATE_VERSION:
            raise ValueError(
                f"recording fetcher state version {state.get('version')!r} is not {STATE_VERSION}"
            )
        if state.get("conversation_id") not in (None, self.conversation_id):
            raise ValueError(
                f"recording fetcher state is for conversation {state.get('conversation_id')}, "
                f"not {self.conversation_id}"
            )
        started = state.get("started_at")
        self.started_at = float(started) if isinstance(started, int | float) else None
        self.steps = int(state.get("steps") or 0)
        attempts = state.get("attempts") or {}
        self.attempts = {k: int(attempts.get(k) or 0) for k in ("poll", "transcode", "api")}
        evidence = state.get("evidence", "unknown")
        if self.evidence == "unknown" and evidence in (True, False, None):
            self.evidence = evidence
        self.list_first = bool(state.get("list_first", self.list_first))

    def prefill_metadata(self, metadata: list[dict[str, Any]]) -> None:
        """Recording metadata the caller already fetched: saves a request from the org's budget."""
        self._metadata = [m for m in metadata if isinstance(m, dict)]

    # -- stepping ---------------------------------------------------------------------------------
    def media_expired(self, recording_id: str) -> None:
        """The media URL of ``recording_id`` was refused: request it again on the next step."""
        logger.info(
            "conversation %s: media URL of recording %s expired; requesting a new one",
            self.conversation_id,
            recording_id,
        )
        self._stale.add(recording_id)

    def step(self) -> StepResult:
        self.steps += 1
        now = self.clock()
        if self.started_at is None:
            self.started_at = now
        elapsed = max(0.0, now - self.started_at)
        try:
            result = self._step(elapsed)
        except Forbidden as exc:
            return Failed(f"permission denied: {exc}")
        except (TransientError, RateLimited, GenesysUnavailable, ServerError) as exc:
            result = self._wait("api", f"Genesys Cloud unavailable: {exc}")
        except GenesysError as exc:
            return Failed(f"recordings request failed: {exc}")
        else:
            self.attempts["api"] = 0
        if isinstance(result, Waiting):
            if self.deadline_s is not None and elapsed + result.delay_s > self.deadline_s:
                return Failed(
                    f"recordings not ready within {self.deadline_s:.0f}s: {result.reason}", permanent=False
                )
        return result

    def _wait(self, kind: str, reason: str) -> Waiting:
        self.attempts[kind] += 1
        policy = {"poll": self.poll, "transcode": self.transcode, "api": self.api}[kind]
        return Waiting(policy.delay(self.attempts[kind]), reason)

    def _refresh_metadata(self) -> list[dict[str, Any]]:
        try:
            meta = [
                m for m in self.client.get_recording_metadata(self.conversation_id) if isinstance(m, dict)
            ]
        except NotFound:
            meta = []
        self._metadata = meta
        return meta

    def _check_evidence(self) -> bool | None:
        """Whether analytics says a recording was started (one details request, once)."""
        if self.evidence == "unknown":
            try:
                details = self.client.get_conversation_details(self.conversation_id)
            except NotFound:
                return None  # analytics lags: ask again on a later step
            self.evidence = recording_expected(details)
        evidence = self.evidence
        return None if isinstance(evidence, str) else evidence  # the only text value is "unknown"

    def _probe_list(self) -> None:
        """The recordings list first (list-first mode, once): its documents carry the metadata too."""
        self.list_first = False
        listing = self.client.get_recordings(
            self.conversation_id, self.format_id, max_wait_ms=self.max_wait_ms
        )
        if isinstance(listing, Pending) or not isinstance(listing, list):
            self.list_probe = "pending"  # something still transcodes (a screen recording?): ask one by one
            return
        items = [r for r in listing if isinstance(r, dict)]
        if not items:
            self.list_probe = "empty"
            return  # nothing listed yet: the metadata path decides (uploading, not recorded)
        self.list_probe = "others" if any(not is_audio(r) for r in items) else "audio"
        self._metadata = items
        for rec in items:
            if is_audio(rec) and rec.get("id") and media_uri(rec):
                self._media[str(rec["id"])] = rec

    def _step(self, elapsed: float) -> StepResult:
        if self.list_first and self._metadata is None:
            self._probe_list()
        metadata = self._metadata
        if metadata is None or any(
            is_audio(m) and str(m.get("fileState")) not in READY_STATES | FINAL_STATES for m in metadata
        ):
            metadata = self._refresh_metadata()
        audio = [m for m in metadata if is_audio(m)]
        others = [m for m in metadata if not is_audio(m)]
        if others:
            self.saw_others = True
        if not audio:
            return self._no_audio(elapsed, others)
        unavailable = tuple(
            Unavailable(str(m.get("id")), str(m.get("fileState")), unavailable_reason(m))
            for m in audio
            if str(m.get("fileState")) in FINAL_STATES
        )
        pending = [m for m in audio if str(m.get("fileState")) not in READY_STATES | FINAL_STATES]
        if pending:
            states = ", ".join(f"{m.get('id')}={m.get('fileState')}" for m in pending)
            restoring = any(str(m.get("fileState")) == "RESTORING" for m in pending)
            what = "being restored from the archive" if restoring else "not available yet"
            return self._wait("poll", f"recording(s) {what} ({states})")
        self.attempts["poll"] = 0
        wanted = [str(m.get("id")) for m in audio if str(m.get("fileState")) in READY_STATES]
        if not wanted:
            return Ready((), unavailable, note="no recording can be downloaded")
        missing = [rid for rid in wanted if rid in self._stale or not media_uri(self._media.get(rid, {}))]
        # The list endpoint covers every recording of the conversation: use it only when that is
        # exactly the audio we want (no screen recording, nothing archived, nothing to renew).
        list_is_exact = (
            not others
            and not unavailable
            and not self._stale
            and not self._list_has_others
            and len(missing) == len(wanted)
        )
        transcoding: list[str] = []
        if missing and list_is_exact:
            listing = self.client.get_recordings(
                self.conversation_id, self.format_id, max_wait_ms=self.max_wait_ms
            )
            items = listing.body if isinstance(listing, Pending) else listing
            for rec in items if isinstance(items, list) else []:
                if isinstance(rec, dict) and not is_audio(rec):
                    self._list_has_others = True  # metadata we were given left it out: ask one by one
                if isinstance(rec, dict) and rec.get("id") in wanted and media_uri(rec):
                    self._media[str(rec["id"])] = rec
            missing = [rid for rid in wanted if not media_uri(self._media.get(rid, {}))]
            if isinstance(listing, Pending) and missing:
                transcoding = missing
                missing = []
        for rid in missing:
            rec = self.client.get_recording(self.conversation_id, rid, self.format_id)
            if isinstance(rec, Pending) or not media_uri(rec):
                transcoding.append(rid)
                continue
            self._media[rid] = rec
            self._stale.discard(rid)
        if transcoding:
            return self._wait(
                "transcode", f"recording(s) {', '.join(transcoding)} transcoding to {self.format_id} (202)"
            )
        self.attempts["transcode"] = 0
        ordered = sorted(
            (self._media[rid] for rid in wanted),
            key=lambda r: (str(r.get("startTime") or ""), str(r.get("id"))),
        )
        return Ready(tuple(ordered), unavailable)

    def _no_audio(self, elapsed: float, others: list[dict[str, Any]]) -> StepResult:
        self._metadata = None  # ask again next time
        besides = f" ({len(others)} non-audio recording(s) ignored)" if others else ""
        evidence = self._check_evidence() if self.evidence is not True else True
        if evidence is False:
            return Ready(
                (), (), note="analytics says no audio recording was started (recording: false)" + besides
            )
        if evidence is not True and elapsed >= self.no_recording_grace_s:
            return Ready(
                (), (), note=f"no audio recording appeared within {self.no_recording_grace_s:.0f}s" + besides
            )
        expected = " (analytics says the call was recorded)" if evidence is True else ""
        return self._wait("poll", f"no audio recording metadata yet{expected}{besides}")

    def wait_ready(self, stop: threading.Event | None = None) -> Ready | Failed:
        """Blocking loop over `step()` for helper threads; bounded by ``deadline_s``."""
        waiter = stop or threading.Event()
        while True:
            result = self.step()
            if not isinstance(result, Waiting):
                return result
            logger.debug(
                "conversation %s: %s; next check in %.1fs",
                self.conversation_id,
                result.reason,
                result.delay_s,
            )
            if waiter.wait(result.delay_s):
                return Failed("stopped", permanent=False)


@dataclass(frozen=True)
class FetchedRecordings:
    files: tuple[tuple[dict[str, Any], Downloaded], ...]
    unavailable: tuple[Unavailable, ...]
    note: str = ""


def fetch_recordings(
    client: GenesysClient,
    conversation_id: str,
    dest_dir: str | Path,
    *,
    format_id: str = "WAV",
    deadline_s: float = 1800.0,
    expect_recordings: bool | None = None,
    no_recording_grace_s: float = DEFAULT_NO_RECORDING_GRACE_S,
    max_url_renewals: int = 3,
    stop: threading.Event | None = None,
    metadata: list[dict[str, Any]] | None = None,
    **fetcher_kwargs: Any,
) -> FetchedRecordings:
    """Wait for and download every audio recording of a conversation into ``dest_dir``
    (``<recordingId>.<ext>``). Raises `GenesysError` when not ready within ``deadline_s``.

    Pass ``details=`` (the analytics details) or ``expect_recordings=recording_expected(details)``:
    an explicit ``recording: false`` on every recordable session decides at once; without evidence
    the details are asked for once when no recording is listed."""
    fetcher = RecordingFetcher(
        client,
        conversation_id,
        format_id,
        expect_recordings=expect_recordings,
        no_recording_grace_s=no_recording_grace_s,
        deadline_s=deadline_s,
        **fetcher_kwargs,
    )
    if metadata is not None:
        fetcher.prefill_metadata(metadata)
    ext = EXTENSIONS.get(format_id.upper(), format_id.lower())
    done: dict[str, tuple[dict[str, Any], Downloaded]] = {}
    renewals = 0
    while True:
        ready = fetcher.wait_ready(stop)
        if isinstance(ready, Failed):
            raise GenesysError(f"recordings of {conversation_id}", 0, message=ready.reason)
        expired = False
        for rec in ready.recordings:
            rid = str(rec["id"])
            if rid in done:
                continue
            url = media_uri(rec)
            assert url is not None
            try:
                got = download(
                    url, Path(dest_dir) / f"{rid}.{ext}", timeout_s=client.config.timeout_s, stop=stop
                )
            except (MediaUrlExpired, MediaCorrupt) as exc:
                renewals += 1
                if renewals > max_url_renewals:
                    raise GenesysError(
                        f"recordings of {conversation_id}",
                        0,
                        message=f"media URL refused {renewals} times: {exc}",
                    ) from exc
                fetcher.media_expired(rid)
                expired = True
                continue
            done[rid] = (rec, got)
        if not expired:
            files = tuple(done[str(r["id"])] for r in ready.recordings)
            return FetchedRecordings(files, ready.unavailable, ready.note)
