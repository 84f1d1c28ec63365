"""The Windows service through NSSM (nssm.cc): the exact `nssm` command lines, and running them.

Stop: NSSM's console method (Ctrl+C) only, waiting `stop_timeout_s` (the service drains on Ctrl+C;
`AppStopMethodSkip 6` skips WM_CLOSE and WM_QUIT, which a console process without a window ignores).
Console output goes to rotating files in the log directory; the process is restarted whenever it
exits without being asked to (after `AppRestartDelay`); start is delayed-automatic, after the network.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

from service.install import RESTART_DELAY_S, ServiceManagerError, ServiceSpec, run

logger = logging.getLogger(__name__)

DESCRIPTION = "Exports Genesys Cloud call recordings and transcripts (callexport)"
ROTATE_BYTES = 10 * 1024 * 1024


def find_nssm(given: Path | str | None = None) -> str:
    """`--nssm PATH`, else `nssm.exe`/`nssm` on the PATH; a clear error when there is none."""
    if given:
        path = Path(given)
        if not path.is_file():
            raise ServiceManagerError(f"--nssm {given}: no such file; give the full path of nssm.exe")
        return str(path)
    found = shutil.which("nssm.exe") or shutil.which("nssm")
    if not found:
        raise ServiceManagerError(
            "NSSM was not found on the PATH. Download it from https://nssm.cc/download, then put nssm.exe "
            "on the PATH or give its path with --nssm C:\\path\\to\\nssm.exe, and run this again"
        )
    return found


def install_commands(nssm: str, spec: ServiceSpec) -> list[list[str]]:
    name = spec.name
    console_log = str((spec.log_dir or spec.directory / "logs") / "service-console.log")
    commands = [
        [nssm, "install", name, str(spec.python)],
        [nssm, "set", name, "AppParameters", subprocess.list2cmdline(spec.arguments)],
        [nssm, "set", name, "AppDirectory", str(spec.directory)],
        [nssm, "set", name, "DisplayName", name],
        [nssm, "set", name, "Description", DESCRIPTION],
        [nssm, "set", name, "Start", "SERVICE_DELAYED_AUTO_START"],
        [nssm, "set", name, "AppStdout", console_log],
        [nssm, "set", name, "AppStderr", console_log],
        [nssm, "set", name, "AppRotateFiles", "1"],
        [nssm, "set", name, "AppRotateOnline", "1"],
        [nssm, "set", name, "AppRotateBytes", str(ROTATE_BYTES)],
        [nssm, "set", name, "AppStopMethodSkip", "6"],
        [nssm, "set", name, "AppStopMethodConsole", str(spec.stop_timeout_s * 1000)],
        [nssm, "set", name, "AppExit", "Default", "Restart"],
        [nssm, "set", name, "AppRestartDelay", str(RESTART_DELAY_S * 1000)],
    ]
    if spec.account:
        account = [nssm, "set", name, "ObjectName", spec.account]
        if spec.password is not None:
            account.append(spec.password)
        commands.append(account)
    return commands


def status(nssm: str, name: str) -> str:
    """`SERVICE_RUNNING`, `SERVICE_STOPPED`, … or `not installed`."""
    result = run([nssm, "status", name], check=False)
    text = (result.stdout or result.stderr).replace("\0", "").strip()
    if result.returncode != 0:
        return "not installed" if "not exist" in text.lower() or "can't open" in text.lower() else text
    return text


def install(nssm: str, spec: ServiceSpec) -> list[str]:
    if status(nssm, spec.name) != "not installed":
        run([nssm, "stop", spec.name], check=False)
        run([nssm, "remove", spec.name, "confirm"])
    if spec.log_dir is not None:
        spec.log_dir.mkdir(parents=True, exist_ok=True)
    done = []
    for command in install_commands(nssm, spec):
        run(command)
        done.append(" ".join(command[2:4]) if command[1] == "set" else "installed")
    return done


def uninstall(nssm: str, name: str) -> None:
    run([nssm, "stop", name], check=False)
    run([nssm, "remove", name, "confirm"])


def start(nssm: str, name: str) -> None:
    run([nssm, "start", name])


def stop(nssm: str, name: str) -> None:
    run([nssm, "stop", name])
