from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import run

ROOT = Path(__file__).resolve().parent.parent


def test_help_lists_every_command(capsys):
    assert run.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in run.COMMANDS:
        assert name in out


def test_unknown_command_is_an_error(capsys):
    assert run.main(["no-such-command"]) == 2
    assert "unknown command" in capsys.readouterr().err


def test_run_py_help_runs_as_a_script():
    result = subprocess.run([sys.executable, "run.py", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0
    assert "simulate" in result.stdout
