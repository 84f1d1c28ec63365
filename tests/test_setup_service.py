"""After `run.py setup`, `run.py service` with nothing else configured starts with the stored
credentials (a file-backed keyring), loads the starter profile setup wrote and exports a call."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from service_process import ServiceProcess, python_env, run_py
from setup_fixtures import run_setup

from licensing.demo import write_demo_license


def test_after_setup_the_service_exports_a_call(
    bare_sim, file_keyring, tmp_path: Path, capsys, monkeypatch
) -> None:
    sim = bare_sim
    out = tmp_path / "out"
    demo_license = write_demo_license(tmp_path / "from-vendor" / "demo.license")
    # where the license goes (by default the install directory; kept out of the repository here)
    (tmp_path / "callexport.toml").write_text(f'[license]\ndirectory = "{tmp_path / "license"}"\n')
    result = run_setup(
        sim,
        tmp_path,
        capsys,
        monkeypatch,
        "--export-root",
        str(out),
        "--export-queues",
        "Sales",
        "--license-file",
        str(demo_license),
    )
    assert result.code == 0, result.out + result.err
    assert "[created]   License: installed" in result.out and "licensed to" in result.out

    env = python_env(
        XDG_DATA_HOME=str(tmp_path / "xdg"), PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring"
    )
    service = ServiceProcess([*run_py()], cwd=tmp_path, env=env, log=tmp_path / "console.log")
    try:
        assert service.wait_for("Configuration version", 60), service.text()[-3000:]
        assert "read from keyring" in service.text()
        call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=20)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not list(out.rglob(f"*{call.conversation_id}*.wav")):
            time.sleep(0.2)
        assert list(out.rglob(f"*{call.conversation_id}*.wav")), service.text()[-4000:]
        service.signal(signal.SIGINT)
        assert service.wait(60) == 0, service.text()[-3000:]
    finally:
        service.kill()
