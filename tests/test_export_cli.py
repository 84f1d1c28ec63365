"""`python run.py export ID`: a one-shot export through the same pipeline, as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from service_harness import document, profile

from licensing.demo import write_demo_license
from service.license_check import LICENSE_FILE
from simulator.app import Simulator

ROOT = Path(__file__).resolve().parent.parent


def run_export(sim, tmp_path, conversation_id, *extra):
    settings = tmp_path / "callexport.toml"
    settings.write_text(
        f'[genesys]\napi_url = "{sim.api_url}"\n'
        f'[service]\nstate_dir = "{(tmp_path / "state").as_posix()}"\nlog_dir = "{(tmp_path / "logs").as_posix()}"\n'
        f'[license]\ndirectory = "{(tmp_path / "license").as_posix()}"\nntp_servers = []\n'
    )
    env = {**os.environ, "CALLEXPORT_CLIENT_ID": sim.client_id, "CALLEXPORT_CLIENT_SECRET": sim.client_secret}
    return subprocess.run(
        [
            sys.executable,
            "run.py",
            "export",
            conversation_id,
            "--settings",
            str(settings),
            "--timeout",
            "60",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_export_one_conversation_then_it_is_not_exported_twice(tmp_path):
    out = tmp_path / "out"
    write_demo_license(tmp_path / "license" / LICENSE_FILE)
    doc = document(
        profile(
            "P",
            out,
            Queues=["Sales"],
            AudioFormat="WAV",
            ProcessingDelaySeconds=0,
            TranscriptExportEnabled=False,
            AudioFileTemplate="{Conversation.Id}.{FileExtension}",
        )
    )
    with Simulator(seed=31, config_document=doc) as sim:
        call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=30, ended_ago_s=60)
        first = run_export(sim, tmp_path, call.conversation_id)
        assert first.returncode == 0, first.stderr[-2000:]
        files = sorted(out.rglob("*.wav"))
        assert [f.name for f in files] == [f"{call.conversation_id}.wav"] * len(call.recordings)
        second = run_export(sim, tmp_path, call.conversation_id)
        assert second.returncode == 0, second.stderr[-2000:]
        assert sorted(out.rglob("*.wav")) == files  # already exported: nothing written again
        assert "already exported" in second.stderr


def test_export_without_credentials_is_a_clear_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLEXPORT_")}
    settings = tmp_path / "callexport.toml"
    settings.write_text(
        f'[service]\nstate_dir = "{(tmp_path / "state").as_posix()}"\nlog_dir = "{(tmp_path / "logs").as_posix()}"\n'
    )
    result = subprocess.run(
        [sys.executable, "run.py", "export", "x", "--settings", str(settings)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "credentials" in result.stderr.lower() and "Traceback" not in result.stderr
