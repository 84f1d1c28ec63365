"""Take a conversation's recordings to "ready to download", step by step.

The sequence (RecordingApi, ``Recording``/``RecordingMetadata`` models; docs/genesys.md): poll ``recordingmetadata`` until every audio recording is
``AVAILABLE``; request the media in the wanted ``formatId``; while Genesys transcodes it answers
202 — wait, guided by ``estimatedTranscodeTimeMs``, and ask again; archived, deleted or failed
recordings (``ARCHIVED``/``DELETED``/``ERROR``) are final and reported, not retried forever; a media
URL that expired before it was downloaded is requested again.

`RecordingFetcher.step()` does one round of requests and returns `Ready`, `Waiting(delay_s)` or
`Failed(reason)`; an actor schedules the next step itself (no sleeping inside actors).
`RecordingFetcher.wait_ready()` and `fetch_recordings()` are blocking conveniences for helper
threads, bounded by a total deadline.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import Forbidden, GenesysError, GenesysUnavailable, NotFound, RateLimited, TransientError
from .media import Downloaded, MediaCorrupt, MediaUrlExpired, download
from .rest import GenesysClient, Pending

logger = logging.getLogger(__name__)

FINAL_STATES = frozenset({"ARCHIVED", "DELETED", "ERROR"})
READY_STATES = frozenset({"AVAILABLE", "RESTORED"})
EXTENSIONS = {
    "WAV": "wav",
    "WAV_ULAW": "wav",
    "MP3": "mp3",
    "OGG_OPUS": "opus",
    "OGG_VORBIS": "ogg",
    "WEBM": "webm",
}


TRANSCODE_FIRST_POLL_S = 0.25
"""First re-ask after a 202 (then doubling, never past the server's own estimate)."""


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


def recording_expected(details: dict[str, Any]) -> bool | None:
    """From analytics details: True if any voice session was recorded, False if every voice
    session says ``recording: false``, None when the details do not say."""
    seen = False
    for participant in details.get("participants") or []:
        for session in (participant or {}).get("sessions") or []:
            if not isinstance(session, dict) or str(session.get("mediaType", "voice")) != "voice":
                continue
            if session.get("recording") is True:
                return True
            if "recording" in session:
                seen = True
    return False if seen else None


def _is_audio(meta: dict[str, Any]) -> bool:
    return str(meta.get("media") or "audio").lower() == "audio"


@dataclass
class RecordingFetcher:
    """Step-wise state machine for one conversation's audio recordings."""

    client: GenesysClient
    conversation_id: str
    format_id: str = "WAV"
    expect_recordings: bool | None = None
    no_recording_grace_s: float = 60.0
    poll_s: float = 2.0
    min_delay_s: float = 0.2
    max_delay_s: float = 30.0
    max_wait_ms: int = 0
    deadline_s: float | None = 1800.0
    clock: Callable[[], float] = time.monotonic
    _started: float | None = field(default=None, init=False)
    _metadata: list[dict[str, Any]] | None = field(default=None, init=False)
    _media: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    _stale: set[str] = field(default_factory=set, init=False)
    _errors: int = field(default=0, init=False)
    _transcode_polls: int = field(default=0, init=False)
    _last_reason: str = field(default="", init=False)
    steps: int = field(default=0, init=False)

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
        if self._started is None:
            self._started = now
        elapsed = now - self._started
        try:
            result = self._step(elapsed)
        except Forbidden as exc:
            return Failed(f"permission denied: {exc}")
        except (TransientError, RateLimited, GenesysUnavailable) as exc:
            self._errors += 1
            result = Waiting(self._clamp(2.0 * self._errors), f"Genesys unavailable: {exc}")
        except GenesysError as exc:
            return Failed(f"recordings request failed: {exc}")
        if isinstance(result, Waiting):
            self._last_reason = result.reason
            if self.deadline_s is not None and elapsed + result.delay_s > self.deadline_s:
                return Failed(
                    f"recordings not ready within {self.deadline_s:.0f}s: {result.reason}", permanent=False
                )
        else:
            self._errors = 0
        return result

    def _clamp(self, seconds: float) -> float:
        return max(self.min_delay_s, min(self.max_delay_s, seconds))

    def _step(self, elapsed: float) -> StepResult:
        cid = self.conversation_id
        if self._metadata is None or any(
            str(m.get("fileState")) not in READY_STATES | FINAL_STATES for m in self._metadata
        ):
            try:
                meta = [m for m in self.client.get_recording_metadata(cid) if isinstance(m, dict)]
            except NotFound:
                meta = []
            self._metadata = [m for m in meta if _is_audio(m)]
        metadata = self._metadata
        if not metadata:
            if self.expect_recordings is False:
                return Ready((), (), note="the conversation has no recording")
            if elapsed >= self.no_recording_grace_s:
                return Ready((), (), note=f"no recording appeared within {self.no_recording_grace_s:.0f}s")
            self._metadata = None
            return Waiting(self._clamp(self.poll_s), "no recording metadata yet")
        unavailable = tuple(
            Unavailable(str(m.get("id")), str(m.get("fileState")), _final_reason(str(m.get("fileState"))))
            for m in metadata
            if str(m.get("fileState")) in FINAL_STATES
        )
        pending = [m for m in metadata if str(m.get("fileState")) not in READY_STATES | FINAL_STATES]
        if pending:
            states = ", ".join(f"{m.get('id')}={m.get('fileState')}" for m in pending)
            return Waiting(self._clamp(self.poll_s), f"recording(s) not available yet ({states})")
        wanted = [str(m.get("id")) for m in metadata if str(m.get("fileState")) in READY_STATES]
        if not wanted:
            return Ready((), unavailable, note="no recording can be downloaded")
        missing = [
            rid
            for rid in wanted
            if rid not in self._media or rid in self._stale or not media_uri(self._media[rid])
        ]
        if missing and len(missing) == len(wanted) and not self._stale:
            listing = self.client.get_recordings(cid, self.format_id, max_wait_ms=self.max_wait_ms)
            if isinstance(listing, Pending):
                return self._transcoding(listing, "all recordings")
            for rec in listing:
                if isinstance(rec, dict) and rec.get("id") and media_uri(rec):
                    self._media[str(rec["id"])] = rec
            missing = [rid for rid in wanted if rid not in self._media]
        for rid in missing:
            rec = self.client.get_recording(cid, rid, self.format_id)
            if isinstance(rec, Pending) or not media_uri(rec):
                pending_rec = (
                    rec if isinstance(rec, Pending) else Pending(rec.get("estimatedTranscodeTimeMs"), rec)
                )
                return self._transcoding(pending_rec, f"recording {rid}")
            self._media[rid] = rec
            self._stale.discard(rid)
        ordered = sorted(
            (self._media[rid] for rid in wanted),
            key=lambda r: (str(r.get("startTime") or ""), str(r.get("id"))),
        )
        return Ready(tuple(ordered), unavailable)

    def _transcoding(self, pending: Pending, what: str) -> Waiting:
        # Ask again soon and back off, never sleeping the whole estimate at once: Genesys' estimate is
        # an upper bound (a 5-minute call's 6 s estimate was ready in 0.2 s), and latency matters.
        estimate = pending.estimated_ms / 1000.0 if pending.estimated_ms else self.poll_s
        self._transcode_polls += 1
        delay = min(estimate, TRANSCODE_FIRST_POLL_S * 2 ** (self._transcode_polls - 1))
        return Waiting(self._clamp(delay), f"{what} transcoding to {self.format_id} (202)")

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


def _final_reason(state: str) -> str:
    return {
        "ARCHIVED": "archived: restore it in Genesys Cloud before it can be exported",
        "DELETED": "deleted by a retention policy or a user",
        "ERROR": "Genesys reports an error for this recording",
    }.get(state, state)


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
    no_recording_grace_s: float = 60.0,
    max_url_renewals: int = 3,
    stop: threading.Event | None = None,
    metadata: list[dict[str, Any]] | None = None,
    **fetcher_kwargs: Any,
) -> FetchedRecordings:
    """Wait for and download every audio recording of a conversation into ``dest_dir``
    (``<recordingId>.<ext>``). Raises `GenesysError` when not ready within ``deadline_s``."""
    fetcher = RecordingFetcher(
        client,
        conversation_id,
        format_id,
        expect_recordings=expect_recordings,
        no_recording_grace_s=no_recording_grace_s,
        deadline_s=deadline_s,
        **fetcher_kwargs,
    )
    if metadata is not None:  # already fetched by the caller: saves a request from the org's budget
        fetcher._metadata = [m for m in metadata if isinstance(m, dict) and _is_audio(m)]
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
