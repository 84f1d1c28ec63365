"""Service benchmark: the real service (actors, HTTP, WebSocket, DSP processes) against the simulator.

    .venv/bin/python bench/service_bench.py [--latency-calls 20] [--latency-calls-202 10]
        [--throughput-calls 60] [--throughput-runs 2@300,2@0,1@0] [--log service.log] [--sample]

In one process run it measures (issue 6, "What must be shown"):

1. Latency: wrap-up event -> last file on disk for 5-minute calls injected one at a time. The start
   instant is the moment the simulator starts publishing the call's *last* event (its scheduler
   calls `Simulator._publish(..., final=True)`; the bench wraps that method on its own instance to
   read the time). The end instant is the `on_file_written` observer time of the call's last file.
   Profile: WAV output, no DSP, no transcript, ProcessingDelaySeconds 0; simulator
   details_delay_s=0, recording_delay_s=0, with transcode_202_count 0 and 1.
   Target: median < 1 s.
2. Throughput: N 5-minute calls injected at once, full DSP chain (TrimSilence false, ReduceNoise
   true, NormalizeLoudness true) to MP3, no transcript; calls per minute from the first wrap-up
   event to the last file (also from the first injection), for each `--throughput-runs` entry
   WORKERS@BUDGET (`dsp_workers` @ the org's API requests per minute, set on the service's limiter
   and on the simulator's `inin-ratelimit-allowed`; 0 = unlimited, the service's own capacity).
   Target: >= 60 calls/min with 2 workers, and more with 2 workers than with 1.
3. References measured in the same run: the raw audio chain (`audio.export.export_recording`) on one
   of the same 5-minute recordings in this process (its ideal calls/min per worker), one plain REST
   round trip and one plain media download of the same WAV over HTTP.

The simulator synthesises media lazily; by default the bench asks it to render every call's media
right after injection (`--no-prewarm` to turn off), so the numbers measure the service, not the
simulator's synthesiser. Real Genesys Cloud has the media ready when it stops answering 202.
Requests per call are counted from the simulator's request log: with the default org budget of
300 requests per minute they bound the throughput. `--sample` adds CPU seconds per thread and per
DSP process and the busy frames of every thread (py-spy is not available here). Results and the
bottlenecks found: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import platform
import re
import statistics
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

import requests  # noqa: E402
from service_harness import Harness, document, profile  # noqa: E402

from simulator.app import Simulator  # noqa: E402

logger = logging.getLogger("bench.service")

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CALL_S = 300.0
QUEUE = "Sales"
KIND = "inbound_simple"
LATENCY_TARGET_S = 1.0
THROUGHPUT_TARGET = 60.0


# -- instrumentation (this bench's own objects only) -----------------------------------------------
class LogCounter(logging.Handler):
    """Keeps every WARNING and ERROR record so each run can report what went wrong during it."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def mark(self) -> int:
        return len(self.records)

    def since(self, mark: int) -> list[str]:
        return [f"{r.levelname} {r.name}: {r.getMessage()}" for r in self.records[mark:]]


LOG_COUNTER = LogCounter()


class TimedHarness(Harness):
    """The test harness plus the wall-clock time of every `on_file_written` call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.written_at: dict[str, list[float]] = {}
        self.audio_at: dict[str, list[float]] = {}
        super().__init__(*args, **kwargs)

    def _written(self, written: Any) -> None:
        now = time.time()
        super()._written(written)
        with self.lock:
            self.written_at.setdefault(written.conversation_id, []).append(now)
            if written.item.startswith("audio:"):
                self.audio_at.setdefault(written.conversation_id, []).append(now)

    def audio_written_at(self, conversation_id: str) -> list[float]:
        with self.lock:
            return list(self.audio_at.get(conversation_id, []))

    def last_file_at(self, conversation_id: str) -> float | None:
        with self.lock:
            times = self.written_at.get(conversation_id)
            return max(times) if times else None


def record_wrapups(sim: Simulator) -> dict[str, float]:
    """conversation id -> epoch time the simulator started publishing the call's last event."""
    published: dict[str, float] = {}
    original = sim._publish

    def publish(live: Any, at_ms: int, final: bool) -> None:
        if final:
            published[live.conversation_id] = time.time()
        original(live, at_ms, final)

    sim._publish = publish  # type: ignore[method-assign]
    return published


def prewarm(sim: Simulator, call: Any, fmt: str = "WAV") -> list[Any]:
    """Have the simulator render the call's media now (futures), as Genesys has it ready."""
    return [sim.media.request(call, rec, fmt) for rec in call.recordings]


IDLE_FRAMES = (
    "threading.py:wait",
    "selectors.py:select",
    "socket.py:readinto",
    "socket.py:accept",
    "thread.py:_worker",
    "queue.py:get",
    "connection.py:_recv",
    "connection.py:wait",
    "inotify_c.py:_check_inotify_fd",
    "configuration.py:_run_observer",
    "messages.py:get_next_frame",
    "_socket.py:_recv",
    "service_harness.py:wait:89",
    "ssl.py:read",
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_s(stat_path: str) -> float | None:
    """utime + stime of a /proc stat file, in seconds."""
    try:
        text = Path(stat_path).read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _process_cpu() -> float:
    times = os.times()
    return times.user + times.system


def child_pids() -> list[int]:
    pids = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        if int(text[text.rindex(")") + 2 :].split()[1]) == me:
            pids.append(int(entry.name))
    return pids


class StackSampler:
    """A poor man's py-spy for the service process (which also hosts the simulator).

    Every `interval_s` it records each busy thread's innermost frame and innermost project frame
    (`sys._current_frames()`; threads sitting in a wait/select/read are idle and not counted), and
    every 10 samples the CPU seconds of every thread (`/proc/self/task/<tid>/stat`, matched to
    Python threads by `native_id`) and of the child processes (the DSP workers)."""

    def __init__(self, interval_s: float = 0.01) -> None:
        self.interval_s = interval_s
        self.counts: Counter[tuple[str, str]] = Counter()
        self.samples = 0
        self.thread_cpu: dict[int, tuple[str, float, float]] = {}  # tid -> (name, first, last)
        self.child_cpu: dict[int, tuple[float, float]] = {}
        self.started = time.monotonic()
        self.elapsed = 0.0
        self.process_cpu = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def start(self) -> StackSampler:
        self.process_cpu = _process_cpu()
        self._account(first=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._account(first=False)
        self.elapsed = time.monotonic() - self.started
        self.process_cpu = _process_cpu() - self.process_cpu

    def _account(self, first: bool = False) -> None:
        for thread in threading.enumerate():
            tid = thread.native_id
            if tid is None:
                continue
            cpu = _cpu_s(f"/proc/self/task/{tid}/stat")
            if cpu is None:
                continue
            name, start, _ = self.thread_cpu.get(tid, (thread.name, cpu if first else 0.0, 0.0))
            self.thread_cpu[tid] = (name, start, cpu)
        for pid in child_pids():
            cpu = _cpu_s(f"/proc/{pid}/stat")
            if cpu is not None:
                start, _ = self.child_cpu.get(pid, (cpu if first else 0.0, 0.0))
                self.child_cpu[pid] = (start, cpu)

    def _run(self) -> None:
        own = threading.get_ident()
        while not self._stop.wait(self.interval_s):
            names = {t.ident: t.name for t in threading.enumerate()}
            self.samples += 1
            if self.samples % 10 == 0:
                self._account()
            for ident, frame in sys._current_frames().items():
                if ident == own:
                    continue
                where = _where(frame)
                if where.endswith(IDLE_FRAMES):
                    continue
                self.counts[(_group(names.get(ident, "?")), where)] += 1

    def cpu_by_group(self) -> dict[str, float]:
        groups: Counter[str] = Counter()
        for name, start, last in self.thread_cpu.values():
            groups[_group(name)] += max(0.0, last - start)
        for pid, (start, last) in self.child_cpu.items():
            groups[f"child process {pid}"] += max(0.0, last - start)
        return dict(groups)

    def report(self, top: int = 25) -> str:
        cores = os.cpu_count() or 1
        lines = [
            f"CPU seconds over {self.elapsed:.1f} s wall ({cores} cores = {cores * self.elapsed:.0f} CPU s):"
        ]
        lines.append(
            f"  {self.process_cpu:7.2f}  the bench process in all (service + simulator + this sampler; "
            "threads below)"
        )
        for name, cpu in sorted(self.cpu_by_group().items(), key=lambda kv: -kv[1]):
            if cpu >= 0.05:
                lines.append(f"  {cpu:7.2f}  {name}")
        lines.append(
            f"busy frames, {self.samples} samples every {self.interval_s * 1000:.0f} ms "
            "(count = samples a thread was running there):"
        )
        for (name, where), count in self.counts.most_common(top):
            lines.append(f"  {count:6d}  {name:26.26} {where}")
        return "\n".join(lines)


def _group(name: str) -> str:
    """Thread name without its counter: 'Thread-12 (process_request_thread)' -> 'process_request_thread'."""
    if "(" in name and name.endswith(")"):
        return name[name.index("(") + 1 : -1]
    return name.rstrip("0123456789").rstrip("-_") or name


def _where(frame: Any) -> str:
    """Innermost frame and the innermost project frame (file:function:line)."""
    inner = f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_name}"
    walk = frame
    while walk is not None:
        filename = walk.f_code.co_filename
        if filename.startswith(str(ROOT)) and "/.venv/" not in filename:
            rel = Path(filename).relative_to(ROOT)
            own = f"{rel}:{walk.f_code.co_name}:{walk.f_lineno}"
            return own if walk is frame else f"{own} <- {inner}"
        walk = walk.f_back
    return inner


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def request_counts(sim: Simulator, since_s: float, calls: int) -> tuple[float, str]:
    """Platform API requests (`/api/v2/...`, what the org's budget counts) per exported call since
    `since_s`, and every endpoint's count per call (media downloads are pre-signed URLs, not API)."""
    counts: Counter[str] = Counter()
    for req in sim.requests:
        if req.time_s < since_s:
            continue
        parts = req.path.split("/")
        key = "/".join("{id}" if len(p) >= 30 else p for p in parts)
        counts[f"{req.method} {key}"] += 1
    total = sum(v for k, v in counts.items() if k.split(" ", 1)[1].startswith("/api/v2/"))
    top = ", ".join(f"{k} {v / calls:.1f}" for k, v in counts.most_common(10))
    return total / max(1, calls), top


# -- 1. latency ------------------------------------------------------------------------------------------
def run_latency(args: argparse.Namespace, work: Path, transcode_202: int, calls: int) -> dict[str, Any]:
    out = work / f"latency-{transcode_202}"
    doc = document(
        profile(
            "Latency",
            out,
            Queues=[QUEUE],
            AudioFormat="WAV",
            TranscriptExportEnabled=False,
            ProcessingDelaySeconds=0,
        )
    )
    results: list[float] = []
    lag: list[float] = []
    with Simulator(
        seed=100 + transcode_202,
        config_document=doc,
        details_delay_s=0.0,
        recording_delay_s=0.0,
        transcode_202_count=transcode_202,
        transcript_delay_s=0.0,
        event_speed=args.event_speed,
        heartbeat_s=5.0,
    ) as sim:
        wrapups = record_wrapups(sim)
        harness = TimedHarness(
            sim,
            work / f"svc-latency-{transcode_202}",
            dsp_workers=1,
            requests_per_minute=args.requests_per_minute,
        ).start()
        try:
            since = time.time()
            log_mark = LOG_COUNTER.mark()
            warm = None
            for index in range(calls + 1):  # the first call warms connections and is not counted
                call = sim.inject_call(kind=KIND, queue_name=QUEUE, duration_s=CALL_S)
                cid = call.conversation_id
                futures = prewarm(sim, call) if args.prewarm else []
                for fut in futures:
                    fut.result(timeout=30)
                states = harness.wait_done([cid], timeout=120)
                if states[cid] != "done":
                    raise SystemExit(f"latency call {cid} ended {states[cid]}")
                wrapped, last = wrapups.get(cid), harness.last_file_at(cid)
                if wrapped is None or last is None:
                    raise SystemExit(f"latency call {cid}: no wrap-up time or no file")
                if index == 0:
                    warm = last - wrapped
                    continue
                results.append(last - wrapped)
                lag.append(wrapped - sim.live(cid).last_event_s)
                print(
                    f"  latency[202x{transcode_202}] call {index:2d}: {last - wrapped:6.3f} s",
                    flush=True,
                )
            per_call, top = request_counts(sim, since, calls + 1)
            warnings = LOG_COUNTER.since(log_mark)
        finally:
            harness.stop()
    return {
        "transcode_202": transcode_202,
        "values": results,
        "median": statistics.median(results),
        "p95": percentile(results, 0.95),
        "min": min(results),
        "max": max(results),
        "warm": warm,
        "scheduler_lag_median": statistics.median(lag) if lag else 0.0,
        "requests_per_call": per_call,
        "requests_top": top,
        "warnings": warnings,
    }


# -- 2. throughput -------------------------------------------------------------------------------------
UNLIMITED = 1_000_000


def run_throughput(
    args: argparse.Namespace, work: Path, workers: int, budget: int, seed: int
) -> dict[str, Any]:
    """N calls injected at once; `budget` is the org's API requests per minute (0: unlimited), set
    on both sides: the service's limiter and the simulator's `inin-ratelimit-allowed`."""
    label = f"{workers}w-{budget or 'unlimited'}"
    out = work / f"throughput-{label}"
    doc = document(
        profile(
            "Throughput",
            out,
            Queues=[QUEUE],
            AudioFormat="MP3",
            TrimSilence=False,
            ReduceNoise=True,
            NormalizeLoudness=True,
            TranscriptExportEnabled=False,
            ProcessingDelaySeconds=0,
        )
    )
    n = args.throughput_calls
    per_minute = budget or UNLIMITED
    with Simulator(
        seed=seed,
        config_document=doc,
        details_delay_s=0.0,
        recording_delay_s=0.0,
        transcode_202_count=0,
        transcript_delay_s=0.0,
        event_speed=args.event_speed,
        heartbeat_s=5.0,
        rate_limit_allowed=per_minute,
    ) as sim:
        wrapups = record_wrapups(sim)
        harness = TimedHarness(
            sim,
            work / f"svc-throughput-{label}",
            dsp_workers=workers,
            requests_per_minute=per_minute,
            recording_wait_s=600.0,
        ).start()
        try:
            # warm-up: one call per DSP worker starts the worker processes (imports, numpy, LAME)
            warm = [sim.inject_call(kind=KIND, queue_name=QUEUE, duration_s=CALL_S) for _ in range(workers)]
            for call in warm:
                prewarm(sim, call)
            states = harness.wait_done([c.conversation_id for c in warm], timeout=180)
            if set(states.values()) != {"done"}:
                raise SystemExit(f"throughput warm-up failed: {states}")
            # the burst: N calls whose events play over ~CALL_S / throughput_event_speed seconds, so
            # they all wrap up within about a second of each other; the simulator renders their media
            # meanwhile (Genesys Cloud has it ready when it stops answering 202)
            sim.config = dataclasses.replace(sim.config, event_speed=args.throughput_event_speed)
            since = time.time()
            log_mark = LOG_COUNTER.mark()
            injected_at = time.time()
            calls, futures = [], []
            for _ in range(n):
                call = sim.inject_call(kind=KIND, queue_name=QUEUE, duration_s=CALL_S)
                calls.append(call)
                if args.prewarm:
                    futures += prewarm(sim, call)
            ids = [c.conversation_id for c in calls]
            media_ready = None
            if futures:
                for fut in futures:
                    fut.result(timeout=120)
                media_ready = time.time()
            harness.wait(lambda: any(c in wrapups for c in ids), timeout=120)
            sampler = StackSampler().start() if args.sample else None  # from the first wrap-up
            states = harness.wait_done(ids, timeout=args.throughput_timeout)
            if sampler:
                sampler.stop()
            not_done = {c: s for c, s in states.items() if s != "done"}
            first_wrap = min(wrapups[c] for c in ids if c in wrapups)
            last_wrap = max(wrapups[c] for c in ids if c in wrapups)
            done_lasts = [t for t in (harness.last_file_at(c) for c in ids) if t is not None]
            last = max(done_lasts)
            finished = len(done_lasts)
            per_call, top = request_counts(sim, since, n)
            warnings = LOG_COUNTER.since(log_mark)
        finally:
            harness.stop()
    span_wrap = last - first_wrap
    span_inject = last - injected_at
    return {
        "workers": workers,
        "budget": budget,
        "calls": n,
        "finished": finished,
        "not_done": not_done,
        "span_from_wrapup": span_wrap,
        "span_from_injection": span_inject,
        "wrapup_spread": last_wrap - first_wrap,
        "cpm_from_wrapup": finished / span_wrap * 60.0,
        "cpm_from_injection": finished / span_inject * 60.0,
        "media_ready_before_wrapup_s": None if media_ready is None else first_wrap - media_ready,
        "requests_per_call": per_call,
        "requests_top": top,
        "warnings": warnings,
        "stacks": sampler.report() if sampler else "",
    }


# -- 3. references -----------------------------------------------------------------------------------
def reference_chain(work: Path, repeats: int) -> dict[str, float]:
    """The audio chain alone, in this process, on one 5-minute recording of the same kind."""
    import random

    from audio.export import export_recording
    from audio.options import AudioOptions
    from simulator.documents import recording as recording_doc
    from simulator.media import encode_recording
    from simulator.org import default_org
    from simulator.scenarios import generate_call

    org = default_org(7)
    call = generate_call(
        org, random.Random(7), end_ms=int(time.time() * 1000) - 60_000, kind=KIND, duration_s=CALL_S
    )
    rec = call.recordings[0]
    src_dir = work / "ref-src"
    src_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    source = encode_recording(call, rec, "WAV", src_dir)
    synth_s = time.perf_counter() - started
    recording = recording_doc(call, rec, org, format_id="WAV", media_uris=None, file_state="AVAILABLE")
    full = AudioOptions(format="MP3", trim_silence=False, reduce_noise=True, normalize_loudness=True)
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        export_recording(source, recording, None, full, work / f"ref-out-{i}")
        times.append(time.perf_counter() - started)
    return {"chain_mp3_s": statistics.median(times), "sim_wav_render_s": synth_s, "source": str(source)}


def reference_http(work: Path) -> dict[str, float]:
    """One REST round trip (token + GET) and one download of a 5-minute WAV from the simulator's server."""
    with Simulator(seed=300, details_delay_s=0.0, recording_delay_s=0.0, transcode_202_count=0) as sim:
        call = sim.inject_call(kind=KIND, queue_name=QUEUE, duration_s=CALL_S, ended_ago_s=5)
        for fut in prewarm(sim, call):
            fut.result(timeout=30)
        session = requests.Session()
        token = session.post(
            sim.api_url + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(sim.client_id, sim.client_secret),
            timeout=10,
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        rest, download = [], []
        for _ in range(5):
            started = time.perf_counter()
            resp = session.get(
                f"{sim.api_url}/api/v2/conversations/{call.conversation_id}/recordings",
                params={"formatId": "WAV"},
                headers=headers,
                timeout=10,
            )
            rest.append(time.perf_counter() - started)
            uri = resp.json()[0]["mediaUris"]["S"]["mediaUri"]
            started = time.perf_counter()
            target = work / "ref-download.wav"
            with session.get(uri, stream=True, timeout=30) as media, open(target, "wb") as fh:
                for chunk in media.iter_content(1 << 16):
                    fh.write(chunk)
            download.append(time.perf_counter() - started)
    return {"rest_s": statistics.median(rest), "download_s": statistics.median(download)}


# -- report --------------------------------------------------------------------------------------------
def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0, 0, 0)
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average at start {load[0]:.2f}"
    )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def parse_runs(text: str) -> list[tuple[int, int]]:
    """'2@300,2@0,1@0' -> [(workers, budget per minute; 0 = unlimited)]."""
    runs = []
    for item in text.split(","):
        if item.strip():
            workers, _, budget = item.strip().partition("@")
            runs.append((int(workers), int(budget or 0)))
    return runs


def budget_name(budget: int) -> str:
    return f"budget {budget}/min" if budget else "unlimited budget"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-calls", type=int, default=20, help="calls for the latency (202 x0)")
    parser.add_argument(
        "--latency-calls-202", type=int, default=10, help="calls for the latency with one 202 (0: skip)"
    )
    parser.add_argument("--throughput-calls", type=int, default=60, help="calls in each throughput burst")
    parser.add_argument(
        "--throughput-runs",
        default="2@300,2@0,1@0",
        help="throughput runs as WORKERS@BUDGET (dsp_workers @ org API requests per minute, 0 = unlimited)",
    )
    parser.add_argument("--throughput-timeout", type=float, default=300.0)
    parser.add_argument("--event-speed", type=float, default=300.0, help="simulator event compression")
    parser.add_argument(
        "--throughput-event-speed",
        type=float,
        default=20.0,
        help="event compression of the burst (its calls' events play while their media renders)",
    )
    parser.add_argument("--requests-per-minute", type=int, default=300, help="org budget in the latency runs")
    parser.add_argument("--chain-repeats", type=int, default=3)
    parser.add_argument("--no-prewarm", dest="prewarm", action="store_false")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--log", type=Path, help="write the service and simulator log (INFO) to this file")
    parser.add_argument(
        "--sample", action="store_true", help="sample thread stacks and CPU per thread during throughput"
    )
    args = parser.parse_args(argv)

    root = logging.getLogger()
    root.setLevel(logging.INFO if args.log else logging.WARNING)
    root.addHandler(LOG_COUNTER)
    if args.log:
        handler = logging.FileHandler(args.log, mode="w", encoding="utf-8")
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(threadName)s %(levelname)s %(name)s: %(message)s")
        )
        root.addHandler(handler)
        logging.getLogger("actors.pipeline").setLevel(logging.DEBUG)  # "dsp-N: <id> processed in X s"

    print(f"machine: {machine()}", flush=True)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="callexport-service-bench-") as tmp:
        work = Path(tmp)
        ref = reference_chain(work, args.chain_repeats)
        http = reference_http(work)
        print(
            f"reference: audio chain (MP3, denoise + loudness) {ref['chain_mp3_s']:.3f} s per 5-min call, "
            f"REST round trip {http['rest_s'] * 1000:.1f} ms, WAV download {http['download_s'] * 1000:.1f} ms, "
            f"simulator WAV render {ref['sim_wav_render_s']:.3f} s",
            flush=True,
        )
        latencies = []
        if not args.skip_latency:
            latencies.append(run_latency(args, work, 0, args.latency_calls))
            if args.latency_calls_202 > 0:
                latencies.append(run_latency(args, work, 1, args.latency_calls_202))
        throughputs = []
        if not args.skip_throughput:
            for index, (workers, budget) in enumerate(parse_runs(args.throughput_runs)):
                result = run_throughput(args, work, workers, budget, seed=200 + index)
                throughputs.append(result)
                print(
                    f"  throughput dsp_workers={workers}, {budget_name(budget)}: "
                    f"{result['finished']}/{result['calls']} calls, {result['cpm_from_wrapup']:.1f} calls/min "
                    f"from first wrap-up ({result['span_from_wrapup']:.1f} s)",
                    flush=True,
                )

    print()
    print(f"{'measurement':62} {'result':>24} {'target':>14}  verdict")
    rows = []
    for lat in latencies:
        ok = lat["median"] < LATENCY_TARGET_S
        name = f"latency WAV, no DSP, transcode 202 x{lat['transcode_202']} (n={len(lat['values'])})"
        rows.append((name, f"med {lat['median']:.3f} / p95 {lat['p95']:.3f} s", "median < 1 s", verdict(ok)))
        rows.append(("  API requests per call", f"{lat['requests_per_call']:.1f}", "", ""))
    for tp in throughputs:
        ok = tp["cpm_from_wrapup"] >= THROUGHPUT_TARGET and not tp["not_done"]
        gated = tp["workers"] >= 2
        rows.append(
            (
                f"throughput MP3 full DSP, {tp['workers']} worker(s), {budget_name(tp['budget'])}",
                f"{tp['cpm_from_wrapup']:.1f} calls/min",
                ">= 60/min" if gated else "",
                verdict(ok) if gated else "",
            )
        )
        rows.append(
            (
                "  ceiling: raw chain time x workers",
                f"{60.0 / ref['chain_mp3_s'] * tp['workers']:.1f} calls/min",
                "",
                "",
            )
        )
        if tp["budget"]:
            rows.append(
                (
                    "  ceiling: budget / API requests per call",
                    f"{tp['budget'] / tp['requests_per_call']:.1f} calls/min",
                    "",
                    "",
                )
            )
    unlimited = {tp["workers"]: tp["cpm_from_wrapup"] for tp in throughputs if not tp["budget"]}
    if 1 in unlimited and 2 in unlimited:
        ratio = unlimited[2] / unlimited[1]
        rows.append(
            (
                "throughput 2 workers / 1 worker (unlimited budget)",
                f"{ratio:.2f}x",
                "> 1 (ideal 2)",
                verdict(ratio > 1.2),
            )
        )
    rows.append(("reference: raw audio chain per 5-min call (MP3)", f"{ref['chain_mp3_s']:.3f} s", "", ""))
    rows.append(
        (
            "reference: REST round trip / 9.6 MB WAV download",
            f"{http['rest_s'] * 1000:.1f} / {http['download_s'] * 1000:.1f} ms",
            "",
            "",
        )
    )
    for name, result, target, ok in rows:
        print(f"{name:62} {result:>24} {target:>14}  {ok}")
    print()
    for lat in latencies:
        print(
            f"latency 202 x{lat['transcode_202']}: values {', '.join(f'{v:.2f}' for v in lat['values'])}; "
            f"min {lat['min']:.3f}, max {lat['max']:.3f}, first (warm-up) call {lat['warm']:.3f} s; "
            f"scheduler lag {lat['scheduler_lag_median'] * 1000:.1f} ms\n  requests per call: {lat['requests_top']}"
        )
        print_warnings(lat["warnings"])
    for tp in throughputs:
        ready = tp["media_ready_before_wrapup_s"]
        print(
            f"throughput {tp['workers']} worker(s), {budget_name(tp['budget'])}: {tp['finished']}/{tp['calls']} "
            f"exported in {tp['span_from_wrapup']:.1f} s from the first wrap-up (wrap-ups spread over "
            f"{tp['wrapup_spread']:.1f} s; {tp['span_from_injection']:.1f} s and {tp['cpm_from_injection']:.1f} "
            f"calls/min from the first injection); simulator media "
            + ("not prewarmed" if ready is None else f"ready {ready:.1f} s before the first wrap-up")
            + f"; not done: {tp['not_done'] or 'none'}\n  requests per call: {tp['requests_top']}"
        )
        print_warnings(tp["warnings"])
    for tp in throughputs:
        if tp["stacks"]:
            print(
                f"\nservice process during the burst, {tp['workers']} worker(s), {budget_name(tp['budget'])}:\n"
                f"{tp['stacks']}"
            )
    print(f"\ntotal bench time {time.time() - started:.0f} s")
    return 0


def print_warnings(lines: list[str]) -> None:
    if not lines:
        print("  warnings/errors logged: none")
        return
    counts = Counter(UUID.sub("{id}", line)[:160] for line in lines)
    print(f"  warnings/errors logged: {len(lines)}")
    for line, count in counts.most_common(6):
        print(f"    {count:3d} x {line}")


if __name__ == "__main__":
    raise SystemExit(main())
