"""Atomic writes and the five conflict strategies, with real files, threads and a killed process."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import threading
import time

import pytest

from storage.write import DestinationError, FileConflictError, cleanup_partials, write_file

REPO = pathlib.Path(__file__).resolve().parent.parent
OLD_TIMES_NS = (1_600_000_000_123_456_789, 1_577_836_800_987_654_321)  # atime, mtime


def _existing(path: pathlib.Path, content: bytes = b"old") -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, ns=OLD_TIMES_NS)
    return path


def _leftovers(folder: pathlib.Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_new_file_creates_folders(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "a" / "b" / "c.wav"
    result = write_file(target, b"data", "Error")
    assert (result.path, result.action, result.bytes_written, result.bytes) == (target, "written", 4, 4)
    assert target.read_bytes() == b"data"
    assert _leftovers(target.parent) == []


def test_append_counter(tmp_path: pathlib.Path) -> None:
    target = _existing(tmp_path / "call.wav")
    first = write_file(target, b"one", "AppendCounter")
    second = write_file(target, b"two", "AppendCounter")
    assert (first.path.name, first.action) == ("call_1.wav", "renamed")
    assert (second.path.name, second.action) == ("call_2.wav", "renamed")
    assert [target.read_bytes(), first.path.read_bytes(), second.path.read_bytes()] == [
        b"old",
        b"one",
        b"two",
    ]
    assert _leftovers(tmp_path) == []


def test_append_counter_keeps_multi_dot_names_readable(tmp_path: pathlib.Path) -> None:
    target = _existing(tmp_path / "a.b.srt")
    assert write_file(target, b"x", "AppendCounter").path.name == "a.b_1.srt"


def test_overwrite(tmp_path: pathlib.Path) -> None:
    target = _existing(tmp_path / "call.wav")
    result = write_file(target, b"new", "Overwrite")
    assert (result.path, result.action) == (target, "overwritten")
    assert target.read_bytes() == b"new"
    assert write_file(tmp_path / "fresh.wav", b"x", "Overwrite").action == "written"


def test_ignore(tmp_path: pathlib.Path) -> None:
    target = _existing(tmp_path / "call.wav")
    result = write_file(target, b"new", "Ignore")
    assert (result.path, result.action, result.bytes_written) == (None, "skipped", 0)
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_replace_and_copy_timestamps(tmp_path: pathlib.Path) -> None:
    target = _existing(tmp_path / "call.wav")
    old_inode = target.stat().st_ino
    result = write_file(
        target, b"new content", "ReplaceAndCopyTimestamps", metadata={"Conversation.Id": "c-1"}
    )
    assert (result.path, result.action) == (target, "replaced")
    stat = target.stat()
    assert target.read_bytes() == b"new content"
    assert stat.st_ino != old_inode  # really replaced (atomically), not patched in place
    assert (stat.st_atime_ns, stat.st_mtime_ns) == OLD_TIMES_NS


def test_replace_and_copy_timestamps_without_existing_file(tmp_path: pathlib.Path) -> None:
    result = write_file(tmp_path / "n.wav", b"x", "ReplaceAndCopyTimestamps")
    assert result.action == "written" and result.path.stat().st_mtime > OLD_TIMES_NS[1] / 1e9


def test_error(tmp_path: pathlib.Path) -> None:
    target = _existing(tmp_path / "call.wav")
    with pytest.raises(FileConflictError, match=r"call\.wav already exists.*ConflictStrategy is Error"):
        write_file(target, b"new", "Error")
    assert target.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_unknown_strategy(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="unknown ConflictStrategy 'Merge'"):
        write_file(tmp_path / "x", b"", "Merge")


def test_unwritable_destination_names_path_and_cause(tmp_path: pathlib.Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("file")
    target = blocker / "sub" / "call.wav"
    with pytest.raises(DestinationError) as info:
        write_file(target, b"x", "Overwrite")
    assert str(target) in str(info.value) and (
        "Not a directory" in str(info.value) or "exists" in str(info.value)
    )


def test_copy_from_a_source_file(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "src.bin"
    source.write_bytes(os.urandom(3_000_000))
    result = write_file(tmp_path / "out" / "dst.bin", source, "Error")
    assert result.bytes_written == 3_000_000 and result.path.read_bytes() == source.read_bytes()


def test_concurrent_writers_never_overwrite_each_other(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "same.wav"
    results = []

    def writer(index: int) -> None:
        results.append(write_file(target, f"writer {index}".encode(), "AppendCounter"))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    paths = {r.path for r in results}
    assert len(paths) == 16
    assert sorted(p.read_text() for p in paths) == sorted(f"writer {i}" for i in range(16))
    assert _leftovers(tmp_path) == []


def test_concurrent_error_strategy_lets_exactly_one_win(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "race.wav"
    outcomes: list[str] = []

    def writer() -> None:
        try:
            write_file(target, b"x", "Error")
            outcomes.append("won")
        except FileConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 7 + ["won"]


WRITER = """
import pathlib, sys
from storage.write import write_file
write_file(sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3])
print("finished")
"""


@pytest.mark.parametrize("existing", [False, True])
def test_killed_writer_leaves_no_final_file(tmp_path: pathlib.Path, existing: bool) -> None:
    """A real writer process streams from a FIFO; it is SIGKILLed after half the data."""
    fifo = tmp_path / "source.fifo"
    os.mkfifo(fifo)
    target = tmp_path / "out" / "call.wav"
    if existing:
        _existing(target, b"previous complete file")
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target), str(fifo), "Overwrite"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        with open(fifo, "wb") as feed:
            feed.write(b"\x01" * 65536)
            feed.flush()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                parts = list(target.parent.glob(".*.part")) if target.parent.exists() else []
                if parts and parts[0].stat().st_size == 65536:
                    break
                time.sleep(0.01)
            else:
                pytest.fail("the writer never wrote its temporary file")
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    if existing:
        assert target.read_bytes() == b"previous complete file"
    else:
        assert not target.exists()
    leftovers = list(target.parent.glob(".*.part"))
    assert len(leftovers) == 1 and leftovers[0].stat().st_size == 65536
    assert cleanup_partials(target.parent, older_than_seconds=0) == 1
    assert list(target.parent.glob(".*.part")) == []


def test_completed_writer_process(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "s.bin"
    source.write_bytes(b"z" * 1000)
    target = tmp_path / "done" / "call.wav"
    out = subprocess.run(
        [sys.executable, "-c", WRITER, str(target), str(source), "Error"],
        cwd=REPO,
        capture_output=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert target.read_bytes() == b"z" * 1000
