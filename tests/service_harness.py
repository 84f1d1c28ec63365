"""Runs the real service (actors, HTTP, WebSocket, process pool) against an in-process simulator."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from genesys.credentials import Credentials
from service.runtime import Service, build_client, build_deps
from service.settings import Settings


def profile(name: str, root: Path, **keys: Any) -> dict[str, Any]:
    doc = {
        "Name": name,
        "Active": True,
        "DestinationRoot": str(root),
        "DirectoryStructureMode": "NoSubdirectory",
    }
    doc.update(keys)
    return doc


def document(*profiles: dict[str, Any], reload_s: int = 300) -> str:
    return json.dumps({"ConfigReloadIntervalSeconds": reload_s, "Profiles": list(profiles)})


class Harness:
    def __init__(self, sim: Any, tmp_path: Path, *, license_checker: Any = None, **settings: Any) -> None:
        self.sim = sim
        self.files: list[Any] = []  # messages.pipeline.FileWritten
        self.lock = threading.Lock()
        base = Settings(
            api_url=sim.api_url,
            state_dir=tmp_path / "state",
            log_dir=None,
            heartbeat_s=sim.config.heartbeat_s,
            dsp_workers=2,
            transcript_wait_s=60.0,
            recording_wait_s=60.0,
            no_recording_after_s=4.0,
            shutdown_timeout_s=20.0,
        )
        self.settings = replace(base, **settings)
        self.client = build_client(self.settings, Credentials(sim.client_id, sim.client_secret))
        self.deps = build_deps(
            self.settings, self.client, license_checker=license_checker, on_file_written=self._written
        )
        self.listener: Any = None
        factory = self.deps.listener_factory

        def capture(**kwargs: Any) -> Any:
            self.listener = factory(**kwargs)
            return self.listener

        self.deps.listener_factory = capture
        self.service = Service(self.deps)

    def _written(self, written: Any) -> None:
        with self.lock:
            self.files.append(written)

    def start(self, wait_subscribed: bool = True) -> Harness:
        self.service.start()
        if wait_subscribed:
            assert self.wait(
                lambda: (
                    self.service.status().get("topics")
                    and self.service.status().get("websocket") == "connected"
                ),
                30,
            ), self.service.status()
        return self

    def subscribed(self, timeout: float = 30.0) -> bool:
        """Every notification channel is connected and its subscriptions are applied."""
        return self.listener is not None and self.listener.wait_connected(timeout)

    def stop(self) -> None:
        self.service.drain(10.0)

    def wait(self, predicate: Any, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return False

    def job_state(self, conversation_id: str) -> str | None:
        job = self.deps.ledger.job(conversation_id)
        return job.state if job else None

    def wait_done(self, conversation_ids: list[str], timeout: float = 90.0) -> dict[str, str | None]:
        self.wait(lambda: all(self.job_state(c) in ("done", "failed") for c in conversation_ids), timeout)
        return {c: self.job_state(c) for c in conversation_ids}

    def files_for(self, conversation_id: str, profile: str | None = None) -> list[Path]:
        with self.lock:
            return [
                w.path
                for w in self.files
                if w.conversation_id == conversation_id and (profile is None or w.profile == profile)
            ]
