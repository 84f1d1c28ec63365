"""Runs `run.py service` as a child process, the way a service manager does, and watches its log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class ServiceProcess:
    def __init__(self, command: Sequence[str], *, cwd: Path, env: dict[str, str], log: Path) -> None:
        self.log_path = log
        self._out = log.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            list(command), cwd=cwd, env=env, stdout=self._out, stderr=subprocess.STDOUT, text=True
        )

    def text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, needle: str, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text():
                return True
            if self.process.poll() is not None:
                return needle in self.text()
            time.sleep(0.1)
        return False

    def signal(self, signum: int = signal.SIGINT) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        finally:
            self._out.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._out.close()


def python_env(**extra: str) -> dict[str, str]:
    """The test's environment with the repository first on the import path (the service imports
    this worktree's code, as `run.py` from the install directory does)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLEXPORT_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


def run_py() -> list[str]:
    return [sys.executable, str(ROOT / "run.py")]
