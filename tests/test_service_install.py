"""`run.py service install|…`: the NSSM command lines and the systemd unit, exactly; the unit verified
by systemd-analyze; the service started the way the unit starts it (same command, environment and
signal) drains on SIGINT and exits 0, and a crash exits non-zero so `Restart=on-failure` applies."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path, PureWindowsPath

import pytest
from service_process import ServiceProcess, python_env

import run
from licensing.demo import write_demo_license
from service import nssm, systemd
from service.install import ServiceSpec, spec_from_settings
from service.manage import manage
from simulator.app import Simulator

ROOT = Path(__file__).resolve().parent.parent


def windows_spec() -> ServiceSpec:
    directory = PureWindowsPath(r"C:\Program Files\callexport")
    return ServiceSpec(
        python=PureWindowsPath(r"C:\Program Files\callexport\.venv\Scripts\python.exe"),  # type: ignore[arg-type]
        settings=PureWindowsPath(r"C:\ProgramData\callexport\callexport.toml"),  # type: ignore[arg-type]
        directory=directory,  # type: ignore[arg-type]
        account=r"CONTOSO\svc-callexport",
        password="pa ss",
        log_dir=PureWindowsPath(r"C:\ProgramData\callexport\logs"),  # type: ignore[arg-type]
        shutdown_timeout_s=60,
    )


def test_nssm_command_lines() -> None:
    tool = r"C:\tools\nssm.exe"
    assert nssm.install_commands(tool, windows_spec()) == [
        [tool, "install", "callexport", r"C:\Program Files\callexport\.venv\Scripts\python.exe"],
        [
            tool,
            "set",
            "callexport",
            "AppParameters",
            r'"C:\Program Files\callexport\run.py" service --settings C:\ProgramData\callexport\callexport.toml',
        ],
        [tool, "set", "callexport", "AppDirectory", r"C:\Program Files\callexport"],
        [tool, "set", "callexport", "DisplayName", "callexport"],
        [tool, "set", "callexport", "Description", nssm.DESCRIPTION],
        [tool, "set", "callexport", "Start", "SERVICE_DELAYED_AUTO_START"],
        [tool, "set", "callexport", "AppStdout", r"C:\ProgramData\callexport\logs\service-console.log"],
        [tool, "set", "callexport", "AppStderr", r"C:\ProgramData\callexport\logs\service-console.log"],
        [tool, "set", "callexport", "AppRotateFiles", "1"],
        [tool, "set", "callexport", "AppRotateOnline", "1"],
        [tool, "set", "callexport", "AppRotateBytes", "10485760"],
        [tool, "set", "callexport", "AppStopMethodSkip", "6"],  # Ctrl+C only: no WM_CLOSE / WM_QUIT
        [tool, "set", "callexport", "AppStopMethodConsole", "90000"],  # drain 60 s + 30 s
        [tool, "set", "callexport", "AppExit", "Default", "Restart"],
        [tool, "set", "callexport", "AppRestartDelay", "10000"],
        [tool, "set", "callexport", "ObjectName", r"CONTOSO\svc-callexport", "pa ss"],
    ]


def _fake_nssm(directory: Path) -> Path:
    """A real `nssm` executable that records its arguments and keeps a service state, as NSSM does."""
    script = directory / "nssm"
    script.write_text(
        "#!/bin/sh\n"
        'echo "$*" >> "$(dirname "$0")/calls.log"\n'
        'state="$(dirname "$0")/state"\n'
        'case "$1" in\n'
        '  status) if [ -f "$state" ]; then cat "$state"; else echo "Can\'t open service!" >&2; exit 3; fi ;;\n'
        '  install) echo SERVICE_STOPPED > "$state" ;;\n'
        '  start) echo SERVICE_RUNNING > "$state" ;;\n'
        '  stop) [ -f "$state" ] && echo SERVICE_STOPPED > "$state" ;;\n'
        '  remove) rm -f "$state" ;;\n'
        "esac\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def _args(action: str, settings: Path, **kw: object) -> argparse.Namespace:
    values = {
        "action": action,
        "settings": settings,
        "account": None,
        "nssm": None,
        "name": "callexport",
        "print_only": False,
    }
    values.update(kw)
    return argparse.Namespace(**values)


def test_nssm_install_start_status_uninstall_through_the_tool(tmp_path, monkeypatch, capsys) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = _fake_nssm(bin_dir)
    settings = tmp_path / "callexport.toml"
    settings.write_text("[service]\nshutdown_timeout_seconds = 45\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert manage(_args("install", settings), platform="win32") == 0
    calls = (bin_dir / "calls.log").read_text().splitlines()
    spec = spec_from_settings(settings)
    expected = [" ".join(c[1:]) for c in nssm.install_commands(str(tool), spec)]
    assert calls[0] == "status callexport"
    assert calls[1 : 1 + len(expected)] == expected
    assert "set callexport AppStopMethodConsole 75000" in calls  # 45 s drain + 30 s
    assert calls[-2:] == ["start callexport", "status callexport"]
    assert "SERVICE_RUNNING" in capsys.readouterr().out
    assert manage(_args("status", settings), platform="win32") == 0
    assert manage(_args("stop", settings), platform="win32") == 0
    assert manage(_args("status", settings), platform="win32") == 3
    assert manage(_args("uninstall", settings), platform="win32") == 0
    assert (bin_dir / "calls.log").read_text().splitlines()[-1] == "remove callexport confirm"


def test_a_missing_nssm_says_where_to_get_it(tmp_path, monkeypatch, capsys) -> None:
    settings = tmp_path / "callexport.toml"
    settings.write_text("")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert manage(_args("install", settings), platform="win32") == 1
    err = capsys.readouterr().err
    assert "NSSM was not found" in err and "nssm.cc" in err and "--nssm" in err
    assert manage(_args("install", settings, nssm=str(tmp_path / "nssm.exe")), platform="win32") == 1
    assert "no such file" in capsys.readouterr().err


def test_install_needs_the_settings_file(tmp_path, capsys) -> None:
    assert manage(_args("install", tmp_path / "missing.toml", print_only=True), platform="linux") == 1
    assert "run `python run.py setup` first" in capsys.readouterr().err


def linux_spec(settings: Path) -> ServiceSpec:
    return ServiceSpec(python=Path(sys.executable), settings=settings, directory=ROOT, account="callexport")


def test_systemd_unit(tmp_path) -> None:
    settings = tmp_path / "callexport.toml"
    unit = systemd.unit_text(linux_spec(settings))
    lines = unit.splitlines()
    for line in (
        "Type=simple",
        "User=callexport",
        f"WorkingDirectory={ROOT}",
        "StateDirectory=callexport",
        "LogsDirectory=callexport",
        "Environment=CALLEXPORT_STATE_DIR=/var/lib/callexport",
        "Environment=CALLEXPORT_LOG_DIR=/var/log/callexport",
        f"ExecStart={shlex.join([sys.executable, str(ROOT / 'run.py'), 'service', '--settings', str(settings)])}",
        "KillSignal=SIGINT",
        "KillMode=mixed",
        "TimeoutStopSec=90",
        "Restart=on-failure",
        "RestartSec=10",
        "WantedBy=multi-user.target",
    ):
        assert line in lines, line


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verifies_the_unit(tmp_path) -> None:
    settings = tmp_path / "callexport.toml"
    settings.write_text("")
    path = tmp_path / "callexport.service"
    path.write_text(systemd.unit_text(linux_spec(settings)))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60
    )
    # systemd-analyze exits 0 even for a bad line: every complaint names the unit file
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if str(path) in line]
    assert result.returncode == 0 and complaints == [], result.stdout + result.stderr


def _as_the_unit_starts_it(unit: str, state_root: Path) -> tuple[list[str], Path, dict[str, str], int, int]:
    """ExecStart, WorkingDirectory, Environment, KillSignal and TimeoutStopSec of a unit; the
    directories systemd would create (StateDirectory=, LogsDirectory=) mapped under `state_root`."""
    values: dict[str, list[str]] = {}
    for line in unit.splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    env = python_env()
    for assignment in values.get("Environment", []):
        key, _, value = assignment.partition("=")
        mapped = state_root / value.strip("/").replace("/", "_")
        mapped.mkdir(parents=True, exist_ok=True)
        env[key] = str(mapped)
    command = shlex.split(values["ExecStart"][0])
    signum = int(getattr(signal, values["KillSignal"][0]))
    return command, Path(values["WorkingDirectory"][0]), env, signum, int(values["TimeoutStopSec"][0])


def test_the_service_started_as_the_unit_starts_it_drains_on_sigint_and_a_crash_exits_non_zero(
    tmp_path,
) -> None:
    with Simulator(
        seed=31, event_speed=100, details_delay_s=0, recording_delay_s=0, transcript_delay_s=0
    ) as sim:
        sim.set_config_document(
            {
                "Profiles": [
                    {
                        "Name": "All",
                        "Queues": ["Sales"],
                        "DestinationRoot": str(tmp_path / "out"),
                        "DirectoryStructureMode": "NoSubdirectory",
                    }
                ]
            }
        )
        license_dir = tmp_path / "license"
        write_demo_license(license_dir / "callexport.license")
        settings = tmp_path / "callexport.toml"
        settings.write_text(
            f'[genesys]\napi_url = "{sim.api_url}"\nheartbeat_seconds = 5\n[license]\ndirectory = "{license_dir}"\n'
            "[service]\nshutdown_timeout_seconds = 20\ntranscript_wait_seconds = 30\n"
        )
        unit = systemd.unit_text(
            ServiceSpec(python=Path(sys.executable), settings=settings, directory=ROOT, shutdown_timeout_s=20)
        )
        command, cwd, env, signum, stop_s = _as_the_unit_starts_it(unit, tmp_path / "systemd")
        env.update(CALLEXPORT_CLIENT_ID=sim.client_id, CALLEXPORT_CLIENT_SECRET=sim.client_secret)
        service = ServiceProcess(command, cwd=cwd, env=env, log=tmp_path / "journal.log")
        try:
            assert service.wait_for("Configuration version", 60), service.text()[-3000:]
            call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=20)
            assert service.wait_for(call.conversation_id, 60), service.text()[-3000:]
            service.signal(signum)
            assert service.wait(stop_s) == 0, service.text()[-3000:]
        finally:
            service.kill()
        journal = service.text()
        assert "shutting down gracefully" in journal and "Service stopped" in journal
        assert list(
            (tmp_path / "systemd" / "var_log_callexport").glob("callexport.log*")
        )  # LogsDirectory used
        assert (
            tmp_path / "systemd" / "var_lib_callexport" / "ledger.sqlite3"
        ).exists()  # StateDirectory used

        # a crash (here: a setting the service cannot use) exits non-zero: systemd restarts it
        settings.write_text(
            settings.read_text().replace("shutdown_timeout_seconds = 20", "max_concurrent_exports = 0")
        )
        crashed = ServiceProcess(command, cwd=cwd, env=env, log=tmp_path / "journal2.log")
        try:
            assert crashed.wait(60) != 0
        finally:
            crashed.kill()
        assert "max_concurrent_exports" in crashed.text()


def test_run_py_with_no_action_still_runs_in_the_foreground() -> None:
    parser = argparse.ArgumentParser()
    from service import cli

    cli.add_arguments(parser)
    args = parser.parse_args([])
    assert args.action is None
    assert run.DEFAULT_COMMAND == "service"
    assert parser.parse_args(["--settings", "x.toml"]).action is None
