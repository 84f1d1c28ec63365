"""File metadata: user xattrs read back through the OS, NTFS streams (platform faked), and no support."""

from __future__ import annotations

import errno
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest
import storage_fixtures as fx

import storage.metadata as metadata
from profiles import Profile
from storage.attributes import AUDIO_ATTRIBUTES, TRANSCRIPT_ATTRIBUTES, attribute_values
from storage.context import build_context
from storage.metadata import read_metadata, write_metadata
from storage.write import write_file

REPO = pathlib.Path(__file__).resolve().parent.parent
ATTRS = {
    "Conversation.Id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "Acd.Name": "Support – Oslo ✓",
    "Recording.StartTime": "2026-03-24T14:30:22.000+01:00",
}


def _xattr_supported(folder: pathlib.Path) -> str | None:
    if not hasattr(os, "setxattr"):
        return "this platform has no os.setxattr"
    probe = folder / ".xattr-probe"
    probe.write_bytes(b"")
    try:
        os.setxattr(probe, "user.probe", b"1")
    except OSError as exc:
        return f"{folder} does not support user xattrs ({exc.strerror})"
    finally:
        probe.unlink()
    return None


@pytest.fixture
def xattr_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    reason = _xattr_supported(tmp_path)
    if reason:
        pytest.skip(reason)
    return tmp_path


def test_xattrs_read_back_through_getfattr(xattr_dir: pathlib.Path) -> None:
    if shutil.which("getfattr") is None:
        pytest.skip("getfattr not installed (Debian package 'attr')")
    file = xattr_dir / "recording.wav"
    file.write_bytes(b"RIFF")
    assert write_metadata(file, ATTRS) == "xattr"
    out = subprocess.run(
        ["getfattr", "--absolute-names", "--encoding=text", "-d", "-m", "^user\\.", str(file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert 'user.Conversation.Id="a1b2c3d4-e5f6-7890-abcd-ef1234567890"' in out
    assert 'user.Recording.StartTime="2026-03-24T14:30:22.000+01:00"' in out


def test_xattrs_read_back_in_another_process(xattr_dir: pathlib.Path) -> None:
    file = xattr_dir / "recording.wav"
    file.write_bytes(b"RIFF")
    write_metadata(file, ATTRS)
    code = "import os,sys,json; p=sys.argv[1]; print(json.dumps({k: os.getxattr(p,k).decode() for k in os.listxattr(p)}))"
    out = subprocess.run(
        [sys.executable, "-c", code, str(file)], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == {f"user.{k}": v for k, v in ATTRS.items()}
    assert read_metadata(file) == ATTRS


def test_write_file_attaches_metadata_that_survives_the_rename(xattr_dir: pathlib.Path) -> None:
    result = write_file(xattr_dir / "x" / "call.wav", b"RIFF", "AppendCounter", metadata=ATTRS)
    assert result.metadata == "xattr"
    assert read_metadata(result.path) == ATTRS


def test_hostile_and_huge_values(xattr_dir: pathlib.Path, caplog: pytest.LogCaptureFixture) -> None:
    file = xattr_dir / "call.wav"
    file.write_bytes(b"")
    attrs = {"Customer.Name": "x" * 10_240, "Acd.Name": "../../etc\x00\x07\r\n", "Ivr.Name": "CON"}
    assert write_metadata(file, attrs) == "xattr"
    back = read_metadata(file)
    assert back["Customer.Name"] == "x" * metadata.MAX_VALUE_BYTES
    assert back["Acd.Name"] == "../../etc\x00\x07\r\n"  # values are content, kept verbatim
    assert back["Ivr.Name"] == "CON"
    assert sorted(p.name for p in xattr_dir.iterdir()) == ["call.wav"]  # nothing else was created


def test_no_room_for_a_value_cuts_it_then_leaves_it_out(
    xattr_dir: pathlib.Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    file = xattr_dir / "call.wav"
    file.write_bytes(b"")
    real = os.setxattr

    def small_fs(path, key, value, *args):
        if len(value) > 50:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, key, value, *args)

    monkeypatch.setattr(os, "setxattr", small_fs)
    with caplog.at_level("WARNING"):
        assert write_metadata(file, {"Conversation.Id": "short", "Customer.Name": "y" * 500}) == "xattr"
    assert read_metadata(file) == {"Conversation.Id": "short"}
    assert "Customer.Name left out" in caplog.text


def test_file_system_without_user_xattrs_logs_and_carries_on(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def unsupported(*args, **kwargs):
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(os, "setxattr", unsupported)
    with caplog.at_level("WARNING"):
        result = write_file(tmp_path / "call.wav", b"RIFF", "Overwrite", metadata=ATTRS)
    assert result.action == "written" and result.metadata == "none"
    assert result.path.read_bytes() == b"RIFF"
    assert "does not accept user extended attributes" in caplog.text and "call.wav" in caplog.text


def test_platform_without_any_mechanism(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(metadata, "_platform", lambda: "darwin")
    monkeypatch.delattr(os, "setxattr")
    file = tmp_path / "call.wav"
    file.write_bytes(b"")
    with caplog.at_level("WARNING"):
        assert write_metadata(file, ATTRS) == "none"
    assert "neither alternate data streams nor extended attributes" in caplog.text
    assert read_metadata(file) == {}


def test_ntfs_streams_code_path_with_windows_faked(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Windows ``open("file:Name", "w")`` opens a stream; on Linux the very same call creates a file
    named ``file:Name`` next to it, which lets the real ADS code run end to end here."""
    monkeypatch.setattr(metadata, "_platform", lambda: "win32")
    file = tmp_path / "recording.wav"
    file.write_bytes(b"RIFF")
    assert write_metadata(file, ATTRS) == "ads"
    assert (tmp_path / "recording.wav:Conversation.Id").read_text(encoding="utf-8") == ATTRS[
        "Conversation.Id"
    ]
    assert (tmp_path / "recording.wav:Acd.Name").read_text(encoding="utf-8") == ATTRS["Acd.Name"]
    assert read_metadata(file) == ATTRS
    result = write_file(tmp_path / "t.srt", b"1", "Overwrite", metadata={"Transcript.Id": "t-1"})
    assert result.metadata == "ads" and read_metadata(result.path) == {"Transcript.Id": "t-1"}


def test_ads_failure_logs_and_carries_on(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(metadata, "_platform", lambda: "win32")
    file = tmp_path / "call.wav"
    file.write_bytes(b"")
    (tmp_path / "call.wav:Conversation.Id").mkdir()  # opening the "stream" fails like FAT32 would
    with caplog.at_level("WARNING"):
        assert write_metadata(file, ATTRS) == "none"
    assert "does not accept alternate data streams" in caplog.text


def test_attribute_lists() -> None:
    assert set(AUDIO_ATTRIBUTES) < set(TRANSCRIPT_ATTRIBUTES)
    assert set(TRANSCRIPT_ATTRIBUTES) - set(AUDIO_ATTRIBUTES) == {"Transcript.Id", "Transcript.StartTime"}


def test_attribute_values_from_a_context() -> None:
    ctx = build_context(
        details=fx.details(),
        profile=Profile(name="P", time_zone_offset="Europe/Oslo"),
        recording=fx.recording(),
        transcript=fx.transcript(),
        queue_names=fx.QUEUE_NAMES,
    )
    values = attribute_values(ctx, TRANSCRIPT_ATTRIBUTES)
    assert values == {
        "Conversation.Id": fx.CONVERSATION_ID,
        "Recording.Id": fx.RECORDING_ID,
        "Acd.Name": "Support",
        "Acd.Id": fx.QUEUE_ID,
        "Ivr.Name": "Main IVR",
        "Ivr.Id": fx.FLOW_ID,
        "Customer.Name": "Ola Nordmann",
        "Recording.StartTime": "2026-03-24T14:30:22.000+01:00",
        "Recording.EndTime": "2026-03-24T14:36:05.000+01:00",
        "Recording.MediaSubtype": "Trunk",
        "Recording.MediaSubject": "Inbound call +4791234567",
        "Transcript.Id": fx.TRANSCRIPT_ID,
        "Transcript.StartTime": "2026-03-24T14:30:22.000+01:00",
    }
    with pytest.raises(ValueError, match="not a metadata attribute"):
        attribute_values(ctx, ["Agent.Name"])


def test_metadata_command_lists_attributes(xattr_dir: pathlib.Path) -> None:
    file = xattr_dir / "recording.wav"
    file.write_bytes(b"RIFF")
    write_metadata(file, ATTRS)
    out = subprocess.run(
        [sys.executable, "run.py", "metadata", str(file)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "extended attributes" in out.stdout
    assert "Conversation.Id      a1b2c3d4-e5f6-7890-abcd-ef1234567890" in out.stdout
    out = subprocess.run(
        [sys.executable, "run.py", "metadata", "--json", str(file), str(xattr_dir / "missing.wav")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    first, second = out.stdout.splitlines()
    assert json.loads(first)["attributes"] == ATTRS
    assert "missing.wav: cannot read metadata" in second
