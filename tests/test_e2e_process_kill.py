"""`kill -9` of the whole service three times during a 30-call run: every in-scope call is exported exactly
once per profile (no duplicate file, no missing file), and parked waits resume after each restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from service_harness import document, profile

from ledger import Ledger
from licensing.demo import write_demo_license
from service.license_check import LICENSE_FILE
from simulator.app import Simulator
from simulator.documents import transcript_communication_ids

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("inbound_simple", "multi_recording", "blind_transfer", "outbound", "no_recording", "inbound_hold")


def write_settings(tmp_path: Path, sim: Simulator) -> Path:
    settings = tmp_path / "callexport.toml"
    settings.write_text(
        f'[genesys]\napi_url = "{sim.api_url}"\nrequests_per_minute = 6000\nheartbeat_seconds = 1\n'
        f'[service]\nstate_dir = "{(tmp_path / "state").as_posix()}"\nlog_dir = "{(tmp_path / "logs").as_posix()}"\n'
        "max_concurrent_exports = 4\ndsp_workers = 1\ntranscript_wait_seconds = 60\n"
        "no_recording_after_seconds = 3\nreconcile_interval_seconds = 2\nreconcile_lookback_seconds = 900\nwrapup_timeout_seconds = 20\n"
        "status_interval_seconds = 5\nshutdown_timeout_seconds = 10\n"
        f'[license]\ndirectory = "{(tmp_path / "license").as_posix()}"\nntp_servers = []\n'
    )
    return settings


def start(settings: Path, sim: Simulator, log: Path) -> subprocess.Popen:
    env = {**os.environ, "CALLEXPORT_CLIENT_ID": sim.client_id, "CALLEXPORT_CLIENT_SECRET": sim.client_secret}
    return subprocess.Popen(
        [sys.executable, "run.py", "service", "--settings", str(settings)],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: kill -9 takes the DSP workers down with it
    )


def kill_9(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def expected(call, profile_name: str) -> int:
    if not call.recordings:
        return 0
    if profile_name == "QA":
        return len(call.recordings)
    return len(call.recordings) + len(transcript_communication_ids(call))


def test_kill_9_three_times_during_a_30_call_run_exports_every_call_exactly_once(tmp_path):
    out = tmp_path / "out"
    write_demo_license(tmp_path / "license" / LICENSE_FILE)
    common = {"Queues": ["Sales", "Support"], "ProcessingDelaySeconds": 0}
    doc = document(
        profile(
            "Archive",
            out / "archive",
            **common,
            AudioFormat="WAV",
            TranscriptExportEnabled=True,
            TranscriptFormat="RAW",
            AudioFileTemplate="{Conversation.Id}_{Recording.Id}.{FileExtension}",
            TranscriptionFileTemplate="{Conversation.Id}_{Transcript.Id}.{FileExtension}",
        ),
        profile(
            "QA",
            out / "qa",
            **common,
            AudioFormat="MP3",
            NormalizeLoudness=True,
            AudioFileTemplate="{Conversation.Id}_{Recording.Id}.{FileExtension}",
        ),
    )
    log = tmp_path / "service-console.log"
    with Simulator(
        seed=51,
        config_document=doc,
        heartbeat_s=1.0,
        details_delay_s=0.3,
        recording_delay_s=0.3,
        transcript_delay_s=4.0,
        event_speed=200.0,
    ) as sim:
        settings = write_settings(tmp_path, sim)
        calls: list = []

        def inject() -> None:
            for i in range(30):
                calls.append(
                    sim.inject_call(
                        kind=KINDS[i % len(KINDS)], queue_name=("Sales", "Support")[i % 2], duration_s=20
                    )
                )
                time.sleep(1.0)

        injector = threading.Thread(target=inject)
        proc = start(settings, sim, log)
        injector.start()
        ledger_path = tmp_path / "state" / "ledger.sqlite3"
        try:
            for done_before_kill in (3, 10, 18):  # kill while exports are running, at three depths
                assert wait_for(lambda n=done_before_kill: count(ledger_path, "done") >= n, 180), (
                    log.read_text()[-3000:]
                )
                kill_9(proc)
                time.sleep(0.5)
                proc = start(settings, sim, log)
            injector.join()
            finished = lambda: {c.conversation_id: state_of(ledger_path, c.conversation_id) for c in calls}  # noqa: E731
            wait_for(lambda: all(s in ("done", "failed") for s in finished().values()), 300)
            states = finished()
            missing = [(c.kind, c.conversation_id) for c in calls if states[c.conversation_id] != "done"]
            assert not missing, (missing, log.read_text()[-5000:])
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                assert proc.wait(60) == 0
            except subprocess.TimeoutExpired:
                kill_9(proc)
                raise
    for call in calls:
        for name, folder in (("Archive", out / "archive"), ("QA", out / "qa")):
            files = sorted(p for p in folder.rglob(f"{call.conversation_id}*") if not p.name.startswith("."))
            assert len(files) == expected(call, name), (call.kind, name, files)
            assert not any("_1." in p.name or "_2." in p.name for p in files), files  # no second copies
    console = log.read_text(errors="replace")
    assert console.count("callexport starting") == 4


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def count(ledger_path: Path, state: str) -> int:
    if not ledger_path.exists():
        return 0
    ledger = Ledger(ledger_path)
    try:
        return ledger.counts().get(state, 0)
    finally:
        ledger.close()


def state_of(ledger_path: Path, conversation_id: str) -> str | None:
    ledger = Ledger(ledger_path)
    try:
        job = ledger.job(conversation_id)
        return job.state if job else None
    finally:
        ledger.close()
