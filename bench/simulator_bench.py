"""Simulator throughput: calls generated per second with their events, and media served per
second compared with reading the same file from disk in the same run.

    python bench/simulator_bench.py [--calls 200] [--media-minutes 20]

Targets (issue 2): at least 20 calls/s with events; media served in the same order as disk speed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import random
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import websocket  # noqa: E402

from simulator import documents  # noqa: E402
from simulator.app import Simulator  # noqa: E402

logger = logging.getLogger(__name__)


def bench_generation(sim: Simulator, n: int) -> tuple[float, int]:
    """Generate calls exactly as `inject_call` does (two passes) and render every event body of both
    shapes; returns (calls per second, events rendered)."""
    rng = random.Random(1)
    now_ms = int(time.time() * 1000)
    events = 0
    t0 = time.perf_counter()
    for _ in range(n):
        seed = rng.getrandbits(63)
        probe = sim.generate(end_ms=now_ms, seed=seed)
        call = sim.generate(end_ms=now_ms + (probe.last_event_ms() - probe.end_ms), seed=seed)
        for at_ms in documents.event_instants(call, random.Random(seed)):
            for shape in ("conversations", "calls"):
                json.dumps(documents.queue_event_body(call, sim.org, at_ms, shape))
                events += 1
    return n / (time.perf_counter() - t0), events


def bench_end_to_end(sim: Simulator, n: int) -> tuple[float, int]:
    """Inject calls into the running simulator with a subscribed WebSocket client; returns
    (calls per second until every event of every call was received, events received)."""
    tok = requests.post(
        f"{sim.login_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(sim.client_id, sim.client_secret),
        timeout=10,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {tok}"}
    ch = requests.post(f"{sim.api_url}/api/v2/notifications/channels", headers=headers, timeout=10).json()
    topics = [
        {"id": f"v2.routing.queues.{q.id}.conversations{s}"} for q in sim.org.queues for s in ("", ".calls")
    ]
    requests.put(
        f"{sim.api_url}/api/v2/notifications/channels/{ch['id']}/subscriptions",
        headers=headers,
        json=topics,
        timeout=10,
    ).raise_for_status()
    ws = websocket.create_connection(ch["connectUri"], timeout=60)
    counter = {"events": 0}

    def read() -> None:
        try:
            while True:
                if json.loads(ws.recv())["topicName"].startswith("v2.routing"):
                    counter["events"] += 1
        except Exception:
            return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    t0 = time.perf_counter()
    calls = [sim.inject_call() for _ in range(n)]
    for c in calls:
        sim.wait_until_published(c.conversation_id, 120)
    expected = sum(2 * sum(sim.live(c.conversation_id).queue_snapshots.values()) for c in calls)
    deadline = time.time() + 120
    while counter["events"] < expected and time.time() < deadline:
        time.sleep(0.005)
    elapsed = time.perf_counter() - t0
    ws.close()
    return n / elapsed, counter["events"]


def bench_media(sim: Simulator, minutes: float, rounds: int) -> tuple[float, float, int]:
    """(HTTP MB/s, disk MB/s, bytes) for one long WAV recording served `rounds` times."""
    call = sim.inject_call(kind="inbound_simple", queue_name="Sales", duration_s=minutes * 60, ended_ago_s=60)
    rec = call.recordings[0]
    tok = requests.post(
        f"{sim.login_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(sim.client_id, sim.client_secret),
        timeout=10,
    ).json()["access_token"]
    url = f"{sim.api_url}/api/v2/conversations/{call.conversation_id}/recordings/{rec.recording_id}"
    t_enc = time.perf_counter()
    doc = requests.get(
        url,
        params={"formatId": "WAV", "maxWaitMs": 10000},
        headers={"Authorization": f"Bearer {tok}"},
        timeout=600,
    )
    while doc.status_code == 202:
        doc = requests.get(
            url,
            params={"formatId": "WAV", "maxWaitMs": 10000},
            headers={"Authorization": f"Bearer {tok}"},
            timeout=600,
        )
    media_uri = doc.json()["mediaUris"]["S"]["mediaUri"]
    path = sim.media.request(call, rec, "WAV").result(timeout=600)
    print(f"  (encoding the {minutes:.0f}-minute WAV once took {time.perf_counter() - t_enc:.1f} s)")
    size = path.stat().st_size
    chunk = 1 << 20

    buf = memoryview(bytearray(chunk))
    split = urlsplit(media_uri)

    def read_disk() -> int:
        total = 0
        with path.open("rb", buffering=0) as fh:
            while n := fh.readinto(buf):
                total += n
        return total

    def read_http() -> int:
        conn = http.client.HTTPConnection(split.hostname, split.port, timeout=60)
        conn.request("GET", f"{split.path}?{split.query}")
        resp = conn.getresponse()
        assert resp.status == 200, resp.status
        total = 0
        while n := resp.readinto(buf):
            total += n
        conn.close()
        return total

    read_disk()  # warm the page cache so both readers see the same cached file
    disk_s, http_s = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        assert read_disk() == size
        disk_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        assert read_http() == size
        http_s.append(time.perf_counter() - t)
    mb = size / 1e6
    return mb / min(http_s), mb / min(disk_s), size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="calls for the generation benchmark")
    parser.add_argument("--media-minutes", type=float, default=20.0, help="length of the served recording")
    parser.add_argument("--rounds", type=int, default=5, help="download rounds (best is reported)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with Simulator(
        seed=1, event_speed=100_000, details_delay_s=0, recording_delay_s=0, transcript_delay_s=0
    ) as sim:
        rate, events = bench_generation(sim, args.calls)
        print(
            f"generation: {rate:.1f} calls/s with events ({events} event bodies rendered for "
            f"{args.calls} calls; target >= 20 calls/s) -> {'OK' if rate >= 20 else 'BELOW TARGET'}"
        )
        e2e, received = bench_end_to_end(sim, args.calls // 2)
        print(
            f"end to end: {e2e:.1f} calls/s injected, published and received over the WebSocket "
            f"({received} events)"
        )
        served, disk, size = bench_media(sim, args.media_minutes, args.rounds)
        ratio = served / disk
        print(
            f"media: {size / 1e6:.1f} MB WAV served at {served:.0f} MB/s over HTTP vs {disk:.0f} MB/s "
            f"reading the same file from disk (ratio {ratio:.2f}; target: same order of magnitude) -> "
            f"{'OK' if ratio >= 0.1 else 'BELOW TARGET'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
