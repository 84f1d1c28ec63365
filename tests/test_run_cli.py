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


def test_every_command_module_exists_and_has_an_interface():
    import importlib

    for name, (module_name, _) in run.COMMANDS.items():
        module = importlib.import_module(module_name)
        assert callable(getattr(module, "add_arguments", None)), name
        assert callable(getattr(module, "main", None)), name


def test_every_command_prints_its_help():
    for name in run.COMMANDS:
        result = subprocess.run(
            [sys.executable, "run.py", name, "--help"], cwd=ROOT, capture_output=True, text=True
        )
        assert result.returncode == 0, (name, result.stderr[-500:])
        assert "usage" in result.stdout.lower(), name
