"""Backfill: API requests per backfilled call and calls exported per minute at the org's budget.

    python bench/backfill_bench.py [--calls 2000] [--days 7] [--call-seconds 180] [--budget 300]
                                   [--writeback attributes|full] [--dsp-workers 1]

Against the simulator's history (`--calls` three-minute calls over `--days` days, one queue, no
recording archived or deleted by hand; the org's retention policies still apply), `run.py backfill`
with one WAV profile runs in this process, exactly as an operator runs it (settings file,
credentials from the environment, its own limiter at `[backfill] budget_share` of `--budget`; the
simulator enforces `--budget` per minute like Genesys Cloud). Requests are counted by the simulator
per path (`/api/v2/...` only: what Genesys counts against the budget; media downloads go to
pre-signed URLs), as `bench/budget_bench.py` counts them.

Reports: requests per backfilled call (target ≤ 2.0) and per endpoint, calls per minute overall and
after the first minute (the limiter's window lets the first minute's budget go at once).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from service_harness import document, profile  # noqa: E402

from backfill import cli  # noqa: E402
from ledger import Ledger  # noqa: E402
from licensing.demo import write_demo_license  # noqa: E402
from service.license_check import LICENSE_FILE  # noqa: E402
from simulator.app import Simulator  # noqa: E402

logger = logging.getLogger("bench.backfill")


def endpoint_counts(sim: Simulator, since_s: float) -> Counter[str]:
    counts: Counter[str] = Counter()
    for req in sim.requests:
        if req.time_s < since_s or not req.path.startswith("/api/v2/"):
            continue
        key = "/".join("{id}" if len(p) >= 30 else p for p in req.path.split("/"))
        counts[f"{req.method} {key}"] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--call-seconds", type=float, default=180.0)
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--writeback", choices=("attributes", "full"), default="attributes")
    parser.add_argument("--dsp-workers", type=int, default=1)
    parser.add_argument(
        "--downloads", choices=("batch", "one-by-one"), default="batch", help="[backfill] downloads"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    per_day = -(-args.calls // args.days)
    with tempfile.TemporaryDirectory(prefix="backfill-bench-") as tmp:
        work = Path(tmp)
        doc = document(
            profile(
                "Archive",
                work / "out",
                Queues=["Sales"],
                AudioFormat="WAV",
                ProcessingDelaySeconds=0,
                TranscriptExportEnabled=False,
                AudioFileTemplate="{Conversation.Id}_{Recording.Id}.{FileExtension}",
            )
        )
        with Simulator(
            seed=77,
            config_document=doc,
            details_delay_s=0.0,
            recording_delay_s=0.0,
            rate_limit_allowed=args.budget,
        ) as sim:
            sim.history.add(
                args.days,
                per_day,
                kinds=["inbound_simple"],
                queue_names=["Sales"],
                duration_s=args.call_seconds,
                archived_fraction=0.0,
                deleted_fraction=0.0,
            )
            sim.bulk.jobs_queued_s, sim.bulk.jobs_run_s = 0.5, 2.0
            write_demo_license(work / "license" / LICENSE_FILE)
            settings = work / "callexport.toml"
            settings.write_text(
                f'[genesys]\napi_url = "{sim.api_url}"\nrequests_per_minute = {args.budget}\n'
                f'[service]\nstate_dir = "{(work / "state").as_posix()}"\nlog_dir = "{(work / "logs").as_posix()}"\n'
                f"dsp_workers = {args.dsp_workers}\n"
                f'[backfill]\nwriteback = "{args.writeback}"\ndownloads = "{args.downloads}"\n'
                f'[license]\ndirectory = "{(work / "license").as_posix()}"\nntp_servers = []\n'
            )
            os.environ["CALLEXPORT_CLIENT_ID"] = sim.client_id
            os.environ["CALLEXPORT_CLIENT_SECRET"] = sim.client_secret
            today = datetime.now(UTC).date()
            cli_args = argparse.ArgumentParser()
            cli.add_arguments(cli_args)
            parsed = cli_args.parse_args(
                [
                    "--from",
                    str(today - timedelta(days=args.days)),
                    "--to",
                    str(today - timedelta(days=1)),
                    "--settings",
                    str(settings),
                ]
            )
            since = time.time()
            started = time.monotonic()
            code = cli.main(parsed)
            elapsed = time.monotonic() - started
            counts = endpoint_counts(sim, since)
            ledger = Ledger(work / "state" / "ledger.sqlite3")
            try:
                jobs = [j for j in ledger.jobs() if j.source == "backfill"]
                exported = [
                    j
                    for j in jobs
                    if ledger.profile_status(j.conversation_id, "Archive", "audio") == "exported"
                ]
                done_at = sorted(j.done_at for j in exported if j.done_at)
            finally:
                ledger.close()
    total = sum(counts.values())
    n = max(1, len(jobs))
    print(
        f"\nBackfill of {len(sim.history)} planned calls ({args.call_seconds:.0f} s, one WAV profile), budget "
        f"{args.budget}/min, write-back {args.writeback}, downloads {args.downloads}: exit {code}, {len(jobs)} backfill job(s), "
        f"{len(exported)} exported in {elapsed:.0f} s"
    )
    print(f"  {total / n:.3f} API requests per backfilled call ({total} requests)")
    for key, count in counts.most_common():
        print(f"    {count / n:6.3f}  {count:6d}  {key}")
    if done_at:
        minutes = elapsed / 60
        print(f"  {len(exported) / minutes:.1f} calls exported per minute overall (process start to exit)")
        first = done_at[0]
        late = [t for t in done_at if t >= first + 60]
        if len(late) > 1:
            rate = (len(late) - 1) / ((late[-1] - late[0]) / 60)
            print(f"  {rate:.1f} calls per minute after the first minute (the limiter's steady state)")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
