"""Channel-layout detection on simulated calls: what it decides, from which evidence, and what it costs.

    .venv/bin/python bench/channel_layout_bench.py [--seeds 3] [--duration 60]

For every call kind with a dual-channel trunk recording, a few seeds and the three layouts the simulator
produces (`standard`, `swapped`, `mixed`), it renders the recording, runs `audio.channel_detect.detect`
on the analytics details alone, and prints the decision, the busy fractions of each channel during the
IVR/queue/hold audio, the leak figures and the detection time. A correct run decides `standard` and
`swapped` wherever such audio is in the media, never decides a `mixed` recording, and never decides
wrong.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audio.channel_detect import Activity, agent_talk_spans, detect  # noqa: E402
from audio.decode import open_source  # noqa: E402
from audio.segments import media_clock  # noqa: E402
from simulator import documents  # noqa: E402
from simulator.audio_synth import render_recording  # noqa: E402
from simulator.org import default_org  # noqa: E402
from simulator.recording_variants import with_channel_layout  # noqa: E402
from simulator.scenarios import generate_call  # noqa: E402

logger = logging.getLogger(__name__)

KINDS = (
    "inbound_simple",
    "inbound_hold",
    "outbound",
    "blind_transfer",
    "conference",
    "consult_transfer",
    "multi_recording",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=60.0)
    args = parser.parse_args()
    org = default_org()
    tmp = Path(tempfile.mkdtemp(prefix="channel-bench-"))
    wrong = 0
    counts = {"decided": 0, "refused": 0}
    for kind in KINDS:
        for seed in range(args.seeds):
            base = generate_call(
                org,
                random.Random(f"c{seed}{kind}"),
                end_ms=1_781_000_000_000,
                kind=kind,
                duration_s=args.duration,
            )
            for layout in ("standard", "swapped", "mixed"):
                call = with_channel_layout(base, layout)
                rec = call.recordings[0]
                path = tmp / f"{kind}{seed}{layout}.wav"
                sf.write(path, render_recording(call, rec, 8000), 8000, subtype="PCM_16")
                recording = documents.recording(call, rec, org, format_id="WAV", media_uris=None)
                details = json.loads(json.dumps(documents.analytics_details(call, org)))
                clock = media_clock(recording)
                started = time.perf_counter()
                activity = Activity.of(open_source(path, tmp))
                found = detect(activity, details, clock)
                took = time.perf_counter() - started
                talk = agent_talk_spans(details, clock)
                leak = (activity.leak(0, 1, talk), activity.leak(1, 0, talk))
                want = {"standard": ("external", "internal"), "swapped": ("internal", "external")}.get(layout)
                if found.sides is not None and found.sides != want:
                    wrong += 1
                counts["decided" if found.sides else "refused"] += 1
                leaks = "/".join("-" if x is None else f"{x:.2f}" for x in leak)
                print(
                    f"{kind:16} {seed} {layout:8} {str(found.sides):28} leak {leaks:9} {took * 1000:5.0f} ms | {found.describe()}"
                )
    print(f"\n{counts['decided']} decided, {counts['refused']} refused, {wrong} decided wrong")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
