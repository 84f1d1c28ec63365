"""`python run.py service install | uninstall | start | stop | status`: the service under the
operating system's service manager (NSSM on Windows, systemd on Linux).

`ServiceSpec` is everything both need: the command (this Python, `run.py service --settings FILE`),
the working directory, the account, where console output goes, and the stop timeout, which is longer
than the service's own drain (`[service] shutdown_timeout_seconds`) so a stop never cuts an export.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

INSTALL_DIR = Path(__file__).resolve().parent.parent
SERVICE_NAME = "callexport"
STOP_MARGIN_S = 30  # beyond the drain: the actors' stop and the process exit
RESTART_DELAY_S = 10


class ServiceManagerError(Exception):
    """The service manager is missing or refused (the message says what to do)."""


@dataclass(frozen=True)
class ServiceSpec:
    python: Path
    settings: Path
    name: str = SERVICE_NAME
    directory: Path = INSTALL_DIR
    account: str | None = None
    password: str | None = field(default=None, repr=False)
    log_dir: Path | None = None
    shutdown_timeout_s: float = 60.0

    @property
    def script(self) -> Path:
        return self.directory / "run.py"

    @property
    def arguments(self) -> list[str]:
        return [str(self.script), "service", "--settings", str(self.settings)]

    @property
    def command(self) -> list[str]:
        return [str(self.python), *self.arguments]

    @property
    def stop_timeout_s(self) -> int:
        return int(self.shutdown_timeout_s) + STOP_MARGIN_S


def spec_from_settings(
    settings_path: Path, *, account: str | None = None, python: Path | None = None, name: str = SERVICE_NAME
) -> ServiceSpec:
    from service.settings import load_settings  # noqa: PLC0415

    settings_path = settings_path.resolve()
    if not settings_path.is_file():
        raise ServiceManagerError(
            f"the settings file {settings_path} does not exist: run `python run.py setup` first, or give "
            "the file with --settings"
        )
    settings = load_settings(settings_path)
    log_dir = settings.log_dir if settings.log_dir.is_absolute() else INSTALL_DIR / settings.log_dir
    return ServiceSpec(
        python=python or Path(sys.executable),
        settings=settings_path,
        name=name,
        account=account,
        password=os.environ.get("CALLEXPORT_SERVICE_PASSWORD") or None,
        log_dir=log_dir,
        shutdown_timeout_s=settings.shutdown_timeout_s,
    )


def run(command: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a service-manager command; its output is returned, a failure raises with it."""
    logger.info("running %s", " ".join(command[:4]))
    try:
        result = subprocess.run(list(command), capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise ServiceManagerError(f"{command[0]} not found") from None
    if check and result.returncode != 0:
        output = (result.stderr or result.stdout).strip().replace("\0", "")
        raise ServiceManagerError(f"`{' '.join(command[:3])} …` failed (exit {result.returncode}): {output}")
    return result


def manager_for_platform(platform: str | None = None) -> str:
    platform = platform or sys.platform
    if platform.startswith("win"):
        return "nssm"
    if platform.startswith("linux"):
        return "systemd"
    raise ServiceManagerError(
        f"no service manager support on {platform}: run `python run.py service` yourself"
    )
