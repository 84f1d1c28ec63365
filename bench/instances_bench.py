"""Scale-out benchmark (issue 17): budget-bound throughput of 1 and of 2 instances on one PostgreSQL ledger.

    .venv/bin/python bench/instances_bench.py [--budget 300] [--minutes 2] [--warmup 30] [--rate 200]
        [--call-seconds 20] [--instances 1,2] [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Every instance is a real `run.py service` process with its own OAuth token and its own limiter at
`--budget` requests/min (the simulator enforces the same number per token through
`inin-ratelimit-allowed`), all sharing one PostgreSQL ledger (a throwaway database, dropped at the
end) and the demo's four-profile document. Calls are injected at `--rate` per minute, faster than the
instances' budgets allow, for `--warmup` + `--minutes`; the calls exported per minute are counted from
the ledger's `done_at` inside the measured window (after the warm-up, which lets the limiters' first
full windows pass). Target: 2 instances ≥ 1.8 × 1 instance. A budget-bound run is not CPU-bound, so
it can be measured on 2 cores; a reduced `--budget` keeps it budget-bound on a small machine (the
output says how busy the CPUs were).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ledger import Ledger  # noqa: E402
from licensing.demo import write_demo_license  # noqa: E402
from service.license_check import LICENSE_FILE  # noqa: E402
from simulator.app import Simulator  # noqa: E402

KINDS = ("inbound_simple", "inbound_simple", "blind_transfer", "multi_recording", "outbound", "inbound_hold")
QUEUES = ("Sales", "Support", "Billing", "Claims")


def demo_profiles(out: Path) -> str:
    text = (ROOT / "service" / "demo_profiles.json").read_text(encoding="utf-8")
    doc = json.loads(text.replace("{out}", json.dumps(str(out))[1:-1]))
    for p in doc["Profiles"]:
        p["ProcessingDelaySeconds"] = 0
    return json.dumps(doc)


def admin(server: str, dbname: str | None = None):  # type: ignore[no-untyped-def]
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server)
    return psycopg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        dbname=dbname or url.database or "postgres",
        autocommit=True,
    )


def cpu_seconds() -> float:
    with open("/proc/stat", encoding="ascii") as f:
        fields = [float(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def run(args: argparse.Namespace, work: Path, server: str, instances: int) -> tuple[float, int, float]:
    from sqlalchemy.engine import make_url

    schema = f"bench_{instances}"
    with admin(server, make_url(server).database) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{server}?options=-csearch_path%3D{schema}"
    ledger = Ledger(url)
    base = work / f"n{instances}"
    write_demo_license(base / "license" / LICENSE_FILE)
    procs: list[subprocess.Popen[bytes]] = []
    with Simulator(
        seed=17 + instances,
        config_document=demo_profiles(base / "out"),
        details_delay_s=0.3,
        recording_delay_s=0.3,
        transcript_delay_s=0.5,
        event_speed=100.0,
        heartbeat_s=5.0,
        rate_limit_allowed=args.budget,
    ) as sim:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CALLEXPORT_")}
        env.update(CALLEXPORT_CLIENT_ID=sim.client_id, CALLEXPORT_CLIENT_SECRET=sim.client_secret)
        for i in range(instances):
            name = f"bench{i + 1}"
            settings = base / f"{name}.toml"
            settings.parent.mkdir(parents=True, exist_ok=True)
            settings.write_text(
                f'[genesys]\napi_url = "{sim.api_url}"\nrequests_per_minute = {args.budget}\nheartbeat_seconds = 5\n'
                f'[service]\nstate_dir = "{(base / name / "state").as_posix()}"\n'
                f'log_dir = "{(base / name / "logs").as_posix()}"\nledger_url = "{url}"\n'
                f'instance_name = "{name}"\nmax_concurrent_exports = 8\ndsp_workers = 1\n'
                "transcript_wait_seconds = 120\nreconcile_interval_seconds = 60\nstatus_interval_seconds = 30\n"
                f'[license]\ndirectory = "{(base / "license").as_posix()}"\nntp_servers = []\n'
            )
            procs.append(
                subprocess.Popen(
                    [sys.executable, "run.py", "service", "--settings", str(settings)],
                    cwd=ROOT,
                    env=env,
                    stdout=(base / f"{name}-console.log").open("ab"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        try:
            deadline = time.monotonic() + 60
            while len(ledger.instances(live_within=30)) < instances and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(3)  # channels subscribed
            injected = 0
            started = time.monotonic()
            window_start = started + args.warmup
            window_end = window_start + args.minutes * 60
            cpu_at_window: float | None = None
            while time.monotonic() < window_end:
                if cpu_at_window is None and time.monotonic() >= window_start:
                    cpu_at_window = cpu_seconds()
                    wall_start = time.time()
                sim.inject_call(
                    kind=KINDS[injected % len(KINDS)],
                    queue_name=QUEUES[injected % len(QUEUES)],
                    duration_s=args.call_seconds,
                )
                injected += 1
                time.sleep(60.0 / args.rate)
            wall_end = time.time()
            busy = (cpu_seconds() - (cpu_at_window or 0.0)) / (args.minutes * 60) / (os.cpu_count() or 1)
            done = [
                j for j in ledger.jobs("done", "failed") if j.done_at and wall_start <= j.done_at <= wall_end
            ]
            per_minute = len(done) / ((wall_end - wall_start) / 60)
            counts: Counter[str] = Counter()
            for req in sim.requests:
                if wall_start <= req.time_s <= wall_end and req.path.startswith("/api/v2/"):
                    parts = ["{id}" if len(p) >= 30 else p for p in req.path.split("/")]
                    counts[f"{req.method} {'/'.join(parts)}{' 429' if req.status == 429 else ''}"] += 1
            total = sum(counts.values())
            print(
                f"  {instances} instance(s): {total} API requests in the window "
                f"({total / max(1, len(done)):.1f} per exported call; "
                f"{total / ((wall_end - wall_start) / 60) / instances:.0f}/min per instance)"
            )
            for key, n in counts.most_common(8):
                print(f"    {n / max(1, len(done)):5.2f}  {key}")
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGINT)
            for proc in procs:
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            ledger.close()
    return per_minute, injected, busy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=int, default=300, help="requests/min of each instance's token")
    parser.add_argument("--minutes", type=float, default=2.0, help="the measured window")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds before the window opens")
    parser.add_argument("--rate", type=float, default=200.0, help="calls injected per minute")
    parser.add_argument("--call-seconds", type=float, default=20.0)
    parser.add_argument("--instances", default="1,2")
    parser.add_argument(
        "--pg", default=os.environ.get("CALLEXPORT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="callexport-instances-"))
    name = f"callexport_bench_{os.getpid()}"
    with admin(args.pg) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    from sqlalchemy.engine import make_url

    server = (
        make_url(args.pg).set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    )
    results: dict[int, float] = {}
    try:
        for n in (int(x) for x in args.instances.split(",")):
            per_minute, injected, busy = run(args, work, server, n)
            results[n] = per_minute
            print(
                f"{n} instance(s) at {args.budget}/min each: {per_minute:.1f} calls exported per minute "
                f"({injected} injected at {args.rate:g}/min; CPUs {busy:.0%} busy in the window)",
                flush=True,
            )
    finally:
        with admin(args.pg) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if 1 in results and 2 in results:
        print(f"2 instances / 1 instance: {results[2] / max(results[1], 1e-9):.2f} (target ≥ 1.8)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
