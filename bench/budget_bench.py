"""API budget benchmark (issue 12): Genesys Cloud requests per exported call, by endpoint, and the
throughput the org's request budget allows, with the demo's four-profile document.

    .venv/bin/python bench/budget_bench.py [--low-calls 36] [--burst-calls 200] [--sustained-minutes 2]
        [--budget 300] [--call-seconds 60] [--skip low,burst,sustained,single,single-batch]

Runs (the real service against the simulator; requests counted from the simulator's request log,
`/api/v2/...` only: what Genesys counts against the OAuth client's budget):

* low load: calls one at a time (the next after the previous export finished), demo profile document
  (Archive WAV + transcript, QA agent MP3, Compliance chapters M4B, Speech dataset OGG Opus);
  requests per exported call by endpoint, and the wrap-up → last Archive WAV file latency.
  Target ≤ 5.0 requests per call; latency median < 1 s.
* burst: `--burst-calls` calls injected at once; requests per call. Target ≤ 3.0.
* sustained: calls injected faster than the budget allows for `--sustained-minutes`, at `--budget`
  requests/min (the service's limiter and the simulator's `inin-ratelimit-allowed`), and the same
  unlimited; exported calls per minute. Target ≥ 60/min for the four profiles at 300/min.
* single: the one-profile case (WAV, audio only): calls/min at 300/min against unlimited.
  Target ≥ 95 % of unlimited.
* single-batch: the same profile named by the conversation's start time instead of the recording's,
  so a backlog's recordings come from batch downloads.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from service_bench import TimedHarness, percentile, prewarm, record_wrapups  # noqa: E402
from service_harness import document, profile  # noqa: E402

from simulator.app import Simulator  # noqa: E402

logger = logging.getLogger("bench.budget")

KINDS = ("inbound_simple", "inbound_simple", "blind_transfer", "multi_recording", "outbound", "inbound_hold")
QUEUES = ("Sales", "Support", "Billing", "Claims")
UNLIMITED = 1_000_000
BATCHABLE_TEMPLATE = "{Conversation.StartTime|Format(yyyyMMdd_HHmmss)}_{Agent.Name}_{Conversation.Id}_{Recording.Id}.{FileExtension}"


def demo_profiles(out: Path) -> str:
    text = (ROOT / "service" / "demo_profiles.json").read_text(encoding="utf-8")
    doc = json.loads(text.replace("{out}", json.dumps(str(out))[1:-1]))
    for p in doc["Profiles"]:
        p["ProcessingDelaySeconds"] = 0
    return json.dumps(doc)


def endpoint_counts(sim: Simulator, since_s: float) -> Counter[str]:
    counts: Counter[str] = Counter()
    for req in sim.requests:
        if req.time_s < since_s or not req.path.startswith("/api/v2/"):
            continue
        parts = req.path.split("/")
        key = "/".join("{id}" if len(p) >= 30 else p for p in parts)
        counts[f"{req.method} {key}"] += 1
    return counts


def report(title: str, counts: Counter[str], calls: int) -> float:
    total = sum(counts.values()) / max(1, calls)
    print(f"\n{title}: {total:.2f} API requests per exported call ({calls} calls)")
    for key, n in counts.most_common():
        print(f"    {n / calls:5.2f}  {key}")
    return total


SCREEN_FRACTION = [0.0]


def simulator(doc: str, seed: int, budget: int, **kw: Any) -> Simulator:
    options = {
        "screen_recording_fraction": SCREEN_FRACTION[0],
        "details_delay_s": 0.3,
        "recording_delay_s": 0.3,
        "transcript_delay_s": 0.5,
        "event_speed": 100.0,
        "heartbeat_s": 5.0,
        "rate_limit_allowed": budget,
    }
    options.update(kw)
    return Simulator(seed=seed, config_document=doc, **options)


def harness(sim: Simulator, work: Path, budget: int, **kw: Any) -> TimedHarness:
    return TimedHarness(
        sim,
        work,
        requests_per_minute=budget,
        dsp_workers=0,
        max_concurrent_exports=8,
        transcript_wait_s=120.0,
        reconcile_interval_s=60.0,
        log_dir=None,
        **kw,
    )


def run_low(args: argparse.Namespace, work: Path) -> None:
    out = work / "low"
    with simulator(demo_profiles(out), 11, UNLIMITED) as sim:
        wrapups = record_wrapups(sim)
        h = harness(sim, work / "svc-low", UNLIMITED).start()
        try:
            warm = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=args.call_seconds)
            h.wait_done([warm.conversation_id], 180)
            since = time.time()
            lat: list[float] = []
            calls = []
            for i in range(args.low_calls):
                call = sim.inject_call(
                    kind=KINDS[i % len(KINDS)],
                    queue_name=QUEUES[i % len(QUEUES)],
                    duration_s=args.call_seconds,
                )
                for fut in prewarm(sim, call):
                    fut.result(timeout=60)
                calls.append(call)
                h.wait_done([call.conversation_id], 240)
                archive = [t for t in h.audio_written_at(call.conversation_id)]
                if archive and call.conversation_id in wrapups:
                    lat.append(min(archive) - wrapups[call.conversation_id])
            counts = endpoint_counts(sim, since)
        finally:
            h.stop()
    report("Low load (one call at a time, four profiles)", counts, len(calls))
    if lat:
        print(
            f"    first audio file after wrap-up: median {statistics.median(lat):.3f} s, p95 {percentile(lat, 0.95):.3f} s"
        )


def run_burst(args: argparse.Namespace, work: Path) -> None:
    out = work / "burst"
    with simulator(demo_profiles(out), 12, UNLIMITED) as sim:
        h = harness(sim, work / "svc-burst", UNLIMITED).start()
        try:
            since = time.time()
            calls = [
                sim.inject_call(
                    kind=KINDS[i % len(KINDS)],
                    queue_name=QUEUES[i % len(QUEUES)],
                    duration_s=args.call_seconds,
                )
                for i in range(args.burst_calls)
            ]
            h.wait_done([c.conversation_id for c in calls], 1800)
            counts = endpoint_counts(sim, since)
        finally:
            h.stop()
    report(f"Burst ({args.burst_calls} calls at once, four profiles)", counts, len(calls))


SUSTAINED_SEEDS = itertools.count(13)
"""A simulator (and so an OAuth client id) per sustained run: the process shares one rate limiter per
client id, and a run at another budget must not inherit the previous run's window."""


def sustained(args: argparse.Namespace, work: Path, doc: str, budget: int, label: str) -> tuple[float, float]:
    """(exports per minute of the calls injected in the window, exports finished per minute in its
    second half)."""
    with simulator(doc, next(SUSTAINED_SEEDS), budget) as sim:
        h = harness(sim, work / f"svc-{label}", budget).start()
        try:
            minutes = args.sustained_minutes
            rate = 120.0  # injected per minute: more than the budget allows
            calls = []
            started = time.monotonic()
            since = time.time()
            while time.monotonic() - started < minutes * 60:
                i = len(calls)
                calls.append(
                    sim.inject_call(
                        kind=KINDS[i % len(KINDS)],
                        queue_name=QUEUES[i % len(QUEUES)],
                        duration_s=args.call_seconds,
                    )
                )
                time.sleep(60.0 / rate)
            window_end = time.monotonic()
            until = time.time()
            done = sum(1 for c in calls if h.job_state(c.conversation_id) in ("done", "failed"))
            per_min = done / ((window_end - started) / 60)
            # the steady state: exports finished in the window's second half, whenever their call came
            # (the count above also holds the last calls' latency: in flight when the window closes)
            half = (until - since) / 2
            finished = [
                j.done_at for j in (h.deps.ledger.job(c.conversation_id) for c in calls) if j and j.done_at
            ]
            steady = sum(1 for t in finished if until - half <= t <= until) / (half / 60)
            counts = endpoint_counts(sim, since)
        finally:
            h.stop()
    print(
        f"\nSustained {label}: {per_min:.1f} calls exported per minute ({done} of {len(calls)} injected in "
        f"{minutes:g} min); {steady:.1f} per minute finished in the window's second half"
    )
    report(f"  requests in that window per exported call ({label})", counts, max(1, done))
    return per_min, steady


def ratios(a: tuple[float, float], b: tuple[float, float]) -> str:
    """Budget-bound ÷ unlimited, over the window and in its second half (the steady state)."""
    return (
        f"{a[0] / max(b[0], 1e-9):.2f}; steady state (second half): {a[1]:.1f} ÷ {b[1]:.1f} = "
        f"{a[1] / max(b[1], 1e-9):.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--low-calls", type=int, default=36
    )  # steady state, not only the first calls' learning
    parser.add_argument("--burst-calls", type=int, default=200)
    parser.add_argument("--sustained-minutes", type=float, default=2.0)
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--call-seconds", type=float, default=60.0)
    parser.add_argument(
        "--screen-fraction",
        type=float,
        default=0.0,
        help="share of agent calls with a screen recording too (an org with screen recording: 0.2 ... 1)",
    )
    parser.add_argument(
        "--skip", default="", help="comma-separated runs to skip: low,burst,sustained,single,single-batch"
    )
    parser.add_argument(
        "--no-unlimited",
        action="store_true",
        help="sustained runs at the budget only (no unlimited reference)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    SCREEN_FRACTION[0] = args.screen_fraction
    print(f"screen recordings on {args.screen_fraction:.0%} of agent calls")
    work = Path(tempfile.mkdtemp(prefix="callexport-budget-"))
    if "low" not in skip:
        run_low(args, work)
    if "burst" not in skip:
        run_burst(args, work)
    if "sustained" not in skip:
        a = sustained(
            args, work, demo_profiles(work / "s300"), args.budget, f"four profiles at {args.budget}/min"
        )
        if not args.no_unlimited:
            b = sustained(args, work, demo_profiles(work / "sinf"), UNLIMITED, "four profiles unlimited")
            print(f"    budget-bound / unlimited: {ratios(a, b)}")
    if "single" not in skip:
        one = document(
            profile(
                "Archive", work / "single", Queues=list(QUEUES), AudioFormat="WAV", ProcessingDelaySeconds=0
            )
        )
        a = sustained(args, work, one, args.budget, f"one profile at {args.budget}/min")
        if not args.no_unlimited:
            b = sustained(args, work, one, UNLIMITED, "one profile unlimited")
            print(f"    budget-bound / unlimited (target ≥ 0.95): {ratios(a, b)}")
    if "single-batch" not in skip:
        # the same profile named by the conversation's start, not the recording's: no recording metadata
        # needed, so a backlog's recordings come in batches (export/batch_sources.py)
        named = document(
            profile(
                "Archive",
                work / "single-batch",
                Queues=list(QUEUES),
                AudioFormat="WAV",
                ProcessingDelaySeconds=0,
                AudioFileTemplate=BATCHABLE_TEMPLATE,
            )
        )
        a = sustained(args, work, named, args.budget, f"one batchable profile at {args.budget}/min")
        if not args.no_unlimited:
            b = sustained(args, work, named, UNLIMITED, "one batchable profile unlimited")
            print(f"    budget-bound / unlimited (target ≥ 0.95): {ratios(a, b)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
