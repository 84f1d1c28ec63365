"""Fault injection knobs, settable per test and at run time (`sim.faults.rate_429 = 0.2`).

Every knob is a plain attribute guarded by a lock; random decisions come from a seeded
generator so a test run is reproducible. Transport-level faults (429, 5xx, slowness, 403 for
missing permissions) apply to `/api/v2/...` paths only, never to `/oauth/token`, the media or
transcript downloads, so a fault test cannot make the harness itself flaky. Actions that
touch live sockets (`drop_websockets`, `send_socket_closing`) and tokens (`revoke_tokens`) are
delegated to callbacks the `Simulator` installs.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

FIVE_XX = (502, 503, 504)

_KNOBS: dict[str, Any] = {
    "rate_429": 0.0,  # fraction of API requests answered 429 with Retry-After
    "retry_after_s": 1,  # the Retry-After value of injected 429s
    "rate_5xx": 0.0,  # fraction of API requests answered 502/503/504
    "slow_ms": 0,  # added latency on every API request
    "extra_202": 0,  # additional 202s per (recording, format) on top of transcode_202_count
    "expire_media_urls": False,  # media and transcript URLs are expired as soon as they are issued
    "stop_heartbeats": False,  # the WebSocket stops sending channel.metadata heartbeats
    "transcripts_never": False,  # transcripts never become ready (404 forever)
    "corrupt_media": False,  # served media bytes are corrupted (same length)
    "forbidden_paths": frozenset(),  # path prefixes answered 403 missing.permissions
    "fault_paths": frozenset(),  # if non-empty: 429/5xx/slow only for these path prefixes
    "enforce_rate_limit": False,  # answer 429 once a token exceeds inin-ratelimit-allowed per minute
    "loose_transcript_json": False,  # transcript documents carry trailing commas (like Genesys' sample)
}


@dataclass(frozen=True)
class TransportFault:
    """What the transport must do instead of (or before) handling a request."""

    status: int | None = None  # answer with this status (429, 5xx, 403) instead of handling
    delay_s: float = 0.0  # sleep before answering
    retry_after_s: int = 0


class Faults:
    """The knobs. Assign attributes to change behaviour at once; `reset()` restores defaults."""

    def __init__(self, seed: int = 0) -> None:
        object.__setattr__(self, "_lock", threading.RLock())
        object.__setattr__(self, "_rng", random.Random(f"faults-{seed}"))
        object.__setattr__(self, "_actions", {})
        object.__setattr__(self, "_values", dict(_KNOBS))

    # -- knobs --------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name in values:
            with object.__getattribute__(self, "_lock"):
                return values[name]
        raise AttributeError(f"Faults has no knob {name!r}; knobs: {sorted(values)}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _KNOBS:
            raise AttributeError(f"Faults has no knob {name!r}; knobs: {sorted(_KNOBS)}")
        value = _validate(name, value)
        with self._lock:
            self._values[name] = value
        logger.info("simulator fault %s set to %r", name, value)

    def reset(self) -> None:
        """Every knob back to its default (no faults)."""
        with self._lock:
            self._values.clear()
            self._values.update(_KNOBS)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._values)

    # -- actions ------------------------------------------------------------------------
    def install_action(self, name: str, action: Callable[..., Any]) -> None:
        self._actions[name] = action

    def drop_websockets(self) -> int:
        """Close every notification WebSocket abruptly (no close handshake). Returns how many."""
        return int(self._actions["drop_websockets"]())

    def send_socket_closing(self) -> int:
        """Publish `v2.system.socket_closing` on every socket, then close them after the grace period."""
        return int(self._actions["send_socket_closing"]())

    def send_system_message(
        self, system_topic_type: str = "subscription_changed", reason: str | None = None
    ) -> int:
        """Publish a `v2.system.<systemTopicType>` message on every socket (sockets stay open)."""
        return int(self._actions["send_system_message"](system_topic_type, reason))

    def revoke_tokens(self) -> int:
        """Revoke every issued access token: API calls with them get 401."""
        return int(self._actions["revoke_tokens"]())

    # -- decisions (plain logic, used by the transport) ----------------------------------
    def transport_fault(self, path: str) -> TransportFault | None:
        """The fault to apply to one request for `path`, or None. Draws from the seeded RNG."""
        if not path.startswith("/api/v2/"):
            return None
        with self._lock:
            v = self._values
            if any(path.startswith(p) for p in v["forbidden_paths"]):
                return TransportFault(status=403)
            if v["fault_paths"] and not any(path.startswith(p) for p in v["fault_paths"]):
                return None
            delay = v["slow_ms"] / 1000.0
            if v["rate_429"] and self._rng.random() < v["rate_429"]:
                return TransportFault(status=429, delay_s=delay, retry_after_s=int(v["retry_after_s"]))
            if v["rate_5xx"] and self._rng.random() < v["rate_5xx"]:
                return TransportFault(status=self._rng.choice(FIVE_XX), delay_s=delay)
            if delay:
                return TransportFault(delay_s=delay)
        return None


def corrupt(chunk: bytes, offset: int) -> bytes:
    """Deterministically corrupt a chunk of media (every 7th byte flipped) keeping its length."""
    data = bytearray(chunk)
    start = (-offset) % 7
    for i in range(start, len(data), 7):
        data[i] ^= 0xA5
    return bytes(data)


def _validate(name: str, value: Any) -> Any:
    if name in ("rate_429", "rate_5xx"):
        value = float(value)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} is a fraction between 0 and 1, got {value}")
        return value
    if name in ("slow_ms", "extra_202", "retry_after_s"):
        value = int(value)
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
        return value
    if name in ("forbidden_paths", "fault_paths"):
        if isinstance(value, str):
            value = [value]
        return frozenset(str(p) for p in value)
    return bool(value)
