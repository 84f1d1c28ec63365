"""Runtime state of the simulated org: live calls with their real-time availability, written
participant attributes, transcode counters (plain logic; all methods thread-safe).

Time model: a call's documents carry absolute epoch-ms times. Its events are published in
compressed real time (`event_speed`): the snapshot at call time `t` is published at
`last - (last - t) / event_speed`, where `last` (the call's last state change, usually the final
wrap-up) is chosen equal to its real publication instant. Every time a document shows is
therefore in the past (or now) when it is published. Analytics details, recordings and
transcripts become available after configurable delays counted from the real instants of the
disconnect and the last wrap-up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simulator.model import Call

if TYPE_CHECKING:
    from simulator.variations import ScreenRecording

logger = logging.getLogger(__name__)

FORMAT_IDS = ("WAV", "WAV_ULAW", "WEBM", "OGG_VORBIS", "OGG_OPUS", "MP3")


@dataclass
class SimConfig:
    """Constructor knobs of the `Simulator` that shape availability and lifetimes."""

    token_ttl_s: float = 86_400.0
    heartbeat_s: float = 30.0
    channel_ttl_s: float = 86_400.0
    socket_closing_grace_s: float = 60.0
    details_delay_s: float = 2.0
    recording_delay_s: float = 1.0
    transcode_202_count: int = 1
    transcode_ms: int = 1_500  # estimatedTranscodeTimeMs announced with 202s
    transcript_delay_s: float = 3.0
    media_url_ttl_s: float = 600.0
    transcript_url_ttl_s: float = 600.0
    event_speed: float = 20.0
    archived_fraction: float = 0.0  # fraction of generated calls whose recordings are ARCHIVED
    attribute_events: bool = True  # a participant attributes PATCH publishes a new snapshot
    # -- variations of the real platform (simulator.variations) -----------------------------------
    metadata_delay_s: float = 0.0  # recording metadata is an empty list this long after the disconnect
    recording_flag: str = "mixed"  # analytics sessions[].recording: "mixed", "absent" or "present"
    screen_recording_fraction: float = 0.2  # agent calls that also have a screen recording
    screen_transcode_s: float = 3600.0  # a screen recording answers 202 this long (audio formats)
    deleted_fraction: float = 0.0  # calls whose recordings are DELETED
    error_fraction: float = 0.0  # calls whose recordings are in ERROR
    restoring_fraction: float = 0.0  # calls whose archived recordings are being restored (RESTORING)
    restore_s: float = 5.0  # a RESTORING recording becomes RESTORED after this long
    terminated_fraction: float = 0.3  # calls whose ACD/IVR legs end "terminated", not "disconnected"


@dataclass
class LiveCall:
    """A generated call and when (epoch seconds, real time) each part of it becomes visible."""

    call: Call
    seed: int
    disconnect_s: float  # real instant of the last disconnect (`call.end_ms` published)
    last_event_s: float  # real instant of the last state change (wrap-up)
    details_s: float
    recordings_s: float  # recordings become AVAILABLE (UPLOADING from disconnect_s)
    transcript_s: float
    archived: bool = False
    metadata_s: float = 0.0  # recording metadata is listed from this instant (>= disconnect_s)
    fate: str = "AVAILABLE"  # final file state of the audio recordings (ARCHIVED/DELETED/ERROR/RESTORING)
    restored_s: float = 0.0  # RESTORING recordings become RESTORED at this instant
    recording_flag: str = "present"  # analytics sessions[].recording of this call: present/absent
    terminated_legs: bool = False  # ACD/IVR legs end in the "terminated" call state
    campaign: bool = False  # an outbound dialer (campaign) call: analytics carries the dialer fields
    screen_recordings: tuple[ScreenRecording, ...] = ()
    state_overrides: dict[str, tuple[str, float, str]] = field(default_factory=dict)
    """recording id -> (state, until_s, then): a recording forced into a file state by a test."""
    events_total: int = 0  # snapshot instants scheduled
    events_published: int = 0
    queue_entered_ms: dict[str, int] = field(default_factory=dict)  # queue id -> when it was reached
    queue_snapshots: dict[str, int] = field(default_factory=dict)  # queue id -> snapshots on its topics
    done: threading.Event = field(default_factory=threading.Event)
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)  # participant id -> written
    transcode_requests: dict[tuple[str, str], int] = field(default_factory=dict)
    details_cache: dict[str, Any] | None = None  # the final analytics document, rendered once

    @property
    def conversation_id(self) -> str:
        return self.call.conversation_id

    def started(self, now_s: float) -> bool:
        """Whether the conversation exists yet (its first event instant has passed)."""
        return now_s * 1000 >= self.call.start_ms

    def recording_state(self, now_s: float) -> str | None:
        """None (no recording listed yet), "UPLOADING", or the call's final audio file state:
        "AVAILABLE", "ARCHIVED", "DELETED", "ERROR", "RESTORING" (then "RESTORED")."""
        if now_s < max(self.disconnect_s, self.metadata_s):
            return None
        if now_s < self.recordings_s:
            return "UPLOADING"
        if self.archived:
            return "ARCHIVED"
        if self.fate == "RESTORING":
            return "RESTORING" if now_s < self.restored_s else "RESTORED"
        return self.fate

    def file_state(self, recording_id: str, now_s: float) -> str | None:
        """The file state of one recording (a test's override first, then the call's)."""
        override = self.state_overrides.get(recording_id)
        if override is not None and self.recording_state(now_s) is not None:
            state, until_s, then = override
            return state if now_s < until_s else then
        return self.recording_state(now_s)


def compressed_instant_s(t_ms: int, last_ms: int, speed: float) -> float:
    """Real publication instant (epoch s) of the snapshot at call time `t_ms`."""
    return (last_ms - (last_ms - t_ms) / speed) / 1000.0


class CallBook:
    """Every call of the run, by conversation id. Calls of the simulated past (`simulator.history`)
    are not stored here: `set_lazy` installs their resolver, and a write to one pins it there."""

    def __init__(self) -> None:
        self._calls: dict[str, LiveCall] = {}
        self._lock = threading.RLock()
        self._resolve: Callable[[str], LiveCall | None] | None = None
        self._pin: Callable[[str], None] | None = None

    def set_lazy(self, resolve: Callable[[str], LiveCall | None], pin: Callable[[str], None]) -> None:
        self._resolve, self._pin = resolve, pin

    def add(self, live: LiveCall) -> None:
        with self._lock:
            self._calls[live.conversation_id] = live

    def get(self, conversation_id: str) -> LiveCall | None:
        with self._lock:
            live = self._calls.get(conversation_id)
        if live is None and self._resolve is not None:
            live = self._resolve(conversation_id)
        return live

    def _written(self, conversation_id: str) -> LiveCall:
        live = self.get(conversation_id)
        if live is None:
            raise KeyError(conversation_id)
        if conversation_id not in self._calls and self._pin is not None:
            self._pin(conversation_id)
        return live

    def visible(self, conversation_id: str, now_s: float | None = None) -> LiveCall | None:
        """The call if it has started by now (the API does not know future calls)."""
        live = self.get(conversation_id)
        if live is None or not live.started(time.time() if now_s is None else now_s):
            return None
        return live

    def all(self) -> list[LiveCall]:
        with self._lock:
            return list(self._calls.values())

    def truth(self) -> dict[str, Call]:
        with self._lock:
            return {cid: lc.call for cid, lc in self._calls.items()}

    def set_attributes(
        self, conversation_id: str, participant_id: str, attrs: dict[str, str]
    ) -> dict[str, str]:
        with self._lock:
            live = self._written(conversation_id)
            merged = live.attributes.setdefault(participant_id, {})
            merged.update(attrs)
            return dict(merged)

    def attributes(self, conversation_id: str) -> dict[str, dict[str, str]]:
        live = self.get(conversation_id)
        with self._lock:
            return {} if live is None else {pid: dict(a) for pid, a in live.attributes.items()}

    def count_transcode_request(self, conversation_id: str, recording_id: str, format_id: str) -> int:
        """Count one media request for (recording, format); returns how many came before it."""
        with self._lock:
            live = self._written(conversation_id)
            key = (recording_id, format_id)
            before = live.transcode_requests.get(key, 0)
            live.transcode_requests[key] = before + 1
            return before
