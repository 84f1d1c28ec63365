"""Helpers for the simulator protocol tests: an authenticated session and a WebSocket reader."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
import websocket

from simulator.app import Simulator

FAST = {
    "event_speed": 400.0,
    "details_delay_s": 0.0,
    "recording_delay_s": 0.0,
    "transcript_delay_s": 0.0,
    "heartbeat_s": 30.0,
}


def token(sim: Simulator) -> str:
    r = requests.post(
        f"{sim.login_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(sim.client_id, sim.client_secret),
        timeout=10,
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


class Api:
    """A bearer-authenticated `requests` session against a simulator."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token(sim)}"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.sim.api_url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        r = self.call(method, path, **kwargs)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text[:500]}"
        return r.json() if r.content else None

    def channel(self, topics: list[str]) -> dict[str, Any]:
        ch = self.ok("POST", "/api/v2/notifications/channels")
        self.ok(
            "PUT",
            f"/api/v2/notifications/channels/{ch['id']}/subscriptions",
            json=[{"id": t} for t in topics],
        )
        return ch


class SocketReader:
    """Reads every frame of one notification WebSocket on a thread."""

    def __init__(self, connect_uri: str) -> None:
        self.ws = websocket.create_connection(connect_uri, timeout=10)
        self.messages: list[dict[str, Any]] = []
        self.closed = threading.Event()
        self.close_status: int | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                opcode, data = self.ws.recv_data(control_frame=False)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    if len(data) >= 2:
                        self.close_status = int.from_bytes(data[:2], "big")
                    break
                if opcode == websocket.ABNF.OPCODE_TEXT:
                    with self._lock:
                        self.messages.append(json.loads(data.decode()))
        except Exception:
            pass
        finally:
            self.closed.set()
            try:
                self.ws.shutdown()
            except Exception:
                pass

    def send(self, obj: dict[str, Any]) -> None:
        self.ws.send(json.dumps(obj))

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.messages)

    def topics(self) -> list[str]:
        return [m["topicName"] for m in self.snapshot()]

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            for m in self.snapshot():
                if predicate(m):
                    return m
            time.sleep(0.02)
        raise AssertionError(f"no matching frame within {timeout} s; got topics {self.topics()[-10:]}")

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass


def wait_until(condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.02) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def queue_topics(sim: Simulator, names: list[str] | None = None) -> list[str]:
    queues = [q for q in sim.org.all_queues() if names is None or q.name in names]
    return [f"v2.routing.queues.{q.id}.conversations{s}" for q in queues for s in ("", ".calls")]
