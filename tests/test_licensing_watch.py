"""The license file watcher with a real thread and real files: hot replace, partial writes, renames."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from pathlib import Path

from licensing_fixtures import new_keys, write_license

from licensing.evaluate import LicenseEvaluator
from licensing.hwid import format_hwid
from licensing.trusted_time import TrustedClock
from licensing.watch import LicenseFileWatcher

HWID = format_hwid(b"\x33" * 32)


class Recorder:
    """on_change callback: records each report and the content it reads at that moment."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.reports: list[tuple[list[Path], bytes | None]] = []
        self.event = threading.Event()

    def __call__(self, paths: list[Path]) -> None:
        content = self.path.read_bytes() if self.path and self.path.exists() else None
        self.reports.append((paths, content))
        self.event.set()

    def wait(self, timeout: float = 5.0) -> bool:
        ok = self.event.wait(timeout)
        self.event.clear()
        return ok


def test_hot_replace_valid_invalid_valid(tmp_path):
    private, public = new_keys()
    path = tmp_path / "callexport.license"
    clock = TrustedClock(genesys_time=lambda: dt.datetime(2027, 1, 1, tzinfo=dt.UTC), ntp_servers=[])
    evaluator = LicenseEvaluator(
        path, clock=clock, hwid=HWID, api_url="https://api.mypurecloud.com", public_keys=public, demo_keys={}
    )
    states: list[tuple[str, str | None]] = []
    changed = threading.Event()

    def on_change(paths: list[Path]) -> None:
        status, _ = evaluator.check()
        states.append((status.state, status.reason))
        changed.set()

    assert evaluator.check()[0].reason == "missing"
    with LicenseFileWatcher(tmp_path, "callexport.license", on_change, debounce_s=0.3, poll_interval_s=0.05):
        for expected in [("licensed", None), ("unlicensed", "wrong_hardware"), ("licensed", None)]:
            started = time.monotonic()
            hwid = HWID if expected[0] == "licensed" else format_hwid(b"\x44" * 32)
            write_license(path, private, hwid=hwid)
            assert changed.wait(5), f"no report for {expected}"
            changed.clear()
            assert states[-1] == expected
            assert time.monotonic() - started < 3
        path.unlink()
        assert changed.wait(5)
        assert states[-1] == ("unlicensed", "missing")
    assert len(states) == 4


def test_partial_writes_are_read_once_and_whole(tmp_path):
    path = tmp_path / "callexport.license"
    recorder = Recorder(path)
    content = b"".join(bytes([65 + i]) * 400 for i in range(5))
    # pauses of 0.2 s against a 1.5-s quiet period: margin for an fsync on a loaded machine
    with LicenseFileWatcher(tmp_path, "callexport.license", recorder, debounce_s=1.5, poll_interval_s=0.05):
        with open(path, "wb") as handle:
            for i in range(5):  # an editor or a slow copy: five chunks with pauses
                handle.write(content[i * 400 : (i + 1) * 400])
                handle.flush()
                os.fsync(handle.fileno())
                time.sleep(0.2)
        assert recorder.wait(5)
        time.sleep(2.0)  # nothing more may arrive
    assert len(recorder.reports) == 1
    assert recorder.reports[0] == ([path], content)


def test_rename_into_place_is_reported_once(tmp_path):
    path = tmp_path / "callexport.license"
    path.write_bytes(b"old license")
    recorder = Recorder(path)
    with LicenseFileWatcher(tmp_path, "callexport.license", recorder, debounce_s=0.3, poll_interval_s=0.05):
        staging = tmp_path / "callexport.license.part"  # does not match the pattern
        with open(staging, "wb") as handle:
            handle.write(b"new ")
            handle.flush()
            time.sleep(0.4)
            handle.write(b"license")
        os.replace(staging, path)
        assert recorder.wait(5)
        time.sleep(0.8)
    assert recorder.reports == [([path], b"new license")]


def test_pattern_is_case_insensitive_and_other_files_are_ignored(tmp_path):
    recorder = Recorder()
    with LicenseFileWatcher(tmp_path, "*.lic", recorder, debounce_s=0.2, poll_interval_s=0.05):
        (tmp_path / "notes.txt").write_text("ignored")
        time.sleep(0.5)
        assert recorder.reports == []
        (tmp_path / "ACME.LIC").write_text("x")
        assert recorder.wait(5)
    assert recorder.reports[0][0] == [tmp_path / "ACME.LIC"]


def test_missing_directory_then_created(tmp_path):
    directory = tmp_path / "install"
    recorder = Recorder()
    with LicenseFileWatcher(directory, "callexport.license", recorder, debounce_s=0.2, poll_interval_s=0.05):
        time.sleep(0.2)
        directory.mkdir()
        (directory / "callexport.license").write_text("x")
        assert recorder.wait(5)


def test_a_failing_callback_does_not_kill_the_watcher(tmp_path):
    calls = []

    def boom(paths):
        calls.append(paths)
        raise RuntimeError("callback bug")

    watcher = LicenseFileWatcher(tmp_path, "*.lic", boom, debounce_s=0.1, poll_interval_s=0.05).start()
    try:
        (tmp_path / "a.lic").write_text("1")
        deadline = time.monotonic() + 5
        while len(calls) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        (tmp_path / "a.lic").write_text("22")
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(calls) == 2 and watcher.alive
    finally:
        started = time.monotonic()
        watcher.stop()
        assert time.monotonic() - started < 1
        assert not watcher.alive


def test_steady_state_opens_no_file(tmp_path, monkeypatch):
    """Windows: a file held open blocks an editor's rename-over; the watcher only opens while settling."""
    import builtins

    from licensing import watch

    (tmp_path / "callexport.license").write_text("license")
    opened: list[str] = []

    def counting_open(path, *args, **kwargs):
        opened.append(str(path))
        return builtins.open(path, *args, **kwargs)

    monkeypatch.setattr(watch, "open", counting_open, raising=False)
    recorder = Recorder()
    with LicenseFileWatcher(tmp_path, "callexport.license", recorder, debounce_s=0.2, poll_interval_s=0.05):
        baseline = len(opened)
        time.sleep(0.5)  # ~10 polls
        assert len(opened) == baseline
        (tmp_path / "callexport.license").write_text("new license")
        assert recorder.wait(5)
        time.sleep(0.3)
        after_change = len(opened)
        assert after_change > baseline  # contents were read while the change settled
        time.sleep(0.5)
        assert len(opened) == after_change
