"""Sequence numbers: persisted across restarts, unique across threads and processes, crash-safe."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import threading

import pytest

from storage.sequence import SequenceStore

REPO = pathlib.Path(__file__).resolve().parent.parent


def test_numbers_start_at_one_and_survive_a_restart(tmp_path: pathlib.Path) -> None:
    store = SequenceStore(tmp_path)
    assert [store.next_value("Sales") for _ in range(3)] == [1, 2, 3]
    assert store.next_value("Support") == 1  # per profile
    assert SequenceStore(tmp_path).next_value("Sales") == 4  # a new process/store continues
    assert SequenceStore(tmp_path).current("sales") == 4  # names are case-insensitive


def test_threads_never_get_the_same_number(tmp_path: pathlib.Path) -> None:
    store = SequenceStore(tmp_path)
    seen: list[int] = []
    lock = threading.Lock()

    def draw() -> None:
        for _ in range(50):
            value = store.source("P").next_value()
            with lock:
                seen.append(value)

    threads = [threading.Thread(target=draw) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 401))


DRAW = """
import sys
from storage.sequence import SequenceStore
store = SequenceStore(sys.argv[1])
print(" ".join(str(store.next_value("P")) for _ in range(40)))
"""


def test_processes_never_get_the_same_number(tmp_path: pathlib.Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", DRAW, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    numbers = [int(n) for proc in procs for n in proc.communicate(timeout=60)[0].split()]
    assert sorted(numbers) == list(range(1, 121))


def test_a_crash_before_the_rename_keeps_the_last_number(tmp_path: pathlib.Path) -> None:
    store = SequenceStore(tmp_path)
    store.next_value("P")
    state = next(tmp_path.glob("sequence-*.json"))
    # what a crash between write and rename leaves behind: a torn temporary file
    (tmp_path / f"{state.name}.999.1.tmp").write_text('{"profile": "P", "la')
    assert json.loads(state.read_text()) == {"profile": "P", "last": 1}
    assert SequenceStore(tmp_path).next_value("P") == 2


def test_a_corrupt_state_file_is_reported(tmp_path: pathlib.Path) -> None:
    store = SequenceStore(tmp_path)
    store.next_value("P")
    next(tmp_path.glob("sequence-*.json")).write_text("garbage")
    with pytest.raises(ValueError, match="unreadable"):
        store.next_value("P")
