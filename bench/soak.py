"""Soak benchmark: a day of a contact centre, time-compressed, with the faults a week brings.

    .venv/bin/python bench/soak.py [--calls 300] [--rate 60] [--seed 1] [--no-faults] [--dsp]

The real service (actors, HTTP, WebSocket, worker processes, files) exports `--calls` calls injected at
`--rate` calls per minute (real time; each call's own events are time-compressed) while a fault
schedule runs through the simulator and the destination:

* 429 storms and 5xx bursts on the API, WebSocket drops and `socket_closing`, revoked tokens;
* transcripts late (0–20 compressed minutes) and some never;
* the destination replaced by a file for 30 s (every write fails, then heals);
* with `--dsp`, a second profile (MP3, loudness) whose DSP worker processes are killed twice.

It prints: calls exported exactly once (must be 100 %: per profile every expected file, none twice),
audio lag after wrap-up (the simulator publishing the call's last event → the call's last audio file
on disk) p50/p99, the first 5 calls (warm-up) printed apart (target p99 < 5 s at 60 calls/min on 2 cores with WAV output), parked and retried
counts, re-sent requests, and peak RSS (this process and its worker processes). Results:
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import resource
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from service_bench import LOG_COUNTER, TimedHarness, percentile, record_wrapups  # noqa: E402
from service_harness import document, profile  # noqa: E402

from simulator.app import Simulator  # noqa: E402
from simulator.documents import transcript_communication_ids  # noqa: E402

logger = logging.getLogger("bench.soak")

KINDS = ("inbound_simple", "inbound_simple", "multi_recording", "blind_transfer", "outbound", "inbound_hold")
WARMUP_CALLS = 5
"""The first calls' lag is printed apart: they open the connections and start the worker processes."""
P99_TARGET_S = 5.0


class Counting(logging.Handler):
    """Counts the operator-visible lines that say work waited, was retried or was re-sent."""

    PATTERNS = {
        "retried": "retrying in",
        "re-sent": "sending it again",
        "recovered": "recovered after",
    }

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        for name, needle in self.PATTERNS.items():
            if needle in message:
                self.counts[name] += 1


def expected_audio(call: Any) -> int:
    return len(call.recordings)


def expected_files(call: Any, name: str) -> int:
    if not call.recordings:
        return 0
    if name == "QA":
        return len(call.recordings)
    return len(call.recordings) + (
        len(transcript_communication_ids(call)) if call.transcript_available else 0
    )


def fault_schedule(sim: Simulator, out: Path, stop: threading.Event, span_s: float, dsp: bool) -> list[str]:
    """Runs the faults at fixed fractions of the injection span; returns what it did, with times."""
    done: list[str] = []
    t0 = time.monotonic()

    def at(fraction: float) -> bool:
        return not stop.wait(max(0.0, t0 + fraction * span_s - time.monotonic()))

    steps: list[tuple[float, str]] = [
        (0.10, "429 storm"),
        (0.18, "429 storm over"),
        (0.25, "5xx burst"),
        (0.30, "5xx burst over"),
        (0.35, "WebSocket dropped"),
        (0.45, "destination unwritable"),
        (0.55, "destination back"),
        (0.60, "socket_closing"),
        (0.70, "tokens revoked"),
    ]
    if dsp:
        steps += [(0.40, "DSP workers killed"), (0.80, "DSP workers killed")]
    for fraction, what in sorted(steps):
        if not at(fraction):
            break
        if what == "429 storm":
            sim.faults.retry_after_s, sim.faults.rate_429 = 1, 0.15
        elif what == "429 storm over":
            sim.faults.rate_429 = 0.0
        elif what == "5xx burst":
            sim.faults.rate_5xx = 0.2
        elif what == "5xx burst over":
            sim.faults.rate_5xx = 0.0
        elif what == "WebSocket dropped":
            sim.faults.drop_websockets()
        elif what == "destination unwritable":
            # the share goes away (its folder moved aside, a file where it was), then comes back with
            # everything written before: files that landed before the outage must still count
            (out / "archive").rename(out / "archive.away")
            (out / "archive").write_text("not a folder")
        elif what == "destination back":
            (out / "archive").unlink()
            (out / "archive.away").rename(out / "archive")
        elif what == "socket_closing":
            sim.faults.send_socket_closing()
        elif what == "tokens revoked":
            sim.faults.revoke_tokens()
        elif what == "DSP workers killed":
            import multiprocessing

            for worker in multiprocessing.active_children():
                os.kill(worker.pid, signal.SIGKILL)
        done.append(f"{time.monotonic() - t0:6.1f} s  {what}")
    return done


def run(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="callexport-soak-"))
    out = work / "out"
    (out / "archive").mkdir(parents=True)
    profiles_ = [
        profile(
            "Archive",
            out / "archive",
            Queues=["Sales", "Support"],
            AudioFormat="WAV",
            ProcessingDelaySeconds=0,
            TranscriptExportEnabled=True,
            TranscriptFormat="RAW",
            AudioFileTemplate="{Conversation.Id}_{Recording.Id}.{FileExtension}",
            TranscriptionFileTemplate="{Conversation.Id}_{Transcript.Id}.{FileExtension}",
        )
    ]
    if args.dsp:
        profiles_.append(
            profile(
                "QA",
                out / "qa",
                Queues=["Sales", "Support"],
                AudioFormat="MP3",
                NormalizeLoudness=True,
                ProcessingDelaySeconds=0,
                AudioFileTemplate="{Conversation.Id}_{Recording.Id}.{FileExtension}",
            )
        )
    if args.log:
        handler = logging.FileHandler(args.log, mode="w")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.setLevel(logging.DEBUG)
        logging.getLogger().addHandler(handler)
    counting = Counting()
    logging.getLogger().addHandler(counting)
    logging.getLogger().addHandler(LOG_COUNTER)
    logging.getLogger().setLevel(logging.INFO)
    for noisy in ("urllib3", "simulator", "websockets", "genesys.wrapup", "actors.export", "actors.pipeline"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if args.log else logging.WARNING)
    for quiet in ("urllib3", "simulator", "websockets"):
        logging.getLogger(quiet).setLevel(logging.WARNING)
    rng = random.Random(args.seed)
    compress = 60.0  # a transcript "minute" late is one second of real time
    span_s = args.calls / args.rate * 60.0
    with Simulator(
        seed=args.seed,
        config_document=document(*profiles_),
        heartbeat_s=2.0,
        socket_closing_grace_s=1.0,
        details_delay_s=0.5,
        recording_delay_s=0.5,
        transcript_delay_s=1.0,
        event_speed=100.0,
        rate_limit_allowed=100_000,
    ) as sim:
        wrapups = record_wrapups(sim)
        harness = TimedHarness(
            sim,
            work,
            heartbeat_s=2.0,
            requests_per_minute=100_000,
            max_concurrent_exports=8,
            dsp_workers=0,
            transcript_wait_s=60 * 60 / compress,  # the default hour: transcripts come 0-20 minutes late
            reconcile_interval_s=5.0,
            log_dir=None,
        )
        parks: Counter[str] = Counter()
        ledger_park = harness.deps.ledger.park

        def counted_park(conversation_id: str, wake_at: float, reason: str, machine: Any = None) -> None:
            parks[reason.split(":")[0].split(" after ")[0]] += 1
            ledger_park(conversation_id, wake_at, reason, machine)

        harness.deps.ledger.park = counted_park  # type: ignore[method-assign]
        harness.start()
        stop = threading.Event()
        schedule: list[str] = []
        faults = threading.Thread(
            target=lambda: schedule.extend(
                fault_schedule(sim, out, stop, span_s, args.dsp) if args.faults else []
            )
        )
        faults.start()
        calls = []
        started = time.monotonic()
        try:
            for i in range(args.calls):
                late_s = rng.uniform(0, 20 * 60) / compress
                call = sim.inject_call(
                    kind=KINDS[i % len(KINDS)],
                    queue_name=("Sales", "Support")[i % 2],
                    duration_s=rng.uniform(30, 240),
                    transcript_available=rng.random() > 0.1,
                )
                sim.delay_transcript(call.conversation_id, late_s)
                calls.append(call)
                time.sleep(max(0.0, started + (i + 1) * 60.0 / args.rate - time.monotonic()))
            harness.wait_done([c.conversation_id for c in calls], timeout=max(600.0, span_s))
        finally:
            stop.set()
            faults.join()
            ended = time.monotonic()
            harness.stop()
    # -- results -------------------------------------------------------------------------------
    states = Counter(harness.job_state(c.conversation_id) for c in calls)
    exact = 0
    problems: list[str] = []
    lags: list[float] = []
    warmup: list[float] = []
    for index, call in enumerate(calls):
        ok = True
        for spec in profiles_:
            name = spec["Name"]
            folder = out / ("archive" if name == "Archive" else "qa")
            files = [p for p in folder.rglob(f"{call.conversation_id}*") if not p.name.startswith(".")]
            want = expected_files(call, name)
            if len(files) != want or any("_1." in p.name for p in files):
                ok = False
                problems.append(
                    f"{call.conversation_id} {call.kind} {name}: {len(files)} file(s), expected {want}"
                )
        exact += ok
        audio_times = harness.audio_written_at(call.conversation_id)
        if call.recordings and audio_times and call.conversation_id in wrapups:
            # the first calls start the connections, the worker processes and the arrival estimates
            (warmup if index < WARMUP_CALLS else lags).append(
                max(audio_times) - wrapups[call.conversation_id]
            )
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rss_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\nSoak: {len(calls)} calls at {args.rate:g}/min over {ended - started:.0f} s, seed {args.seed}")
    print(f"  faults: {'none' if not args.faults else ''}")
    for line in schedule:
        print(f"    {line}")
    print(f"  job states: {dict(states)}")
    print(f"  exported exactly once: {exact}/{len(calls)} ({100.0 * exact / max(1, len(calls)):.1f} %)")
    for problem in problems[:20]:
        print(f"    {problem}")
    if args.log and lags:
        slowest = sorted(
            (
                (
                    max(harness.audio_written_at(c.conversation_id)) - wrapups[c.conversation_id],
                    c.conversation_id,
                    c.kind,
                )
                for c in calls
                if c.recordings
                and harness.audio_written_at(c.conversation_id)
                and c.conversation_id in wrapups
            ),
            reverse=True,
        )[:3]
        for lag, cid, kind in slowest:
            print(
                f"    slow: {cid} {kind} {lag:.2f} s (wrap-up at {time.strftime('%H:%M:%S', time.localtime(wrapups[cid]))})"
            )
    if lags:
        p50, p99 = percentile(lags, 0.5), percentile(lags, 0.99)
        print(
            f"  audio lag after wrap-up: p50 {p50:.2f} s, p99 {p99:.2f} s, max {max(lags):.2f} s (target p99 < {P99_TARGET_S:g} s)"
        )
    if warmup:
        print(f"  warm-up (first {WARMUP_CALLS} calls, not in the figures above): max {max(warmup):.2f} s")
    print(f"  parked: {sum(parks.values())} ({', '.join(f'{k}: {v}' for k, v in parks.most_common())})")
    print(
        f"  retried: {counting.counts['retried']}, re-sent: {counting.counts['re-sent']}, recovered: {counting.counts['recovered']}"
    )
    print(f"  peak RSS: service {rss_self:.0f} MB, largest worker process {rss_children:.0f} MB")
    print(f"  warnings and errors logged: {len(LOG_COUNTER.records)}")
    shutil.rmtree(work, ignore_errors=True)
    return 0 if exact == len(calls) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rate", type=float, default=60.0, help="calls injected per minute (real time)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-faults", dest="faults", action="store_false")
    parser.add_argument(
        "--dsp", action="store_true", help="add an MP3 + loudness profile (DSP workers killed twice)"
    )
    parser.add_argument("--log", type=Path, default=None, help="write every service log line (DEBUG) here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
