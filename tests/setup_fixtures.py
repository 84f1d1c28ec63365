"""Helpers for the `run.py setup` tests: a simulator of an unprovisioned org, a file-backed keyring
(keyrings.alt, as tests/credentials_fixtures.py's tests do), and one setup run with its output."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring

import run
from simulator.app import Simulator

MUTATING = ("POST", "PUT", "PATCH", "DELETE")
APP_URL = "https://admin.example.com/callexport/"


@pytest.fixture
def file_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PlaintextKeyring]:
    """A keyring in a file under tmp_path, for this process and for service subprocesses."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    for name in ("CALLEXPORT_CLIENT_ID", "CALLEXPORT_CLIENT_SECRET", "CALLEXPORT_SETTINGS"):
        monkeypatch.delenv(name, raising=False)
    backend = PlaintextKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def bare_sim() -> Iterator[Simulator]:
    """An org `setup` has not touched (no system queue, no configuration table)."""
    with Simulator(
        seed=21,
        provisioned=False,
        event_speed=100,
        details_delay_s=0,
        recording_delay_s=0,
        transcript_delay_s=0,
    ) as sim:
        yield sim


@dataclass
class SetupRun:
    code: int
    out: str
    err: str
    changes: list[Any]  # the mutating API requests it made


def run_setup(
    sim: Simulator,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *extra: str,
    admin: bool = True,
    secret: str | None = None,
) -> SetupRun:
    """`run.py setup --non-interactive` as the simulator's admin client, in `workdir`."""
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("CALLEXPORT_ADMIN_CLIENT_SECRET", secret or sim.client_secret)
    before = len(sim.requests)
    argv = ["setup", "--non-interactive", "--region", sim.api_url, "--app-url", APP_URL]
    if admin:
        argv += ["--admin-client-id", sim.client_id]
    code = run.main([*argv, *extra])
    captured = capsys.readouterr()
    changes = [r for r in sim.requests[before:] if r.method in MUTATING and r.path.startswith("/api/v2/")]
    return SetupRun(code, captured.out, captured.err, changes)


def changed(result: SetupRun) -> list[str]:
    return sorted(f"{r.method} {r.path}" for r in result.changes)


def environ_without_sim() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CALLEXPORT_ADMIN")}
