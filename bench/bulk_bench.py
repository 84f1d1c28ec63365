"""Bulk endpoints: what finding a history and downloading its recordings cost, in API requests and time.

    python bench/bulk_bench.py [--days 7] [--calls-per-day 200] [--recordings 300]

Measures, against the simulator (its history; the batch results in WAV, a trunk recording L16):

* planning the history (calls per second) and generating a past call on demand (ms per call);
* `genesys.bulk.DetailsJobRunner` over the whole history: API requests per conversation found, time;
* `client.query_details_by_ids`: requests per 100 conversations;
* `genesys.bulk.BatchDownloadFetcher` for `--recordings` recordings: API requests per recording
  (submissions and polls; the downloads themselves go to pre-signed URLs outside the API budget),
  time, against the one-by-one path's minimum of 2 requests per conversation (recordings metadata +
  recordings with media URIs).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genesys.bulk import BatchDownloadFetcher, DetailsJobRunner, Ready, run_to_end  # noqa: E402
from genesys.config import ClientConfig  # noqa: E402
from genesys.rest import GenesysClient  # noqa: E402
from simulator.app import Simulator  # noqa: E402

logger = logging.getLogger(__name__)

KINDS = ["inbound_simple", "inbound_hold", "blind_transfer", "consult_transfer", "outbound", "no_recording"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--calls-per-day", type=int, default=200)
    parser.add_argument("--recordings", type=int, default=300)
    parser.add_argument("--duration", type=float, default=60.0, help="call length in seconds")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with Simulator(seed=7) as sim:
        t0 = time.perf_counter()
        sim.history.add(args.days, args.calls_per_day, kinds=KINDS, duration_s=args.duration)
        plan_s = time.perf_counter() - t0
        total = len(sim.history)
        sim.bulk.batch_format_id = "WAV"
        sim.bulk.availability_lag_s = 0.0
        client = GenesysClient(
            ClientConfig(sim.api_url, sim.client_id, sim.client_secret, requests_per_minute=100_000)
        )
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        t0 = time.perf_counter()
        runner = DetailsJobRunner(client, today - timedelta(days=args.days), today)
        found = run_to_end(runner)
        runner_s = time.perf_counter() - t0
        assert isinstance(found.outcome, Ready), found.outcome
        generate_ms = runner_s / max(1, sim.history.generated) * 1000
        ids = [p.conversation_id for p in sim.history.plans()[:500]]
        interval = f"{(today - timedelta(days=args.days)).strftime('%Y-%m-%dT%H:%M:%S.000Z')}/{today.strftime('%Y-%m-%dT%H:%M:%S.000Z')}"
        if args.days > 7:
            interval = f"{(today - timedelta(days=7)).strftime('%Y-%m-%dT%H:%M:%S.000Z')}/{today.strftime('%Y-%m-%dT%H:%M:%S.000Z')}"
        before = client.request_count
        by_ids = client.query_details_by_ids(ids, interval)
        id_requests = client.request_count - before
        pairs = []
        for plan in sim.history.plans():
            truth = sim.history.truth(plan.conversation_id)
            if truth.recording_state == "AVAILABLE":
                pairs += [(truth.conversation_id, rid) for rid in truth.recording_ids]
            if len(pairs) >= args.recordings:
                break
        pairs = pairs[: args.recordings]
        conversations = len({c for c, _ in pairs})
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            fetcher = BatchDownloadFetcher(client, pairs, tmp)
            fetched = run_to_end(fetcher)
            batch_s = time.perf_counter() - t0
        ok = sum(1 for o in fetched.items if o.ok)
        client.close()
    print(f"history: {total} calls planned in {plan_s * 1000:.1f} ms ({total / plan_s:,.0f} calls/s)")
    print(
        f"details job runner: {len(found.items)} conversations in {runner_s:.1f} s, {runner.requests} API requests "
        f"({runner.requests / max(1, len(found.items)):.4f} per conversation; plan {[t['kind'] for t in runner.plan()]}); "
        f"{generate_ms:.1f} ms per call generated on demand"
    )
    print(f"details by ids: {len(by_ids)} of {len(ids)} conversations in {id_requests} requests")
    print(
        f"batch download: {ok}/{len(pairs)} recordings of {conversations} conversations in {batch_s:.1f} s, "
        f"{fetcher.requests} API requests ({fetcher.requests / max(1, len(pairs)):.3f} per recording, "
        f"{fetcher.requests / max(1, conversations):.3f} per conversation; one by one: >= 2 per conversation)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
