"""Three `run.py service` processes on one simulator and one PostgreSQL ledger, 60 calls: one
instance is killed with `kill -9` mid-run and the leader later. Every in-scope call is exported
exactly once per profile (no duplicate file, none missing), the leader role moves within 30 s, and no
lease is left orphaned."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from service_harness import document, profile
from test_e2e_process_kill import expected

from ledger import LEADER, Ledger
from licensing.demo import write_demo_license
from service.license_check import LICENSE_FILE
from simulator.app import Simulator

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("inbound_simple", "multi_recording", "blind_transfer", "outbound", "no_recording", "inbound_hold")
CALLS = 60
LEASE_S = 3


def write_settings(tmp_path: Path, sim: Simulator, name: str, ledger_url: str) -> Path:
    settings = tmp_path / f"{name}.toml"
    state = tmp_path / name / "state"
    settings.write_text(
        f'[genesys]\napi_url = "{sim.api_url}"\nrequests_per_minute = 6000\nheartbeat_seconds = 1\n'
        f'[service]\nstate_dir = "{state.as_posix()}"\nlog_dir = "{(tmp_path / name / "logs").as_posix()}"\n'
        f'ledger_url = "{ledger_url}"\ninstance_name = "{name}"\nlease_seconds = {LEASE_S}\n'
        "max_concurrent_exports = 4\ndsp_workers = 1\ntranscript_wait_seconds = 60\n"
        "no_recording_after_seconds = 3\nreconcile_interval_seconds = 2\nreconcile_lookback_seconds = 900\n"
        "wrapup_timeout_seconds = 20\nstatus_interval_seconds = 3\nshutdown_timeout_seconds = 10\n"
        f'[license]\ndirectory = "{(tmp_path / "license").as_posix()}"\nntp_servers = []\n'
    )
    return settings


def start(settings: Path, sim: Simulator, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLEXPORT_")}
    env.update(CALLEXPORT_CLIENT_ID=sim.client_id, CALLEXPORT_CLIENT_SECRET=sim.client_secret)
    return subprocess.Popen(
        [sys.executable, "run.py", "service", "--settings", str(settings)],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: kill -9 takes its DSP worker down with it
    )


def kill_9(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def wait_for(predicate, timeout: float, step: float = 0.25) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


@pytest.mark.slow
def test_three_instances_survive_kill_9_of_one_and_of_the_leader(tmp_path, pg_url):
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
            AudioFormat="WAV",
            AudioFileTemplate="{Conversation.Id}_{Recording.Id}.{FileExtension}",
        ),
    )
    names = ("alpha", "beta", "gamma")
    logs = {name: tmp_path / f"{name}-console.log" for name in names}
    ledger = Ledger(pg_url)  # the test's own view of the shared ledger (creates the schema first)
    procs: dict[str, subprocess.Popen] = {}
    t0 = time.monotonic()
    phases: list[str] = []

    def phase(what: str) -> None:
        phases.append(f"{time.monotonic() - t0:5.1f} s {what}")

    with Simulator(
        seed=61,
        config_document=doc,
        heartbeat_s=1.0,
        details_delay_s=0.3,
        recording_delay_s=0.3,
        transcript_delay_s=2.0,
        event_speed=200.0,
    ) as sim:
        for name in names:
            procs[name] = start(write_settings(tmp_path, sim, name, pg_url), sim, logs[name])
        assert wait_for(lambda: len(ledger.instances(live_within=LEASE_S * 2)) == 3, 45), {
            n: logs[n].read_text()[-2000:] for n in names
        }
        assert wait_for(lambda: ledger.lease_holder(LEADER) is not None, 15)
        phase("three instances live")
        calls: list = []

        def inject() -> None:
            for i in range(CALLS):
                calls.append(
                    sim.inject_call(
                        kind=KINDS[i % len(KINDS)], queue_name=("Sales", "Support")[i % 2], duration_s=10
                    )
                )
                time.sleep(0.25)

        injector = threading.Thread(target=inject)
        injector.start()
        try:
            # 1. kill -9 an instance that is not the leader while it exports
            leader = ledger.lease_holder(LEADER)

            def busy_follower() -> str | None:
                for i in ledger.instances(live_within=LEASE_S * 2):
                    if i.name != leader and i.running > 0:
                        return i.name
                return None

            assert wait_for(lambda: busy_follower() is not None and ledger.counts().get("done", 0) >= 5, 60)
            victim = busy_follower()
            assert victim is not None
            held = [j.conversation_id for j in ledger.jobs("running") if j.lease_owner == victim]
            kill_9(procs.pop(victim))
            phase(f"killed {victim} holding {len(held)} export(s)")
            # its leases expire and the others take its work over
            assert wait_for(
                lambda: not [j for j in ledger.jobs("running") if j.lease_owner == victim], LEASE_S * 6
            ), held
            phase("its leases taken over")
            # 2. later, kill -9 the leader: the role moves within 30 s
            assert wait_for(lambda: ledger.counts().get("done", 0) >= 30, 90)
            leader = ledger.lease_holder(LEADER)
            assert leader in procs, leader
            kill_9(procs.pop(leader))
            killed_at = time.monotonic()
            phase(f"killed the leader {leader}")
            assert wait_for(lambda: ledger.lease_holder(LEADER) not in (None, leader), 30)
            failover_s = time.monotonic() - killed_at
            phase(f"leader role moved in {failover_s:.1f} s")
            (survivor,) = procs
            assert ledger.lease_holder(LEADER) == survivor
            injector.join()
            ids = [c.conversation_id for c in calls]

            def all_finished() -> bool:
                jobs = {cid: ledger.job(cid) for cid in ids}
                return all(j is not None and j.state in ("done", "failed") for j in jobs.values())

            assert wait_for(all_finished, 120, 0.5), logs[survivor].read_text()[-4000:]
            states = {cid: ledger.job(cid).state for cid in ids}  # type: ignore[union-attr]
            missing = [(c.kind, c.conversation_id) for c in calls if states[c.conversation_id] != "done"]
            assert not missing, missing
            assert ledger.orphaned_leases() == [] and ledger.jobs("running") == []
            phase("all 60 calls exported")
        finally:
            injector.join()
            for proc in procs.values():
                proc.send_signal(signal.SIGINT)
            for proc in procs.values():
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
    assert failover_s < 30, failover_s
    taken_over = [
        line
        for n in names
        for line in logs[n].read_text(errors="replace").splitlines()
        if "lease of instance" in line
    ]
    assert taken_over  # the dead instances' work was taken over, not lost
    assert any("is now the leader" in logs[survivor].read_text(errors="replace") for _ in (0,))
    phase("stopped")
    print(f"leader failover {failover_s:.1f} s; {len(taken_over)} export(s) taken over", *phases, sep="\n")
    ledger.close()
