"""`run.py backfill` end to end against the simulator's history (7 days of short calls): exactly the
in-scope calls exported once (checked against the simulator's truth), a real Ctrl+C at about half way
and a resume without duplicates, a run beside the live service, the dry run, and bad input."""

from __future__ import annotations

import argparse
import os
import re
import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import soundfile
from service_harness import Harness, document, profile
from service_process import ServiceProcess, python_env, run_py

from backfill import cli
from ledger import Ledger
from licensing.demo import write_demo_license
from messages.intake import ExportRequested
from service.license_check import LICENSE_FILE
from simulator.app import Simulator

KINDS = ["inbound_simple", "no_recording", "blind_transfer", "outbound", "consult_transfer"]
PROFILE_QUEUES = {"Voice": {"Sales", "Support"}, "Claims": {"Claims"}}
DAYS, PER_DAY = 7, 6


def profiles_doc(root: Path) -> str:
    common = {
        "AudioFormat": "WAV",
        "ProcessingDelaySeconds": 0,
        "TranscriptExportEnabled": False,
        "AudioFileTemplate": "{Conversation.Id}_{Recording.Id}.{FileExtension}",
    }
    return document(
        profile("Voice", root / "voice", Queues=["Sales", "Support"], **common),
        profile("Claims", root / "claims", Queues=["Claims"], RequireAgentParticipant=True, **common),
    )


def in_scope(truth: Any, name: str) -> bool:
    return bool(set(truth.queue_names) & PROFILE_QUEUES[name]) and (name != "Claims" or truth.has_agent)


def expected_exports(sim: Simulator) -> set[tuple[str, str]]:
    """(profile, conversation id) the backfill must export: in scope, recorded, recordings available."""
    out = set()
    for calls in sim.history.truth_by_day().values():
        for t in calls:
            for name in PROFILE_QUEUES:
                if in_scope(t, name) and t.recorded and t.recording_state == "AVAILABLE":
                    out.add((name, t.conversation_id))
    return out


def recordings(sim: Simulator, cid: str) -> int:
    return len(sim.history.truth(cid).recording_ids)


def files_by_conversation(root: Path) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for name in PROFILE_QUEUES:
        folder = root / name.lower()
        for path in folder.glob("*.wav") if folder.exists() else []:
            found[(name, path.name.split("_", 1)[0])] += 1
    return found


class World:
    def __init__(self, sim: Simulator, root: Path, **settings: Any) -> None:
        self.sim, self.root = sim, root
        write_demo_license(root / "license" / LICENSE_FILE)
        extra = "".join(f"{k} = {v}\n" for k, v in settings.items())
        self.settings = root / "callexport.toml"
        self.settings.write_text(
            f'[genesys]\napi_url = "{sim.api_url}"\n'
            f'[service]\nstate_dir = "{(root / "state").as_posix()}"\nlog_dir = "{(root / "logs").as_posix()}"\n'
            f"dsp_workers = 1\nshutdown_timeout_seconds = 15\n{extra}"
            f'[license]\ndirectory = "{(root / "license").as_posix()}"\nntp_servers = []\n'
        )
        today = datetime.now(UTC).date()
        self.interval = ["--from", str(today - timedelta(days=DAYS)), "--to", str(today - timedelta(days=1))]

    def env(self) -> dict[str, str]:
        return python_env(
            CALLEXPORT_CLIENT_ID=self.sim.client_id, CALLEXPORT_CLIENT_SECRET=self.sim.client_secret
        )

    def run(self, *argv: str, monkeypatch: pytest.MonkeyPatch) -> int:
        """`run.py backfill` in this process (the import cost is paid once per test session)."""
        monkeypatch.setenv("CALLEXPORT_CLIENT_ID", self.sim.client_id)
        monkeypatch.setenv("CALLEXPORT_CLIENT_SECRET", self.sim.client_secret)
        parser = argparse.ArgumentParser()
        cli.add_arguments(parser)
        args = parser.parse_args([*(argv or self.interval), "--settings", str(self.settings)])
        return cli.main(args)

    def written_lines(self) -> Counter[str]:
        """Files the backfill wrote, by path, over every run (its log)."""
        text = (self.root / "logs" / cli.LOG_FILE).read_text(encoding="utf-8")
        return Counter(re.findall(r"storage\.write: written (\S+)", text))

    def patches(self, since: float = 0.0) -> Counter[str]:
        """Participant-attribute write-backs per conversation (the simulator's request log)."""
        out: Counter[str] = Counter()
        for req in self.sim.requests:
            if req.method == "PATCH" and "/participants/" in req.path and req.time_s >= since:
                out[req.path.split("/")[5]] += 1
        return out


def simulator(root: Path, **kwargs: Any) -> Simulator:
    sim = Simulator(
        seed=43, config_document=profiles_doc(root), details_delay_s=0.1, recording_delay_s=0.1, **kwargs
    )
    return sim


def add_history(sim: Simulator) -> None:
    sim.history.add(DAYS, PER_DAY, kinds=KINDS, duration_s=6.0)
    sim.bulk.jobs_queued_s, sim.bulk.jobs_run_s = 0.05, 0.1


def test_a_week_of_history_is_exported_exactly_once_then_a_second_run_exports_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with simulator(tmp_path) as sim:
        add_history(sim)
        world = World(sim, tmp_path)
        expected = expected_exports(sim)
        assert len(expected) >= 8
        # the dry run lists every call to export with its files, and starts nothing
        assert world.run(*world.interval, "--dry-run", monkeypatch=monkeypatch) == 0
        listing = capsys.readouterr().out
        for name, cid in expected:
            assert re.search(rf"{name}: audio: .*{cid}_", listing), (name, cid)
        assert "API request(s)" in listing and "min at 150 requests/min" in listing and "of audio" in listing
        assert not (tmp_path / "voice").exists() and not (tmp_path / "state" / "ledger.sqlite3").exists()

        since = time.time()
        assert world.run(monkeypatch=monkeypatch) == 0
        out = capsys.readouterr().out
        files = files_by_conversation(tmp_path)
        assert set(files) == expected, (set(files) ^ expected, out)
        # archived and deleted recordings are reported per call with what to do
        truths = {t.conversation_id: t for calls in sim.history.truth_by_day().values() for t in calls}
        for cid, t in truths.items():
            if any(in_scope(t, n) for n in PROFILE_QUEUES) and t.recording_state == "ARCHIVED":
                assert re.search(rf"{cid}: skipped: recording archived: restore it", out), out
            if any(in_scope(t, n) for n in PROFILE_QUEUES) and t.recording_state == "DELETED":
                assert re.search(rf"{cid}: skipped: recording deleted", out), out
        written = world.written_lines()
        assert written and max(written.values()) == 1
        # recordings come from batch requests (100 calls per request): a call with one recording makes no
        # recordings request of its own; the others (two recordings, archived, deleted) ask one by one
        assert [r for r in sim.requests if r.time_s >= since and r.path.endswith("/recording/batchrequests")]
        single = {cid for _, cid in expected if recordings(sim, cid) == 1}
        asked = {
            r.path.split("/")[4]
            for r in sim.requests
            if r.time_s >= since and r.path.startswith("/api/v2/conversations/") and "/recording" in r.path
        }
        assert single and not asked & single, asked & single
        assert asked - single  # the fallback is taken too
        for name, cid in expected:
            if cid not in single:
                continue
            for path in (tmp_path / name.lower()).glob(f"{cid}_*.wav"):
                info = soundfile.info(str(path))  # re-encoded from the batch's original codec
                assert info.format == "WAV" and info.subtype == "PCM_16" and info.duration > 0.5, (path, info)
        patches = world.patches(since)
        assert max(patches.values()) == 1  # one write-back request per call (participant attributes)
        assert not [
            r
            for r in sim.requests
            if r.time_s >= since and "customattributes" in r.path and r.method == "PUT"
        ]
        ledger = Ledger(tmp_path / "state" / "ledger.sqlite3")
        try:
            for name, cid in expected:
                assert ledger.profile_status(cid, name, "audio") == "exported"
            assert {j.source for j in ledger.jobs()} == {"backfill"}
        finally:
            ledger.close()

        # the same command once more: a new pass, everything already exported is skipped
        again = time.time()
        assert world.run(monkeypatch=monkeypatch) == 0
        out = capsys.readouterr().out
        assert "exported 0" in out and "already exported" in out, out
        assert files_by_conversation(tmp_path) == files
        exported = {cid for _, cid in expected}
        assert not set(world.patches(again)) & exported
        assert not [
            r
            for r in sim.requests
            if r.time_s >= again and "/recordings" in r.path and r.path.split("/")[4] in exported
        ]


def test_interrupted_at_half_way_and_run_again_it_finishes_without_duplicates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with simulator(tmp_path) as sim:
        add_history(sim)
        # one export at a time, so that there is a half way to interrupt at
        world = World(sim, tmp_path, max_concurrent_exports=1)
        expected = expected_exports(sim)
        target = len({cid for _, cid in expected}) // 2
        process = ServiceProcess(
            [*run_py(), "backfill", *world.interval, "--settings", str(world.settings)],
            cwd=tmp_path,
            env=world.env(),
            log=tmp_path / "first-run.txt",
        )
        ledger_path = tmp_path / "state" / "ledger.sqlite3"
        try:
            deadline = time.monotonic() + 60
            done = 0
            while time.monotonic() < deadline:
                if ledger_path.exists():
                    ledger = Ledger(ledger_path)
                    try:
                        done = ledger.counts().get("done", 0) + ledger.counts().get("failed", 0)
                    finally:
                        ledger.close()
                if done >= target or process.process.poll() is not None:
                    break
                time.sleep(0.1)
            assert done >= target, process.text()
            process.signal(signal.SIGINT)  # Ctrl+C
            assert process.wait(60) == cli.EXIT_INTERRUPTED, process.text()
        finally:
            process.kill()
        first = files_by_conversation(tmp_path)
        assert 0 < len(first) < len(expected), process.text()
        assert "run the same command to resume" in process.text()

        assert world.run(monkeypatch=monkeypatch) == 0  # resumes
        out = capsys.readouterr().out
        assert "backfill: done" in out
        files = files_by_conversation(tmp_path)
        assert set(files) == expected
        assert all(files[k] == first[k] for k in first)  # nothing written again
        written = world.written_lines()
        assert max(written.values()) == 1, [p for p, n in written.items() if n > 1]
        assert max(world.patches().values()) == 1


def test_beside_the_running_service_live_calls_keep_their_latency_and_nothing_is_exported_twice(
    tmp_path: Path,
) -> None:
    with simulator(tmp_path, event_speed=100.0) as sim:
        add_history(sim)
        world = World(sim, tmp_path, max_concurrent_exports=2)  # one backfill export at a time: it lasts
        expected = expected_exports(sim)
        harness = Harness(sim, tmp_path, dsp_workers=1, log_dir=None)
        harness.start()
        try:
            # the service exported two of the past calls already: the backfill leaves them alone
            before = sorted({cid for _, cid in expected})[:2]
            for cid in before:
                harness.deps.ledger.add_job(cid, (), 0.0)
                harness.deps.directory.tell("exports", ExportRequested(cid))
            assert set(harness.wait_done(before, 60).values()) == {"done"}
            process = ServiceProcess(
                [*run_py(), "backfill", *world.interval, "--settings", str(world.settings)],
                cwd=tmp_path,
                env=world.env(),
                log=tmp_path / "backfill.txt",
            )
            try:
                assert process.wait_for(": starting", 90), process.text()
                # the service restarts while the backfill exports: it resumes its own jobs, not the backfill's
                assert harness.wait(lambda: harness.deps.ledger.counts().get("done", 0) >= 3, 60)
                harness.stop()
                harness = Harness(sim, tmp_path, dsp_workers=1, log_dir=None)
                harness.start()
                assert process.process.poll() is None, "the backfill ended before the service restarted"
                live: list[tuple[str, float]] = []
                for i in range(6):
                    call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=4.0)
                    ready_at = time.time() + (call.last_event_ms() - call.start_ms) / 1000 / 100.0
                    live.append((call.conversation_id, ready_at))
                    time.sleep(0.7 if i % 2 else 0.3)
                assert process.wait(120) == 0, process.text()
            finally:
                process.kill()
            states = harness.wait_done([cid for cid, _ in live], 60)
            assert set(states.values()) == {"done"}, states
            latencies = []
            for cid, ready_at in live:
                job = harness.deps.ledger.job(cid)
                assert job is not None and job.done_at is not None and job.source == "live"
                latencies.append(job.done_at - ready_at)
            # the live calls were exported while the backfill exported the history
            backfilled = [
                j.done_at or 0.0 for j in harness.deps.ledger.jobs("done") if j.source == "backfill"
            ]
            assert backfilled and max(backfilled) > min(ready for _, ready in live), (backfilled, live)
            latencies.sort()
            median = latencies[len(latencies) // 2]
            print(f"live latency beside the backfill: median {median:.2f} s, max {latencies[-1]:.2f} s")
            assert median < 5.0, latencies
        finally:
            harness.stop()
        files = files_by_conversation(tmp_path)
        assert expected <= set(files)
        assert all(n == recordings(sim, cid) for (_, cid), n in files.items() if cid in sim.history), files
        live_ids = {cid for cid, _ in live}
        assert {cid for _, cid in files if cid not in sim.history} == live_ids
        written = "\n".join(world.written_lines())
        for cid in before:
            assert f"{cid}_" not in written, cid  # exported by the service, skipped by the backfill
        assert "already exported" in process.text()
        assert max(world.patches().values()) == 1  # every call's status written back once


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "2026-01-10", "--to", "2026-01-03"], "reversed"),
        (["--from", "2999-01-01", "--to", "2999-01-02"], "future"),
        (["--from", "2001-01-01", "--to", "2001-01-02"], "retention"),
        (["--profile", "Nope"], "unknown profile"),
        (["--queue", "Nowhere"], "unknown queue"),
    ],
)
def test_bad_input_is_refused_with_exit_code_2_and_nothing_started(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    with simulator(tmp_path) as sim:
        world = World(sim, tmp_path)
        if argv[0] != "--from":
            argv = [*world.interval, *argv]
        assert world.run(*argv, monkeypatch=monkeypatch) == 2
        err = capsys.readouterr().err
        assert message in err, err
        assert not (tmp_path / "state").exists()
        assert not [r for r in sim.requests if "details/jobs" in r.path or "details/query" in r.path]


def test_interrupted_while_finding_the_calls_it_resumes_the_same_analytics_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import threading

    with simulator(tmp_path) as sim:
        add_history(sim)
        sim.bulk.jobs_queued_s, sim.bulk.jobs_run_s = 0.5, 4.0  # the analytics job takes a while
        world = World(sim, tmp_path)

        def submitted() -> int:
            return sum(1 for r in sim.requests if r.method == "POST" and r.path.endswith("details/jobs"))

        def interrupt() -> None:
            deadline = time.monotonic() + 60
            while not submitted() and time.monotonic() < deadline:
                time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl+C, delivered to the command's handler

        thread = threading.Thread(target=interrupt, daemon=True)
        thread.start()
        assert world.run(monkeypatch=monkeypatch) == cli.EXIT_INTERRUPTED
        thread.join(5)
        assert "interrupted" in capsys.readouterr().out
        assert not (tmp_path / "voice").exists()
        assert world.run(monkeypatch=monkeypatch) == 0
        assert submitted() == 1  # the second run polled the first run's job
        assert set(files_by_conversation(tmp_path)) == expected_exports(sim)
