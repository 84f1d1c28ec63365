"""Fetch the Speech & Text Analytics transcripts of a conversation (client side).

The STA API is addressed by *communication* id: the customer participant's call id first (what
the official tutorial uses), then any other call ids of the conversation. A 404 means "no
transcript (yet)" — transcripts can appear minutes after the call — and is kept distinct from
errors. The transcript document itself is behind a pre-signed URL (valid ~10 minutes), fetched
without the bearer header; an expired URL is requested again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import Forbidden, GenesysError, GenesysUnavailable, NotFound, RateLimited, TransientError
from .media import MediaCorrupt, MediaUrlExpired, fetch_bytes
from .rest import GenesysClient

logger = logging.getLogger(__name__)

CUSTOMER_PURPOSES = ("customer", "external")


def communication_ids(document: dict[str, Any]) -> list[str]:
    """Call communication ids of a conversation, customer first.

    Accepts a REST conversation or a ``...conversations`` queue event (``participants[].calls[].id``)
    or analytics details (``participants[].sessions[].sessionId`` of ``mediaType == "voice"``). The
    flat ``.calls`` event shape carries no communication ids: use the REST conversation then.
    """
    ranked: list[tuple[int, int, str]] = []
    for index, participant in enumerate(document.get("participants") or []):
        if not isinstance(participant, dict):
            continue
        purpose = str(participant.get("purpose") or "").lower()
        rank = 0 if purpose in CUSTOMER_PURPOSES else 1
        for call in participant.get("calls") or []:
            if isinstance(call, dict) and call.get("id"):
                ranked.append((rank, index, str(call["id"])))
        for session in participant.get("sessions") or []:
            if (
                isinstance(session, dict)
                and session.get("sessionId")
                and str(session.get("mediaType", "voice")) == "voice"
            ):
                ranked.append((rank, index, str(session["sessionId"])))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return list(dict.fromkeys(comm for _, _, comm in ranked))


@dataclass(frozen=True)
class TranscriptsReady:
    """``documents`` maps communication id -> STA transcript document: the decoded dict, or the bytes
    exactly as served when they are not strict JSON (`transcripts.parse.load_transcript` reads both
    and recovers what can be recovered, e.g. the trailing comma of Genesys' own published sample)."""

    documents: dict[str, dict[str, Any] | bytes]
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Waiting:
    delay_s: float
    reason: str


@dataclass(frozen=True)
class NotAvailable:
    """No transcript appeared before the deadline (transcription off, not recorded, ...)."""

    reason: str


@dataclass(frozen=True)
class Failed:
    reason: str
    permanent: bool = True


TranscriptStep = TranscriptsReady | Waiting | NotAvailable | Failed


@dataclass
class TranscriptFetcher:
    """Step-wise: one round of transcript URL requests per `step()`.

    Ready as soon as the primary (customer) communication's transcript is fetched; the other
    communications are tried in the same round and included when present.
    """

    client: GenesysClient
    conversation_id: str
    communication_ids: list[str]
    deadline_s: float = 1800.0
    first_delay_s: float = 5.0
    max_delay_s: float = 120.0
    clock: Callable[[], float] = time.monotonic
    _started: float | None = field(default=None, init=False)
    _docs: dict[str, dict[str, Any] | bytes] = field(default_factory=dict, init=False)
    _misses: int = field(default=0, init=False)
    _errors: int = field(default=0, init=False)

    def step(self) -> TranscriptStep:
        now = self.clock()
        if self._started is None:
            self._started = now
        elapsed = now - self._started
        if not self.communication_ids:
            return NotAvailable("the conversation has no call communication")
        not_found = 0
        for comm in self.communication_ids:
            if comm in self._docs:
                continue
            try:
                doc = self._fetch(comm)
            except NotFound:
                not_found += 1
                continue
            except Forbidden as exc:
                return Failed(f"permission denied reading transcripts: {exc}")
            except (TransientError, RateLimited, GenesysUnavailable, MediaCorrupt) as exc:
                self._errors += 1
                return self._wait(
                    elapsed,
                    min(self.max_delay_s, 2.0 * self._errors),
                    f"transcript service unavailable: {exc}",
                )
            except GenesysError as exc:
                return Failed(f"transcript request failed: {exc}")
            self._docs[comm] = doc
        primary = self.communication_ids[0]
        if primary in self._docs or (self._docs and not_found == 0):
            missing = tuple(c for c in self.communication_ids if c not in self._docs)
            logger.info("conversation %s: %d transcript(s) fetched", self.conversation_id, len(self._docs))
            return TranscriptsReady(dict(self._docs), missing)
        self._misses += 1
        delay = min(self.max_delay_s, self.first_delay_s * 1.5 ** (self._misses - 1))
        return self._wait(elapsed, delay, "transcript not available yet (404)")

    def _wait(self, elapsed: float, delay: float, reason: str) -> TranscriptStep:
        if elapsed + delay > self.deadline_s:
            if self._docs:
                missing = tuple(c for c in self.communication_ids if c not in self._docs)
                return TranscriptsReady(dict(self._docs), missing)
            return NotAvailable(f"no transcript within {self.deadline_s:.0f}s ({reason})")
        return Waiting(delay, reason)

    def _fetch(self, comm: str) -> dict[str, Any] | bytes:
        for attempt in (1, 2):
            url = self.client.get_transcript_url(self.conversation_id, comm)
            try:
                data = fetch_bytes(url, timeout_s=self.client.config.timeout_s)
            except MediaUrlExpired:
                if attempt == 2:
                    raise
                logger.info(
                    "conversation %s: transcript URL expired; requesting a new one", self.conversation_id
                )
                continue
            try:
                doc = json.loads(data)
            except ValueError:
                return data  # not strict JSON: the tolerant reader decides (and names the problem)
            if not isinstance(doc, dict):
                raise MediaCorrupt("transcript", 200, message="transcript document is not a JSON object")
            return doc
        raise AssertionError("unreachable")

    def wait(self, stop: threading.Event | None = None) -> TranscriptsReady | NotAvailable | Failed:
        """Blocking loop over `step()` for helper threads, bounded by ``deadline_s``."""
        waiter = stop or threading.Event()
        while True:
            result = self.step()
            if not isinstance(result, Waiting):
                return result
            if waiter.wait(result.delay_s):
                return Failed("stopped", permanent=False)
