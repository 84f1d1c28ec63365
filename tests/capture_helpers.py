"""Helpers for the capture and replay tests: run.py as an operator runs it, files and statuses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from licensing.demo import write_demo_license
from service.license_check import LICENSE_FILE

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "captures"


def settings_file(tmp: Path, api_url: str, name: str) -> Path:
    """A settings file of its own (state, logs) for one run against ``api_url``; one demo license."""
    license_dir = tmp / "license"
    if not (license_dir / LICENSE_FILE).exists():
        write_demo_license(license_dir / LICENSE_FILE)
    path = tmp / f"{name}.toml"
    path.write_text(
        f'[genesys]\napi_url = "{api_url}"\n'
        f'[service]\nstate_dir = "{(tmp / name / "state").as_posix()}"\n'
        f'log_dir = "{(tmp / name / "logs").as_posix()}"\n'
        "transcript_wait_seconds = 30\nrecording_wait_seconds = 30\n"
        # the simulator's stereo layout is the documented one (verified), so one-side exports need no
        # detection (with "auto" a call without IVR, queue or hold audio is refused, as it should be)
        '[audio]\nchannel_layout = "default"\n'
        f'[license]\ndirectory = "{license_dir.as_posix()}"\nntp_servers = []\n'
    )
    return path


def run_py(
    args: list[str], tmp: Path, api_url: str, client_id: str, secret: str, name: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CALLEXPORT_CLIENT_ID": client_id, "CALLEXPORT_CLIENT_SECRET": secret}
    return subprocess.run(
        [sys.executable, "run.py", *args, "--settings", str(settings_file(tmp, api_url, name))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def export(
    tmp: Path, api: dict[str, str], conversation_id: str, name: str
) -> subprocess.CompletedProcess[str]:
    result = run_py(
        ["export", conversation_id, "--timeout", "90"],
        tmp,
        api["API_URL"],
        api["CLIENT_ID"],
        api["CLIENT_SECRET"],
        name,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def sim_api(sim: Any) -> dict[str, str]:
    return {"API_URL": sim.api_url, "CLIENT_ID": sim.client_id, "CLIENT_SECRET": sim.client_secret}


@contextmanager
def simulate(*args: str):
    """`python run.py simulate ARGS` in the background; yields its announced lines (API_URL, ...)."""
    proc = subprocess.Popen(
        [sys.executable, "run.py", "simulate", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines: dict[str, str] = {}
        while "CLIENT_SECRET" not in lines or ("--replay" in args and "REPLAYED" not in lines):
            line = proc.stdout.readline()  # type: ignore[union-attr]
            assert line, f"run.py simulate ended: {proc.stderr.read()[-3000:]}"  # type: ignore[union-attr]
            key, _, value = line.strip().partition("=")
            lines[key] = value
        yield lines
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def token(api: dict[str, str]) -> str:
    return requests.post(
        f"{api['API_URL']}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(api["CLIENT_ID"], api["CLIENT_SECRET"]),
        timeout=10,
    ).json()["access_token"]


def api_get(api: dict[str, str], path: str) -> Any:
    response = requests.get(
        f"{api['API_URL']}{path}", headers={"Authorization": f"Bearer {token(api)}"}, timeout=10
    )
    response.raise_for_status()
    return response.json()


def statuses(conversation: dict[str, Any]) -> dict[str, Any]:
    """The export status the service wrote back (participant attributes), without times and roots;
    a file list as its number of files (the names shown follow completion order and are cut at 256
    characters with "(+N more)")."""
    out: dict[str, Any] = {}
    for participant in conversation.get("participants") or []:
        for key, value in (participant.get("attributes") or {}).items():
            if key.startswith("callexport.") and key.endswith(".status"):
                out[key] = value
            elif key.startswith("callexport.") and key.endswith(".files"):
                names = [n for n in value.split(";") if n]
                more = sum(int(m) for n in names for m in re.findall(r"^\(\+(\d+) more\)$", n))
                out[key] = len([n for n in names if not n.startswith("(+")]) + more
    return out


def files(directory: Path) -> dict[str, Path]:
    return {str(p.relative_to(directory)): p for p in sorted(directory.rglob("*")) if p.is_file()}
