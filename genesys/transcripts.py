"""Fetch the Speech & Text Analytics transcripts of a conversation (client side), step by step.

* **Which communications.** The STA API is addressed by *communication* id. Only the voice
  communications of participants that talk — the customer (``customer``/``external``) first, as the
  official tutorial does, then the agents (``agent``/``user``) — can have a transcript; the ACD,
  IVR, flow and voicemail legs are never polled (`transcript_communication_ids`).
* **Every part.** ``.../communications/{id}/transcripturls`` returns one pre-signed URL per recording
  of the communication (SDK `TranscriptUrls.urls[]`, each a `SegmentUrl` with the recording
  reference), so transfers and multi-recording calls come back whole; the older ``.../transcripturl``
  returns a single document.
* **Raw bytes.** Each document is returned as the bytes the storage sent (`TranscriptPart.raw`):
  real documents are not always strict JSON, and parsing belongs to the caller's tolerant parser
  (``transcripts.parse.load_transcript``). Nothing here parses them.
* **Cost.** A 404 means "no transcript (yet)". The primary (customer) communication is polled with
  `reliability.backoff.POLL` (2 s doubling to 5 min) and at most ``max_requests`` API requests over
  the whole wait (default 15) — a call that never gets a transcript costs no more than that. Once the
  primary transcript exists, every other communication that can have one is asked once.

`TranscriptFetcher.step()` returns `TranscriptsReady`, `Waiting(delay_s)`, `NotAvailable` (no
transcript within the budget or deadline; distinct from an error) or `Failed`. `state()` is a
JSON-able dict (the budget spent, the wall-clock start, the backoff attempt) and
`TranscriptFetcher.restore(client, state)` rebuilds the fetcher after a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reliability.backoff import API, POLL, Backoff

from .errors import (
    Forbidden,
    GenesysError,
    GenesysUnavailable,
    NotFound,
    RateLimited,
    ServerError,
    TransientError,
)
from .media import MediaCorrupt, MediaUrlExpired, describe_url, fetch_bytes
from .rest import GenesysClient

logger = logging.getLogger(__name__)

STATE_VERSION = 1
CUSTOMER_PURPOSES = ("customer", "external")
AGENT_PURPOSES = ("agent", "user")
TRANSCRIBED_PURPOSES = CUSTOMER_PURPOSES + AGENT_PURPOSES
"""Participants whose voice communication can carry an STA transcript. Genesys transcribes the
recorded conversation between the customer and the internal side; ACD, IVR, flow and voicemail legs
have no recording of their own (help "Work with a voice transcript"; docs/genesys.md)."""
DEFAULT_MAX_REQUESTS = 15


def transcript_communication_ids(document: dict[str, Any]) -> list[str]:
    """Voice communication ids that can have a transcript, customer first, then agents.

    Accepts a REST conversation or a ``...conversations`` queue event (``participants[].calls[].id``)
    or analytics details (``participants[].sessions[].sessionId`` of ``mediaType == "voice"``). ACD,
    IVR, workflow, voicemail and other legs are left out, as are callbacks, chats and screen shares.
    """
    ranked: list[tuple[int, int, str]] = []
    for index, participant in enumerate(document.get("participants") or []):
        if not isinstance(participant, dict):
            continue
        purpose = str(participant.get("purpose") or "").lower()
        if purpose not in TRANSCRIBED_PURPOSES:
            continue
        rank = 0 if purpose in CUSTOMER_PURPOSES else 1
        for call in participant.get("calls") or []:
            if isinstance(call, dict) and call.get("id"):
                ranked.append((rank, index, str(call["id"])))
        for session in participant.get("sessions") or []:
            if (
                isinstance(session, dict)
                and session.get("sessionId")
                and str(session.get("mediaType") or "voice") == "voice"
            ):
                ranked.append((rank, index, str(session["sessionId"])))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return list(dict.fromkeys(comm for _, _, comm in ranked))


communication_ids = transcript_communication_ids
"""The name `export.steps` uses; same function."""


@dataclass(frozen=True)
class TranscriptPart:
    """One transcript document: the raw bytes behind one URL of a communication's `TranscriptUrls`."""

    communication_id: str
    index: int
    recording_id: str | None
    raw: bytes


@dataclass(frozen=True)
class TranscriptsReady:
    """Every part of every communication that has a transcript; ``missing`` communications have none."""

    parts: tuple[TranscriptPart, ...]
    missing: tuple[str, ...] = ()

    @property
    def documents(self) -> dict[str, bytes]:
        """Raw documents keyed ``communicationId`` (one part) or ``communicationId#n`` (part n of a
        multi-recording communication), in order."""
        counts: dict[str, int] = {}
        for part in self.parts:
            counts[part.communication_id] = counts.get(part.communication_id, 0) + 1
        return {
            (
                p.communication_id
                if counts[p.communication_id] == 1
                else f"{p.communication_id}#{p.index + 1}"
            ): p.raw
            for p in self.parts
        }


@dataclass(frozen=True)
class Waiting:
    delay_s: float
    reason: str


@dataclass(frozen=True)
class NotAvailable:
    """No transcript appeared within the request budget or the deadline (transcription off, ...)."""

    reason: str


@dataclass(frozen=True)
class Failed:
    reason: str
    permanent: bool = True


TranscriptStep = TranscriptsReady | Waiting | NotAvailable | Failed


class TranscriptFetcher:
    """Step-wise, restorable: one ``transcripturls`` request per step until the primary communication
    has its transcript, then every part of every transcribed communication."""

    def __init__(
        self,
        client: GenesysClient,
        conversation_id: str,
        communication_ids: list[str],
        *,
        deadline_s: float = 3600.0,
        max_requests: int = DEFAULT_MAX_REQUESTS,
        backoff: Backoff = POLL,
        api: Backoff = API,
        clock: Callable[[], float] = time.time,
        state: dict[str, Any] | None = None,
    ) -> None:
        self.client = client
        self.conversation_id = conversation_id
        self.communication_ids = list(communication_ids)
        self.deadline_s = deadline_s
        self.max_requests = max_requests
        self.backoff, self.api = backoff, api
        self.clock = clock
        self.started_at: float | None = None
        self.requests = 0
        self.attempts = 0
        self.api_attempts = 0
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
    def _misses(self) -> int:
        return self.attempts

    @_misses.setter
    def _misses(self, value: int) -> None:
        self.attempts = int(value or 0)

    @property
    def _errors(self) -> int:
        return self.api_attempts

    @_errors.setter
    def _errors(self, value: int) -> None:
        self.api_attempts = int(value or 0)

    @property
    def spent(self) -> int:
        """Requests spent on this wait: counted, or (for a fetcher rebuilt from the backoff counters
        alone) one per wait that was returned."""
        return max(self.requests, self.attempts + self.api_attempts)

    # -- persistence ------------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "conversation_id": self.conversation_id,
            "communication_ids": list(self.communication_ids),
            "deadline_s": self.deadline_s,
            "max_requests": self.max_requests,
            "started_at": self.started_at,
            "requests": self.requests,
            "attempts": self.attempts,
            "api_attempts": self.api_attempts,
        }

    @classmethod
    def restore(cls, client: GenesysClient, state: dict[str, Any], **overrides: Any) -> TranscriptFetcher:
        """Rebuild from `state()`; ``overrides`` replace constructor arguments (policies, clock)."""
        kwargs: dict[str, Any] = {
            "deadline_s": state.get("deadline_s", 3600.0),
            "max_requests": state.get("max_requests", DEFAULT_MAX_REQUESTS),
        }
        kwargs.update(overrides)
        return cls(
            client,
            str(state["conversation_id"]),
            list(state.get("communication_ids") or []),
            state=state,
            **kwargs,
        )

    def _load(self, state: dict[str, Any]) -> None:
        if state.get("version") != STATE_VERSION:
            raise ValueError(
                f"transcript fetcher state version {state.get('version')!r} is not {STATE_VERSION}"
            )
        if state.get("conversation_id") not in (None, self.conversation_id):
            raise ValueError(
                f"transcript fetcher state is for conversation {state.get('conversation_id')}, "
                f"not {self.conversation_id}"
            )
        started = state.get("started_at")
        self.started_at = float(started) if isinstance(started, int | float) else None
        self.requests = int(state.get("requests") or 0)
        self.attempts = int(state.get("attempts") or 0)
        self.api_attempts = int(state.get("api_attempts") or 0)

    # -- stepping ---------------------------------------------------------------------------------
    def step(self) -> TranscriptStep:
        now = self.clock()
        if self.started_at is None:
            self.started_at = now
        elapsed = max(0.0, now - self.started_at)
        if not self.communication_ids:
            return NotAvailable("the conversation has no communication that can have a transcript")
        if self.spent >= self.max_requests:
            return NotAvailable(self._spent())
        primary = self.communication_ids[0]
        try:
            parts = self._fetch(primary)
        except NotFound:
            self.api_attempts = 0
            return self._wait(elapsed, "poll", "transcript not available yet (404)")
        except Forbidden as exc:
            return Failed(f"permission denied reading transcripts: {exc}")
        except (TransientError, RateLimited, GenesysUnavailable, ServerError, MediaCorrupt) as exc:
            return self._wait(elapsed, "api", f"transcript service unavailable: {exc}")
        except GenesysError as exc:
            return Failed(f"transcript request failed: {exc}")
        if not parts:
            return self._wait(elapsed, "poll", "transcript has no document yet (empty urls)")
        found = list(parts)
        missing: list[str] = []
        for comm in self.communication_ids[1:]:
            try:
                more = self._fetch(comm)
            except NotFound:
                more = []
            except Forbidden as exc:
                return Failed(f"permission denied reading transcripts: {exc}")
            except (TransientError, RateLimited, GenesysUnavailable, ServerError, MediaCorrupt) as exc:
                return self._wait(elapsed, "api", f"transcript service unavailable: {exc}")
            except GenesysError as exc:
                return Failed(f"transcript request failed: {exc}")
            if more:
                found.extend(more)
            else:
                missing.append(comm)
        logger.info(
            "conversation %s: %d transcript document(s) of %d communication(s) fetched",
            self.conversation_id,
            len(found),
            len(self.communication_ids) - len(missing),
        )
        return TranscriptsReady(tuple(found), tuple(missing))

    def _spent(self) -> str:
        return f"no transcript after {self.spent} request(s) (the budget is {self.max_requests})"

    def _wait(self, elapsed: float, kind: str, reason: str) -> TranscriptStep:
        if kind == "api":
            self.api_attempts += 1
            delay = self.api.delay(self.api_attempts)
        else:
            self.attempts += 1
            delay = self.backoff.delay(self.attempts)
        if self.spent >= self.max_requests:
            return NotAvailable(f"{self._spent()}: {reason}")
        if elapsed + delay > self.deadline_s:
            return NotAvailable(f"no transcript within {self.deadline_s:.0f}s ({reason})")
        return Waiting(delay, reason)

    def _urls(self, comm: str) -> list[tuple[str | None, str]]:
        self.requests += 1
        body = self.client.get_transcript_urls(self.conversation_id, comm)
        out: list[tuple[str | None, str]] = []
        for item in body.get("urls") or []:
            if isinstance(item, dict) and item.get("url"):
                recording = item.get("recording")
                rid = recording.get("id") if isinstance(recording, dict) else None
                out.append((str(rid) if rid else None, str(item["url"])))
        return out

    def _fetch(self, comm: str) -> list[TranscriptPart]:
        """Every part of one communication's transcript, as raw bytes (one URL renewal allowed)."""
        urls = self._urls(comm)
        parts: list[TranscriptPart] = []
        renewed = False
        index = 0
        while index < len(urls):
            rid, url = urls[index]
            try:
                raw = fetch_bytes(url, timeout_s=self.client.config.timeout_s)
            except MediaUrlExpired:
                if renewed:
                    raise
                logger.info(
                    "conversation %s: transcript URL %s expired; requesting new ones",
                    self.conversation_id,
                    describe_url(url),
                )
                renewed = True
                urls = self._urls(comm)
                parts.clear()
                index = 0
                continue
            parts.append(TranscriptPart(comm, index, rid, raw))
            index += 1
        return parts

    def wait(self, stop: threading.Event | None = None) -> TranscriptsReady | NotAvailable | Failed:
        """Blocking loop over `step()` for helper threads, bounded by the budget and ``deadline_s``."""
        waiter = stop or threading.Event()
        while True:
            result = self.step()
            if not isinstance(result, Waiting):
                return result
            if waiter.wait(result.delay_s):
                return Failed("stopped", permanent=False)
