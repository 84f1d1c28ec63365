"""`python run.py transcript convert ...` end to end, through run.py in a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from transcripts_fixtures import TUTORIAL_SAMPLE_TEXT
from transcripts_validators import check_srt, check_vtt

REPO = Path(__file__).resolve().parent.parent


def _run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, str(REPO / "run.py"), "transcript", *args],
        input=stdin,
        capture_output=True,
        cwd=REPO,
        timeout=60,
    )


@pytest.fixture
def sample_file(tmp_path: Path) -> Path:
    path = tmp_path / "transcript.json"
    path.write_text(TUTORIAL_SAMPLE_TEXT, encoding="utf-8")
    return path


def test_convert_to_srt_file_warns_about_the_trailing_comma(sample_file: Path, tmp_path: Path):
    out = tmp_path / "out.srt"
    result = _run("convert", "--format", "srt", str(sample_file), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert b"trailing comma" in result.stderr
    subs = check_srt(out.read_bytes())
    assert subs[0].content == "Agent: hello Jane Doe"


def test_convert_to_stdout_with_details_and_language(sample_file: Path, tmp_path: Path):
    details = tmp_path / "details.json"
    details.write_text(json.dumps({"participants": [{"purpose": "agent", "participantName": "Jane Smith"}]}))
    result = _run(
        "convert", "--format", "VTT", str(sample_file), "--details", str(details), "--language", "en-GB"
    )
    assert result.returncode == 0, result.stderr
    cues = check_vtt(result.stdout)
    assert cues[0].voice == "Jane Smith"
    assert b"Language: en-GB" in result.stdout


def test_convert_reads_stdin():
    result = _run("convert", "-f", "GCTXT", "-", stdin=TUTORIAL_SAMPLE_TEXT.encode())
    assert result.returncode == 0
    assert b"[00:00:10.900] Agent: hello Jane Doe" in result.stdout


def test_broken_input_is_an_error_on_stderr(tmp_path: Path):
    broken = tmp_path / "broken.json"
    broken.write_text(TUTORIAL_SAMPLE_TEXT[:2500])
    result = _run("convert", "--format", "CSV", str(broken))
    assert result.returncode == 1
    assert result.stdout == b""
    assert b"conversation 12345abc-1234-123a-5678-abc123xyz: the document is truncated" in result.stderr


def test_missing_file_and_unknown_format(tmp_path: Path):
    result = _run("convert", "--format", "SRT", str(tmp_path / "nope.json"))
    assert result.returncode == 1 and b"cannot read" in result.stderr
    result = _run("convert", "--format", "DOCX", str(tmp_path / "nope.json"))
    assert result.returncode == 2 and b"invalid choice" in result.stderr


def test_formats_lists_all_nine():
    result = _run("formats")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.decode().splitlines()]
    assert names == ["RAW", "AWS", "TTML", "SRT", "VTT", "SAMI", "CSV", "AUDLAB", "GCTXT"]
