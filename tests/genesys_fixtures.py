"""Helpers for the genesys/ tests that talk to the simulator over real HTTP and WebSocket."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from genesys.config import ClientConfig
from genesys.ratelimit import RateLimiter
from genesys.rest import GenesysClient


class FakeClock:
    """A clock for `RateLimiter(clock=..., sleep=...)`: sleeping moves it on."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.t += s


_clients: dict[int, list[GenesysClient]] = {}

FAST = {
    "heartbeat_s": 0.5,
    "event_speed": 60.0,
    "details_delay_s": 0.2,
    "recording_delay_s": 0.2,
    "transcript_delay_s": 0.5,
    "transcode_202_count": 1,
}


@contextmanager
def running_sim(**kwargs: Any) -> Iterator[Any]:
    from simulator.app import Simulator

    options = dict(FAST)
    options.update(kwargs)
    seed = options.pop("seed", 1)
    with Simulator(seed=seed, **options) as sim:
        try:
            yield sim
        finally:
            for client in _clients.pop(id(sim), []):
                client.close()  # release keep-alive connections before the simulator stops
            # Let the server see our sockets go before it aborts the rest: aborting a socket the
            # client is closing at the same moment can hang the simulator's shutdown.
            wait_for(lambda: sim.ws.connected_count() == 0, 3)


def make_client(sim: Any, **overrides: Any) -> GenesysClient:
    """A client for ``sim`` with fast retry settings and its own limiter (tests do not share budgets)."""
    options: dict[str, Any] = {
        "timeout_s": 10.0,
        "backoff_initial_s": 0.05,
        "backoff_max_s": 0.5,
        "max_retries": 6,
    }
    limiter = overrides.pop("limiter", None) or RateLimiter(overrides.pop("per_minute", 100_000))
    options.update(overrides)
    cfg = ClientConfig(sim.api_url, sim.client_id, sim.client_secret, **options)
    client = GenesysClient(cfg, limiter=limiter)
    _clients.setdefault(id(sim), []).append(client)
    return client


def requests_to(sim: Any, path_part: str, method: str | None = None) -> list[Any]:
    return [r for r in sim.requests if path_part in r.path and (method is None or r.method == method)]


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class EventSink:
    """Collects listener callbacks (thread-safe)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.states: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def on_event(self, topic: str, body: dict[str, Any]) -> None:
        with self._lock:
            self.events.append((topic, body))

    def on_state(self, state: str, detail: str) -> None:
        with self._lock:
            self.states.append((state, detail))

    def conversation_ids(self) -> set[str]:
        with self._lock:
            return {b.get("id") for _, b in self.events}

    def count(self) -> int:
        with self._lock:
            return len(self.events)
