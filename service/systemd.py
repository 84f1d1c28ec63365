"""The Linux service through systemd: the unit file, and `systemctl` to enable, start and stop it.

The unit runs `run.py service --settings FILE` as the service user with `KillSignal=SIGINT` (the
service drains on it), `TimeoutStopSec` longer than the drain, `Restart=on-failure` (a crash or a
supervisor giving up exits non-zero), `StateDirectory=`/`LogsDirectory=` (``/var/lib/callexport`` and
``/var/log/callexport``, created for and owned by the service user, passed to the service as
``CALLEXPORT_STATE_DIR``/``CALLEXPORT_LOG_DIR``).
"""

from __future__ import annotations

import logging
import shlex
from pathlib import Path

from service.install import RESTART_DELAY_S, ServiceManagerError, ServiceSpec, run

logger = logging.getLogger(__name__)

UNIT_DIR = Path("/etc/systemd/system")


def unit_text(spec: ServiceSpec) -> str:
    user = spec.account or "callexport"
    exec_start = " ".join(shlex.quote(part) for part in spec.command)
    return f"""[Unit]
Description=callexport: Genesys Cloud call recording export
Documentation=file://{spec.directory}/docs/operations.md
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User={user}
WorkingDirectory={spec.directory}
StateDirectory={spec.name}
LogsDirectory={spec.name}
Environment=CALLEXPORT_STATE_DIR=/var/lib/{spec.name}
Environment=CALLEXPORT_LOG_DIR=/var/log/{spec.name}
ExecStart={exec_start}
# the service drains on SIGINT; only the main process gets it (it stops its own worker processes)
KillSignal=SIGINT
KillMode=mixed
# longer than [service] shutdown_timeout_seconds ({spec.shutdown_timeout_s:.0f} s) plus the actors' stop
TimeoutStopSec={spec.stop_timeout_s}
Restart=on-failure
RestartSec={RESTART_DELAY_S}

[Install]
WantedBy=multi-user.target
"""


def unit_path(name: str, unit_dir: Path = UNIT_DIR) -> Path:
    return unit_dir / f"{name}.service"


def install(spec: ServiceSpec, unit_dir: Path = UNIT_DIR) -> Path:
    path = unit_path(spec.name, unit_dir)
    try:
        path.write_text(unit_text(spec), encoding="utf-8")
    except PermissionError:
        raise ServiceManagerError(
            f"cannot write {path}: run `python run.py service install` as root (sudo)"
        ) from None
    run(["systemctl", "daemon-reload"])
    run(["systemctl", "enable", "--now", spec.name])
    return path


def uninstall(name: str, unit_dir: Path = UNIT_DIR) -> None:
    run(["systemctl", "disable", "--now", name], check=False)
    unit_path(name, unit_dir).unlink(missing_ok=True)
    run(["systemctl", "daemon-reload"])


def start(name: str) -> None:
    run(["systemctl", "start", name])


def stop(name: str) -> None:
    run(["systemctl", "stop", name])


def status(name: str) -> str:
    result = run(["systemctl", "is-active", name], check=False)
    return (result.stdout or result.stderr).strip() or "unknown"
