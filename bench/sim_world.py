"""Benchmark of the simulator's world: call generation with documents and events, audio, encoding.

    python bench/sim_world.py [--calls N] [--long-minutes M]

Prints calls/second for generating calls *including* every document (analytics details,
conversation, both queue event shapes at every published instant, recordings, transcript), the
render speed of a long call (x real time) and the encode speed per formatId for it.
Target (issue 2): at least 20 calls/s with events; a 2-hour recording renders in a few seconds.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator import documents  # noqa: E402
from simulator.audio_synth import RecordingRenderer  # noqa: E402
from simulator.media import FORMAT_IDS, encode_recording  # noqa: E402
from simulator.org import default_org  # noqa: E402
from simulator.scenarios import generate_call  # noqa: E402

END_MS = 1_774_362_622_123


def bench_generation(n: int) -> None:
    org = default_org(0)
    rng = random.Random(0)
    events = 0
    t0 = time.perf_counter()
    gen_only = 0.0
    for i in range(n):
        g0 = time.perf_counter()
        call = generate_call(org, rng, end_ms=END_MS + i * 1000)
        gen_only += time.perf_counter() - g0
        documents.analytics_details(call, org)
        documents.conversation(call, org)
        for at in documents.event_instants(call, rng):
            for shape in documents.SHAPES:
                documents.queue_event_body(call, org, at, shape)
                events += 1
        for rec in call.recordings:
            documents.recording_metadata(call, rec, org)
            documents.recording(call, rec, org, format_id="WAV", media_uris={"S": "http://127.0.0.1/x"})
        for cid in documents.transcript_communication_ids(call):
            documents.transcript_document(call, org, cid)
    elapsed = time.perf_counter() - t0
    print(
        f"generation: {n} calls in {elapsed:.2f} s = {n / elapsed:.1f} calls/s with documents and {events} event bodies "
        f"({n / gen_only:.0f} calls/s truth only); target >= 20 calls/s"
    )


def bench_audio(minutes: float) -> None:
    org = default_org(0)
    call = generate_call(org, random.Random(1), end_ms=END_MS, kind="long", duration_s=minutes * 60)
    rec = call.recordings[0]
    renderer = RecordingRenderer(call, rec)
    t0 = time.perf_counter()
    for _ in renderer.iter_blocks(80_000):
        pass
    elapsed = time.perf_counter() - t0
    media_s = rec.media_duration_ms / 1000
    print(
        f"render: {media_s / 60:.1f} min dual-channel 8 kHz in {elapsed:.2f} s = {media_s / elapsed:.0f}x real time"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in FORMAT_IDS:
            t0 = time.perf_counter()
            path = encode_recording(call, rec, fmt, Path(tmp))
            elapsed = time.perf_counter() - t0
            print(
                f"encode {fmt:<10} {elapsed:6.2f} s = {media_s / elapsed:5.0f}x real time, {path.stat().st_size / 1e6:6.1f} MB"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--long-minutes", type=float, default=120.0)
    args = parser.parse_args()
    bench_generation(args.calls)
    bench_audio(args.long_minutes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
