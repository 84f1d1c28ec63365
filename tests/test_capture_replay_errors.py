"""A malformed or incomplete capture stops the replay with a message naming the file, not a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from capture_helpers import FIXTURES, ROOT

from capture.layout import CaptureError
from simulator.app import Simulator

TRANSCRIPT = "transcripts/12345abc-1234-123a-5678-abc123xyz.json"


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "capture"
    shutil.copytree(FIXTURES / "tutorial-voice-transcript", target)
    return target


def _truncate(relative: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        data = (root / relative).read_bytes()
        (root / relative).write_bytes(data[: len(data) // 2])

    return apply


def _manifest(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        manifest = json.loads((root / "manifest.json").read_text())
        change(manifest)
        (root / "manifest.json").write_text(json.dumps(manifest))

    return apply


def _write(relative: str, text: str) -> Callable[[Path], None]:
    return lambda root: (root / relative).write_text(text)


CASES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "missing details": (lambda r: (r / "details.json").unlink(), "details.json", "missing"),
    "truncated conversation": (_truncate("conversation.json"), "conversation.json", "truncated JSON"),
    "truncated transcript": (_truncate(TRANSCRIPT), TRANSCRIPT, "truncated"),
    "empty recordings": (_write("recordings.json", ""), "recordings.json", "empty file"),
    "metadata not a list": (_write("recordingmetadata.json", "{}"), "recordingmetadata.json", "JSON array"),
    "missing manifest": (
        lambda r: (r / "manifest.json").unlink(),
        "manifest.json",
        "not a capture directory",
    ),
    "truncated manifest": (_truncate("manifest.json"), "manifest.json", "truncated JSON"),
    "details not listed": (
        _manifest(lambda m: m.update(files=[f for f in m["files"] if f["kind"] != "details"])),
        "details.json",
        "a capture needs the details document",
    ),
    "another conversation": (
        _manifest(lambda m: m.update(conversationId="00000000-0000-4000-8000-000000000000")),
        "details.json",
        "the manifest says 00000000",
    ),
    "media listed but missing": (
        _manifest(lambda m: m["media"][0].update(file="media/gone.wav")),
        "media/gone.wav",
        "missing",
    ),
    "file outside the capture": (
        _manifest(lambda m: m["files"][0].update(file="../elsewhere.json")),
        "manifest.json",
        "outside the capture directory",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_python_api_names_the_file(tmp_path: Path, case: str) -> None:
    damage, file, problem = CASES[case]
    root = _copy(tmp_path)
    damage(root)
    with pytest.raises(CaptureError) as raised:
        Simulator(replay=[root])
    assert raised.value.file == (root / file).resolve() or raised.value.file == root / file
    assert str(raised.value).startswith(str(raised.value.file)) and problem in str(raised.value)


def test_a_profile_that_cannot_be_re_rooted_names_profile_json(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "profile.json").write_text("{not json")
    with pytest.raises(CaptureError, match=r"profile\.json: not a configuration document"):
        Simulator(replay=[root], replay_destination_root=tmp_path / "out")
    with Simulator(replay=[root]) as sim:  # as captured (broken), the service itself reports it
        assert sim.datatable_rows()[0]["Configuration"] == "{not json"


def test_run_py_simulate_exits_2_naming_the_file(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _truncate("details.json")(root)
    result = subprocess.run(
        [sys.executable, "run.py", "simulate", "--replay", str(root)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(root / "details.json") in result.stderr and "truncated JSON" in result.stderr
    assert result.stdout == ""
